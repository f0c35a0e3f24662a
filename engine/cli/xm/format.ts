// xm's output formats, exactly as Xen's xm printed them (tools/python/xen/xm/main.py), so scripts
// written against Xen keep working. Pure functions over plain rows.

export interface ListRow {
  name: string;
  /** undefined for a defined domain that is not running (Xen prints an empty ID). */
  domid?: number;
  /** MiB */
  memory: number;
  vcpus: number;
  /** Six letters `rbpscd`, or `------` when not running. */
  state: string;
  /** CPU seconds */
  cpuTime: number;
}

export const rpad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
export const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

export function formatListHeader(): string {
  // '%-40s %5s %5s %5s %10s %9s'
  return `${rpad('Name', 40)} ${lpad('ID', 5)} ${lpad('Mem', 5)} ${lpad('VCPUs', 5)} ${lpad('State', 10)} ${lpad('Time(s)', 9)}`;
}

export function formatListRow(row: ListRow): string {
  // '%(name)-40s %(domid)5s %(mem)5d %(vcpus)5d %(state)10s %(cpu_time)8.1f'
  return `${rpad(row.name, 40)} ${lpad(row.domid === undefined ? '' : String(row.domid), 5)} ${lpad(String(Math.trunc(row.memory)), 5)} ${lpad(String(row.vcpus), 5)} ${lpad(row.state, 10)} ${lpad(row.cpuTime.toFixed(1), 8)}`;
}

/** The whole table. Callers sort the rows (Domain-0 included) by name, case-sensitively, as xend did. */
export function formatList(rows: readonly ListRow[]): string {
  return [formatListHeader(), ...rows.map(formatListRow)].join('\n') + '\n';
}

/** `xm list --long`: one S-expression per domain. */
export function formatSxp(value: SxpValue, indent = 0): string {
  if (!Array.isArray(value)) return sxpAtom(value);
  const [head, ...rest] = value;
  const pad = ' '.repeat(indent);
  const simple = rest.every((v) => !Array.isArray(v));
  if (simple) return `${pad}(${[head, ...rest].map((v) => sxpAtom(v as SxpAtom)).join(' ')})`;
  const inner = rest.map((v) => (Array.isArray(v) ? formatSxp(v, indent + 4) : ' '.repeat(indent + 4) + sxpAtom(v))).join('\n');
  return `${pad}(${sxpAtom(head as SxpAtom)}\n${inner}\n${pad})`;
}

export type SxpAtom = string | number;
export type SxpValue = SxpAtom | SxpValue[];

function sxpAtom(v: SxpAtom): string {
  if (typeof v === 'number') return String(v);
  // Xen quoted atoms that are empty or contain spaces/parentheses.
  return v === '' || /[\s()'"]/.test(v) ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : v;
}

export function formatUptimeHeader(): string {
  // print '%-33s %4s %s ' % ('Name','ID','Uptime'): the trailing blank is Xen's.
  return `${rpad('Name', 33)} ${lpad('ID', 4)} Uptime `;
}

/** A row: `'%(name)-32s %(domid)5s ' % d` + the uptime; a domain that is not running shows 0. */
export function formatUptimeRow(name: string, domid: number | undefined, seconds: number): string {
  return `${rpad(name, 32)} ${lpad(domid === undefined ? '' : String(domid), 5)} ${formatUptime(domid === undefined ? 0 : seconds)}`;
}

/** `xm uptime -s`: `' %H:%M:%S up ' + days + '%2d:%02d' + ', name (domid)'`, as Xen's main.py built it. */
export function formatUptimeShort(now: Date, name: string, domid: number | undefined, seconds: number): string {
  const clock = [now.getHours(), now.getMinutes(), now.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  return ` ${clock} up ${formatUptime(domid === undefined ? 0 : seconds, false)}, ${name} (${domid ?? ''})`;
}

/** Xen's uptime text, seconds rounded: `2 days,  3:04:05` (hours are `%2d`), `1 day, 10:00:00`, ` 3:04:05`. */
export function formatUptime(total: number, withSeconds = true): string {
  let s = Math.round(total);
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  const sec = s - m * 60;
  let out = days > 0 ? `${days} day${days > 1 ? 's' : ''}, ` : '';
  out += `${lpad(String(h), 2)}:${String(m).padStart(2, '0')}`;
  if (withSeconds) out += `:${String(sec).padStart(2, '0')}`;
  return out;
}

export interface VcpuRow {
  name: string;
  domid: number;
  vcpu: number;
  /** Host CPU the vCPU thread last ran on. */
  cpu?: number;
  /** Xen's vcpu state: `r--` running, `-b-` blocked, `--p` paused. */
  state: string;
  cpuTime: number;
  affinity: string;
}

export function formatVcpuHeader(): string {
  // '%-32s %5s %5s %5s %5s %9s %s'
  return `${rpad('Name', 32)} ${lpad('ID', 5)} ${lpad('VCPU', 5)} ${lpad('CPU', 5)} ${lpad('State', 5)} ${lpad('Time(s)', 9)} CPU Affinity`;
}

export function formatVcpuRow(r: VcpuRow): string {
  return `${rpad(r.name, 32)} ${lpad(String(r.domid), 5)} ${lpad(String(r.vcpu), 5)} ${lpad(r.cpu === undefined ? '-' : String(r.cpu), 5)} ${lpad(r.state, 5)} ${lpad(r.cpuTime.toFixed(1), 9)} ${r.affinity}`;
}

/** `xm info`: `%-23s: value` lines. */
export function formatInfo(pairs: ReadonlyArray<readonly [string, string | number]>): string {
  return pairs.map(([k, v]) => `${rpad(k, 23)}: ${v}`).join('\n') + '\n';
}
