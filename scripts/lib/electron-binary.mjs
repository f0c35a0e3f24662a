// @ts-check
// Electron's binary, found without require('electron'): that module downloads the binary on first
// use and, where the download fails, prints the downloader's stack trace and throws.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The electron package's directory, or undefined when it is not installed. */
function electronPackageDir() {
  try {
    return dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return undefined;
  }
}

/** The installed binary's path, or undefined. */
export function installedElectron() {
  const pkg = electronPackageDir();
  if (!pkg) return undefined;
  try {
    const binary = join(pkg, 'dist', readFileSync(join(pkg, 'path.txt'), 'utf8').trim());
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The binary, downloaded now if it is missing (electron@45 fetches it lazily, not at npm install).
 * Returns `{ reason }` in one line when there is none: the user sees that line, not a stack trace.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {{ binary: string } | { reason: string }}
 */
export function electronBinary(env = process.env) {
  const found = installedElectron();
  if (found) return { binary: found };
  const pkg = electronPackageDir();
  if (!pkg) return { reason: "the electron package is not installed (npm install installs it)" };
  if (env.ELECTRON_SKIP_BINARY_DOWNLOAD) return { reason: "Electron's binary is not installed and ELECTRON_SKIP_BINARY_DOWNLOAD is set" };
  // A progress note on a terminal, wiped afterwards: the outcome is then one line either way.
  const tty = process.stdout.isTTY;
  if (tty) process.stdout.write("Downloading Electron's binary...");
  const result = spawnSync(process.execPath, [join(pkg, 'install.js')], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10 * 60_000 });
  if (tty) process.stdout.write('\r\x1b[K');
  const again = installedElectron();
  if (again) return { binary: again };
  // The downloader prints a stack: its first line is the reason ("TypeError: fetch failed").
  const why = `${result.stderr}`.split('\n').find((line) => line.trim() && !line.trim().startsWith('at ')) ?? `exit ${result.status ?? result.signal}`;
  return { reason: `Electron's binary could not be downloaded (${why.trim()})` };
}
