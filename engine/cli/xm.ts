#!/usr/bin/env node
// `xm`: the Dom0 command line, as Xen's. Errors print `Error: <message>` on stderr and exit 1.
import { resolvePaths } from '../common/paths.js';
import { COMMANDS, connectXend, helpText, UsageError, type XendClient, type XmContext } from './xm/commands.js';

async function main(argv: string[]): Promise<number> {
  const paths = resolvePaths();
  let client: XendClient | undefined;
  const ctx: XmContext = {
    paths,
    cwd: process.cwd(),
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    client: async () => (client ??= await connectXend(paths)),
  };
  const [name, ...args] = argv;
  try {
    if (name === undefined || name === 'help' || name === '-h' || name === '--help') {
      ctx.out(helpText(args[0]));
      return name === undefined ? 1 : 0;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`Subcommand ${name} not found!`);
    if (args.includes('--help') || args.includes('-h')) {
      ctx.out(helpText(name));
      return 0;
    }
    try {
      return await command.run(ctx, args);
    } catch (err) {
      if (err instanceof UsageError) {
        ctx.err(`Error: ${err.message}\n\nUsage: xm ${command.usage}\n\n${command.summary}\n`);
        return 1;
      }
      throw err;
    }
  } catch (err) {
    ctx.err(`Error: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await client?.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
