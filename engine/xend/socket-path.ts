// Where xend listens, apart from the daemon: clients (xm, `xend status`) import this without
// loading the daemon's module graph.

import { join } from 'node:path';
import type { Dom0Paths } from '../common/paths.js';

export function xendSocketPath(paths: Dom0Paths): string {
  return join(paths.runtimeDir, 'xend.sock');
}
