// The one test for a path a client or a config hands the engine: absolute (so it is never taken
// relative to the daemon's cwd, nor as a protocol prefix such as `nbd:` or `json:`) and free of
// control characters (a newline would break logs, configs and xenstore lines).

import { isAbsolute } from 'node:path';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function hasControlCharacter(s: string): boolean {
  return CONTROL.test(s);
}

export function isSafeAbsolutePath(path: string): boolean {
  return isAbsolute(path) && !CONTROL.test(path);
}
