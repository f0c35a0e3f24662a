// `npm start`: build, then open the desktop app where Electron's binary is installed. Where it is
// not (it cannot be downloaded on some machines), say so in one line and start web mode instead:
// xend serves the same GUI to a browser and prints the URL to open.
import { spawnSync } from 'node:child_process';
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
  const listen = process.env.DOM0_WEB ?? '127.0.0.1:8800';
  console.log(`Electron's binary is not installed here, so no desktop window: starting web mode on ${listen} instead (open the "Web UI:" URL below; Ctrl+C stops xend, domains keep running).`);
  run(process.execPath, ['out/engine/cli/xend.js', '--web', listen]);
}
