#!/usr/bin/env node
// `virt-install`: create a domain from the command line, as virt-install does, through xend.
// Errors print `ERROR    <message>` on stderr (virt-install's form) and exit 1.
import { resolvePaths } from '../common/paths.js';
import { parseVirtInstallArgs, VIRT_INSTALL_USAGE } from '../install/virt-install-args.js';
import { attachConsole } from './xm/console.js';
import { connectXend, type XendClient } from './xm/commands.js';

async function main(argv: string[]): Promise<number> {
  const out = (t: string) => process.stdout.write(t);
  const err = (t: string) => process.stderr.write(t);
  let client: XendClient | undefined;
  try {
    const args = parseVirtInstallArgs(argv);
    if (args.help) {
      out(VIRT_INSTALL_USAGE);
      return 0;
    }
    for (const w of args.warnings) err(`WARNING  ${w}\n`);
    client = await connectXend(resolvePaths());
    if (args.listOs) {
      for (const os of await client.call('install.osList')) out(`${os.id.padEnd(20)} ${os.name}\n`);
      return 0;
    }
    if (!args.dryRun) out('\nStarting install...\n');
    const result = await client.call('install.create', { description: args.description, dryRun: args.dryRun });
    for (const w of result.warnings) err(`WARNING  ${w}\n`);
    if (args.printConfig) {
      if (args.printConfig === 'install' && !result.installConfig) throw new Error('this install has one phase: there is no separate installer config (use --print-config)');
      out(args.printConfig === 'install' ? result.installConfig! : result.config);
      return 0;
    }
    const osLine = `Using OS ${result.os.id} (${result.os.name}), from ${result.osFrom}.\n`;
    if (args.dryRun) {
      out(osLine);
      for (const d of result.newDisks) out(`Would allocate '${d.path}' (${(d.sizeBytes / 1024 ** 3).toFixed(1)} GiB, ${d.format})\n`);
      out(`Would define ${result.path}\nDry run completed successfully\n`);
      return 0;
    }
    out(osLine);
    for (const d of result.newDisks) out(`Allocating '${d.path}'  ${(d.sizeBytes / 1024 ** 3).toFixed(1)} GiB\n`);
    out(`Creating domain...\nDomain definition: ${result.path}\n`);
    if (result.phase === 'defined') {
      out(`Domain '${result.name}' is defined; start it with: xm start ${result.name}\n`);
      return 0;
    }
    if (args.autoconsole && args.consoleMode === 'graphical' && args.description.graphics === 'vnc') {
      out(`Started domain ${result.name} (id=${result.domid}); its screen is in the Dom0 window (or: xm console ${result.name} for the serial console)\n`);
      return 0;
    }
    if (args.autoconsole && (args.consoleMode === 'text' || args.description.graphics === 'none')) {
      out(`Started domain ${result.name} (id=${result.domid}); connected to its serial console (Ctrl-] detaches)\n`);
      return attachConsole(client, result.name, { quiet: false });
    }
    if (result.phase === 'install') {
      out(`Domain is still running. Installation may be in progress.\nWatch it in the Dom0 window or with: xm console ${result.name}\n` +
        `When the installer reboots, ${result.name} starts again as the installed system.\n`);
    } else {
      out(`Domain creation completed. ${result.name} is running (id=${result.domid}).\n`);
    }
    return 0;
  } catch (e) {
    err(`ERROR    ${(e as Error).message}\n`);
    return 1;
  } finally {
    await client?.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
