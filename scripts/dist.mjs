#!/usr/bin/env node
// @ts-check
// `npm run dist`: the packages a person installs.
//   dist/dom0_<version>_amd64.deb   the engine, the CLIs, the web GUI and the `dom0` launcher
//                                   (built with dpkg-deb; Debian's tools, no Electron needed)
//   dist/electron/                  electron-builder's AppImage and .deb of the desktop app, where
//                                   Electron's binary is available (otherwise: says why, skips)
// Options: --skip-build (use out/ as it is), --deb-only, --out DIR (default dist/).
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { installedElectron } from './lib/electron-binary.mjs';
import { manPage, markdownSection, markdownToRoff, preformatted } from './lib/manpage.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const OUT = args.includes('--out') ? resolve(args[args.indexOf('--out') + 1] ?? 'dist') : join(ROOT, 'dist');
/** A state dir for the bins run for their --help (some resolve their dirs at start). */
const HELP_HOME = mkdtempSync(join(tmpdir(), 'dom0-dist-'));
const LIB = '/usr/lib/dom0';

/** Who built the package: DEBFULLNAME/DEBEMAIL as for dch(1), else git's user. */
function maintainer() {
  const git = (/** @type {string} */ key) => spawnSync('git', ['config', key], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim();
  const name = process.env.DEBFULLNAME || git('user.name');
  const email = process.env.DEBEMAIL || git('user.email');
  if (!name || !email) throw new Error('dist: set DEBFULLNAME and DEBEMAIL (or git config user.name/user.email): the package names its maintainer');
  return `${name} <${email}>`;
}
/** @type {{ name: string, version: string, description: string, bin: Record<string, string>, dependencies: Record<string, string> }} */
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** @param {string} cmd @param {string[]} args @param {import('node:child_process').SpawnSyncOptions} [opts] */
function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  return result;
}

/** What a built bin prints for --help (stdout), or undefined when it has no usage text. */
async function helpOf(/** @type {string} */ entry, /** @type {string[]} */ args = ['--help']) {
  const key = [entry, ...args].join(' ');
  let text = helpCache.get(key);
  if (!text) {
    text = pool(() => new Promise((resolve) => {
      execFile(process.execPath, [join(ROOT, entry), ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, DOM0_HOME: HELP_HOME } }, (err, stdout) =>
        resolve(!err && /^usage:/i.test(stdout.trim()) ? stdout : undefined));
    }));
    helpCache.set(key, text);
  }
  return text;
}
/** @type {Map<string, Promise<string | undefined>>} */
const helpCache = new Map();
/** Runs at most 4 bins at once: each is a Node start-up, and they are many (one per xm command). */
const pool = (() => {
  let running = 0;
  /** @type {Array<() => void>} */
  const waiting = [];
  /** @template T @param {() => Promise<T>} job @returns {Promise<T>} */
  return async (job) => {
    if (running >= 4) await new Promise((resolve) => waiting.push(() => resolve(undefined)));
    running++;
    try {
      return await job();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
})();

/** The npm packages the built engine imports at run time, with their dependencies. */
function runtimeModules() {
  /** @type {Set<string>} */
  const wanted = new Set();
  const walk = (/** @type {string} */ dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/^\s*(?:(?:import|export)\b[^'";]*?\bfrom\s*|import\s*|.*\bimport\(\s*)['"]([^'"\n]+)['"]/gm)) {
          const spec = m[1] ?? '';
          if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
          wanted.add(spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/'));
        }
      }
    }
  };
  walk(join(ROOT, 'out/engine'));
  const queue = [...wanted];
  while (queue.length) {
    const name = /** @type {string} */ (queue.pop());
    const manifest = join(ROOT, 'node_modules', name, 'package.json');
    if (!existsSync(manifest)) throw new Error(`the engine imports ${name}, which is not in node_modules: run npm install`);
    for (const dep of Object.keys(JSON.parse(readFileSync(manifest, 'utf8')).dependencies ?? {})) {
      if (wanted.has(dep)) continue;
      wanted.add(dep);
      queue.push(dep);
    }
  }
  return [...wanted].sort();
}

async function manPages() {
  const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Date.now() / 1000) * 1000).toISOString().slice(0, 10);
  const version = pkg.version;
  /** @type {Array<{ file: string, text: string }>} */
  const pages = [];
  const xmHelp = await helpOf(pkg.bin.xm ?? '', ['help']);
  if (!xmHelp) throw new Error('xm help printed no usage: is out/ built?');
  const commands = [...xmHelp.matchAll(/^ {2}(\S+) {2,}/gm)].map((m) => m[1] ?? '');
  // Start every help text at once (the pool bounds them), then assemble in order.
  const commandHelp = await Promise.all(commands.map((c) => helpOf(pkg.bin.xm ?? '', ['help', c])));
  const binHelp = new Map(await Promise.all(Object.entries(pkg.bin).map(async ([name, entry]) => /** @type {const} */ ([name, await helpOf(entry)]))));
  const createHelp = await helpOf(pkg.bin.xm ?? '', ['help', 'create']);
  pages.push({
    file: 'man1/xm.1',
    text: manPage({
      name: 'xm', section: 1, summary: "Dom0's domain management (Xen's xm)", version, date,
      sections: [
        { heading: 'Synopsis', roff: preformatted(xmHelp.split('\n')[0] ?? '') },
        { heading: 'Description', roff: preformatted(xmHelp.split('\n').slice(1).join('\n').trim()) },
        { heading: 'Subcommands', roff: commands.map((c, i) => `.SS ${c}\n${preformatted(commandHelp[i] ?? '')}`).join('\n') },
        { heading: 'See also', roff: '.BR xmdomain.cfg (5),\n.BR xend (1),\n.BR virt\\-install (1)' },
      ],
    }),
  });
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  pages.push({
    file: 'man5/xmdomain.cfg.5',
    text: manPage({
      name: 'xmdomain.cfg', section: 5, summary: 'xm domain config files', version, date,
      sections: [
        { heading: 'Description', roff: `.PP\nA domain is described by a file of \\fBkey = value\\fR lines in Python syntax, as Xen's xm read them; \\fBxm create\\fR starts one, \\fBxm new\\fR keeps it in \\fI<config>/domains/\\fR.\n${preformatted(createHelp ?? '')}` },
        { heading: 'Settings', roff: markdownToRoff(markdownSection(readme, '### How a config maps to QEMU')) },
        { heading: 'See also', roff: '.BR xm (1),\n.BR virt\\-install (1)' },
      ],
    }),
  });
  // Every other bin with a usage text gets a page of it (virt-install(1), xend(1), xenstore-*...).
  for (const name of Object.keys(pkg.bin)) {
    if (name === 'xm') continue;
    const help = binHelp.get(name);
    if (!help) continue;
    const [synopsis = '', ...rest] = help.trim().split('\n');
    // NAME's summary: the first sentence of the first paragraph after the usage line.
    const paragraph = rest.join('\n').trim().split(/\n\s*\n/)[0]?.replace(/\s+/g, ' ') ?? name;
    const summary = paragraph.split(/\.(?:\s|$)/)[0] ?? name;
    pages.push({
      file: `man1/${name}.1`,
      text: manPage({ name, section: 1, summary, version, date, sections: [{ heading: 'Synopsis', roff: preformatted(synopsis) }, { heading: 'Description', roff: preformatted(rest.join('\n').trim()) }, { heading: 'See also', roff: '.BR xm (1),\n.BR xmdomain.cfg (5)' }] }),
    });
  }
  return pages;
}

async function buildDeb() {
  const version = pkg.version;
  const stage = join(OUT, `dom0_${version}_amd64`);
  rmSync(stage, { recursive: true, force: true });
  const at = (/** @type {string} */ path) => join(stage, path);
  const lib = at(LIB);
  // The engine and the renderer, as built; source maps stay in the checkout.
  mkdirSync(join(lib, 'out'), { recursive: true });
  for (const part of ['engine', 'renderer']) cpSync(join(ROOT, 'out', part), join(lib, 'out', part), { recursive: true, filter: (src) => !src.endsWith('.map') });
  for (const name of runtimeModules()) cpSync(join(ROOT, 'node_modules', name), join(lib, 'node_modules', name), { recursive: true, filter: (src) => !/\.(map|d\.ts|d\.cts|d\.mts)$/.test(src) });
  writeFileSync(join(lib, 'package.json'), `${JSON.stringify({ name: pkg.name, version, description: pkg.description, license: 'MIT', type: 'module', bin: pkg.bin }, null, 2)}\n`);
  // The bins, from package.json's bin map (whatever layout the build gives them).
  mkdirSync(at('usr/bin'), { recursive: true });
  for (const [name, entry] of Object.entries(pkg.bin)) {
    const target = join(lib, entry);
    if (!existsSync(target)) throw new Error(`bin ${name}: ${entry} was not built`);
    chmodSync(target, 0o755);
    symlinkSync(relative(at('usr/bin'), target), at(`usr/bin/${name}`));
  }
  for (const { file, text } of await manPages()) {
    mkdirSync(dirname(at(`usr/share/man/${file}.gz`)), { recursive: true });
    writeFileSync(at(`usr/share/man/${file}.gz`), gzipSync(text, { level: 9 }));
  }
  const put = (/** @type {string} */ from, /** @type {string} */ to, mode = 0o644) => {
    mkdirSync(dirname(at(to)), { recursive: true });
    copyFileSync(join(ROOT, from), at(to));
    chmodSync(at(to), mode);
  };
  put('packaging/xend.service', 'lib/systemd/system/xend.service');
  put('packaging/xend.user.service', 'usr/lib/systemd/user/xend.service');
  put('packaging/dom0.desktop', 'usr/share/applications/dom0.desktop');
  put('packaging/dom0.metainfo.xml', 'usr/share/metainfo/dom0.metainfo.xml');
  put('resources/icons/dom0.svg', 'usr/share/icons/hicolor/scalable/apps/dom0.svg');
  for (const size of readdirSync(join(ROOT, 'resources/icons')).filter((d) => /^\d+x\d+$/.test(d))) put(`resources/icons/${size}/dom0.png`, `usr/share/icons/hicolor/${size}/apps/dom0.png`);
  put('packaging/copyright', 'usr/share/doc/dom0/copyright');
  const changelog = `dom0 (${version}) unstable; urgency=medium\n\n  * Built from the Dom0 source tree (npm run dist).\n\n -- ${maintainer()}  ${new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Date.now() / 1000) * 1000).toUTCString().replace('GMT', '+0000')}\n`;
  mkdirSync(at('usr/share/doc/dom0'), { recursive: true });
  writeFileSync(at('usr/share/doc/dom0/changelog.gz'), gzipSync(changelog, { level: 9 }));
  put('packaging/postinst', 'DEBIAN/postinst', 0o755);
  const size = Number(spawnSync('du', ['-sk', '--exclude=DEBIAN', stage], { encoding: 'utf8' }).stdout.split('\t')[0]);
  writeFileSync(at('DEBIAN/control'), [
    'Package: dom0',
    `Version: ${version}`,
    'Architecture: amd64',
    `Maintainer: ${maintainer()}`,
    `Installed-Size: ${size}`,
    'Depends: nodejs (>= 20), qemu-system-x86, qemu-utils, adduser',
    'Recommends: ovmf, chromium',
    'Suggests: iproute2',
    'Section: admin',
    'Priority: optional',
    'Homepage: https://www.xenproject.org/',
    `Description: virtual machine manager re-creating the Xen toolstack on QEMU`,
    ' Dom0 runs virtual machines ("domains") described by xm-format config',
    ' files under a daemon (xend) with a registry (xenstored), driven by the',
    ' classic xm and virt-install commands and by a manager window (the dom0',
    ' launcher opens it in a Chromium app window, or in the desktop app where',
    ' that is installed).',
    '',
  ].join('\n'));
  // Directories 0755 and files 0644 unless made executable above, whatever the checkout's umask.
  run('find', [stage, '-type', 'd', '-exec', 'chmod', '0755', '{}', '+']);
  const deb = join(OUT, `dom0_${version}_amd64.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`dist: ${deb}`);
  return deb;
}

function buildElectron() {
  const binary = installedElectron();
  if (!binary) {
    console.log("dist: electron-builder's AppImage and .deb skipped: Electron's binary is not installed here (npm start tries to download it; where that fails, so would electron-builder)");
    return;
  }
  if (!existsSync(join(ROOT, 'node_modules/.bin/electron-builder'))) {
    console.log('dist: electron-builder packages skipped: electron-builder is not installed (npm install -D electron-builder)');
    return;
  }
  run(join(ROOT, 'node_modules/.bin/electron-builder'), ['--linux', 'AppImage', 'deb', '--config', 'electron-builder.yml', `-c.electronDist=${dirname(binary)}`, `-c.linux.maintainer=${maintainer()}`]);
}

try {
  if (!args.includes('--skip-build')) run('npm', ['run', '--silent', 'build']);
  await buildDeb();
  if (!args.includes('--deb-only')) buildElectron();
} finally {
  rmSync(HELP_HOME, { recursive: true, force: true });
}
