// `npm start`: build, then open the desktop app where Electron's binary is installed. Where it is
// not (it cannot be downloaded on some machines), say so in one line and check the host instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const run = (cmd, args) => {
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

run('npm', ['run', '--silent', 'build']);

let electronBinary;
try {
  electronBinary = createRequire(import.meta.url)('electron');
} catch {
  electronBinary = undefined;
}
if (typeof electronBinary === 'string') {
  run('npx', ['electron-vite', 'preview']);
} else {
  console.log("Electron's binary is not installed on this machine, so no desktop window; checking the host instead (web mode comes with xend):");
  try {
    execFileSync(process.execPath, ['out/engine/cli/dom0-doctor.js'], { stdio: 'inherit' });
  } catch {
    process.exit(1);
  }
}
