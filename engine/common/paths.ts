// Where Dom0 keeps its state (Xen's layout, relocatable). DOM0_HOME moves config, data and
// runtime dirs together, so tests and several engines on one machine never collide.

import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface Dom0Paths {
  /** xm-format domain definitions and xend.conf. */
  configDir: string;
  /** images/, save/, dump/, backups/, the xenstore journal, logs. */
  dataDir: string;
  /** Sockets and pid files of running domains; short-lived. */
  runtimeDir: string;
  domainConfigDir: string;
  imagesDir: string;
  dumpDir: string;
  logDir: string;
  /** `<runtime>/domains/<name>`: qmp.sock vnc.sock serial.sock serial.log qemu.pid domain.json. */
  domainRuntimeDir(name: string): string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): Dom0Paths {
  const home = env.DOM0_HOME;
  let configDir: string;
  let dataDir: string;
  let runtimeDir: string;
  if (home) {
    configDir = join(home, 'config');
    dataDir = join(home, 'data');
    runtimeDir = join(home, 'run');
  } else {
    const userHome = env.HOME ?? homedir();
    configDir = join(env.XDG_CONFIG_HOME ?? join(userHome, '.config'), 'dom0');
    dataDir = join(env.XDG_DATA_HOME ?? join(userHome, '.local', 'share'), 'dom0');
    runtimeDir = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'dom0') : join('/tmp', `dom0-${userInfo().uid}`);
  }
  // Each dir can also be set on its own: how xend hands its exact dirs to the xenstored it starts.
  configDir = env.DOM0_CONFIG_DIR || configDir;
  dataDir = env.DOM0_DATA_DIR || dataDir;
  runtimeDir = env.DOM0_RUNTIME_DIR || runtimeDir;
  return {
    configDir,
    dataDir,
    runtimeDir,
    domainConfigDir: join(configDir, 'domains'),
    imagesDir: join(dataDir, 'images'),
    dumpDir: join(dataDir, 'dump'),
    logDir: join(dataDir, 'log'),
    domainRuntimeDir: (name) => join(runtimeDir, 'domains', name),
  };
}
