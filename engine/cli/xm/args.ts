// Argument parsing shared by the xm commands: Xen's option styles and messages.

/** A usage or argument error: printed with the command's usage, exit 1. */
export class UsageError extends Error {}

/** Split `-x`, `--long`, `--state=S` style options from positional arguments. */
export function parseOpts(args: string[], flags: Record<string, string>, valued: Record<string, string> = {}): { opts: Record<string, string | true>; rest: string[] } {
  const opts: Record<string, string | true> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    const eq = a.indexOf('=');
    const key = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (flags[key]) opts[flags[key]] = true;
    else if (valued[key]) {
      const value = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`option ${key} needs a value`);
      opts[valued[key]] = value;
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) throw new UsageError(`unknown option ${a}`);
    else rest.push(a);
  }
  return { opts, rest };
}

export function needArgs(cmd: string, rest: string[], min: number, max = min): void {
  if (rest.length < min || rest.length > max) {
    const n = min === max ? `${min} argument${min === 1 ? '' : 's'}` : `${min} to ${max} arguments`;
    throw new UsageError(`'xm ${cmd}' requires ${n}.`);
  }
}

/** Numeric ids are ids; anything else is a name. */
export function ref(arg: string): string | number {
  return /^\d+$/.test(arg) ? Number(arg) : arg;
}
