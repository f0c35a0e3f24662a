#!/usr/bin/env node
// Bundles every command-line entry (engine/cli/*.ts: xm, virt-install, xend, xenstored,
// xenstore-*, dom0-doctor) into one file each, out/engine/cli/<name>.js, where package.json's
// `bin` map and the integration tests find them. One file means Node reads and compiles one
// module instead of resolving dozens; `import()` inside the sources stays lazy (the bundler wraps
// the imported modules in init functions that run on first use), so a subcommand only evaluates
// what it needs.
//
// The bundler is rolldown, the one vite 8 already uses for the renderer: one bundler and one
// native binary for the whole repository. It reads TypeScript directly, so the bins do not depend
// on tsc's per-module output (which `build:engine` still emits, for type errors and source maps).

import { readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = join(root, 'engine/cli');
const outDir = join(root, 'out/engine/cli');

// Native addons and the optional native helpers of ws cannot be bundled; ws falls back to JS.
const external = [
  ...builtinModules,
  /^node:/,
  'node-pty',
  'bufferutil',
  'utf-8-validate',
  'electron',
];

// Node ≥ 22.1 keeps compiled code between runs; the banner turns it on before the bundle's body
// runs. Everything in the file is compiled once per process anyway, so the cache is what brings
// a repeated `xm list` towards `node -e 0`. (Electron's utility process has it too.)

const entries = readdirSync(cliDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
const started = Date.now();
for (const file of entries) {
  const name = file.replace(/\.ts$/, '');
  await build({
    input: join(cliDir, file),
    platform: 'node',
    external,
    logLevel: 'warn',
    output: {
      file: join(outDir, `${name}.js`),
      format: 'esm',
      // One file per bin; dynamic imports stay lazy inside it.
      codeSplitting: false,
      sourcemap: true,
      minify: false,
    },
  });
}
console.log(`build-cli: ${entries.length} bundled commands in out/engine/cli (${Date.now() - started} ms)`);
