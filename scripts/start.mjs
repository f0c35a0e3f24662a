// @ts-check
// `npm start`: make sure the host has what the app needs (QEMU...), build, then open the desktop app
// where Electron's binary is installed. Where it is not (it cannot be downloaded on some machines),
// say why in one line and start web mode instead: xend serves the same GUI to a browser and prints
// the URL to open.
import { spawnSync } from 'node:child_process';
import { electronBinary } from './lib/electron-binary.mjs';

/** @param {string} cmd @param {string[]} args */
const run = (cmd, args) => {
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

run(process.execPath, ['scripts/host-deps.mjs', 'app']);
run('npm', ['run', '--silent', 'build']);

const electron = electronBinary();
if ('binary' in electron) {
  run('npx', ['electron-vite', 'preview']);
} else {
  const listen = process.env.DOM0_WEB ?? '127.0.0.1:8800';
  console.log(`${electron.reason}, so no desktop window: starting web mode on ${listen} instead (open the "Web UI:" URL below; Ctrl+C stops xend, domains keep running).`);
  run(process.execPath, ['out/engine/cli/xend.js', '--web', listen]);
}
