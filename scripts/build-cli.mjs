#!/usr/bin/env node
// Bundles every command-line entry (engine/cli/*.ts: xm, virt-install, xend, xenstored,
// xenstore-*, dom0-doctor) into one file each, out/engine/cli/<name>.bundle.js, behind a
// five-line launcher out/engine/cli/<name>.js (where package.json's `bin` map, the desktop app
// and the tests find it). One file means Node reads and compiles one module instead of resolving
// dozens; `import()` inside the sources stays lazy (rolldown wraps the imported modules in init
// functions that run on first use), so a subcommand only evaluates what it needs.
//
// The launcher turns on Node's compile cache (Node ≥ 22.1, and Electron's utility process) before
// the bundle is loaded, so later runs skip compiling it; on older Node it is a no-op.
//
// The bundler is rolldown, the one vite 8 already uses for the renderer: one bundler and one
// native binary for the whole repository. It reads TypeScript directly, so the bins do not depend
// on tsc's per-module output (which `build:engine` still emits, for type errors and source maps).

import { readdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = join(root, 'engine/cli');
const outDir = join(root, 'out/engine/cli');

// Native addons (node-pty, ssh2's crypto and cpu-features) and the optional native helpers of ws
// cannot be bundled; ws falls back to JS, ssh2 is loaded from node_modules.
const external = [...builtinModules, /^node:/, /^@lydell\/node-pty/, 'node-pty', 'ssh2', 'cpu-features', 'bufferutil', 'utf-8-validate', 'electron'];

// ws is CommonJS without a `sideEffects` field, so the bundler would keep (and run) it in every
// bin that reaches a module importing it, even where nothing uses it (xm's graph touches the web
// server's module). Loading it has no side effects: let unused imports of it go.
const sideEffectFree = /[\\/]node_modules[\\/]ws[\\/]/;

/** @param {string} name */
const launcher = (name) => `#!/usr/bin/env node
// Built by scripts/build-cli.mjs: turn on Node's compile cache where it exists, then run the bundle.
import module from 'node:module';
module.enableCompileCache?.();
await import('./${name}.bundle.js');
`;

const entries = readdirSync(cliDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
const started = Date.now();
for (const file of entries) {
  const name = file.replace(/\.ts$/, '');
  await build({
    input: join(cliDir, file),
    platform: 'node',
    external,
    logLevel: 'warn',
    // Anything else: what its package.json says (zod declares itself free of side effects).
    treeshake: { moduleSideEffects: (id) => (sideEffectFree.test(id) ? false : undefined) },
    output: {
      file: join(outDir, `${name}.bundle.js`),
      format: 'esm',
      // One file per bin; dynamic imports stay lazy inside it.
      codeSplitting: false,
      sourcemap: true,
    },
  });
  writeFileSync(join(outDir, `${name}.js`), launcher(name));
}
console.log(`build-cli: ${entries.length} commands bundled in out/engine/cli (${Date.now() - started} ms)`);
