// How numbers and errors read on screen.

/** CPU time in seconds: "0.0 s", "42.3 s", "5 min 03 s", "2 h 05 min". */
export function formatCpuTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h === 0) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${h} h ${String(m).padStart(2, '0')} min`;
}

/** A duration in milliseconds as "3 s", "4 min 05 s", "2 h 03 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const total = Math.floor(ms / 1000);
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${s} s`;
}

export function formatMiB(mib: number): string {
  return Number.isFinite(mib) ? String(Math.round(mib)) : '—';
}

/** An error as a sentence for the user: the engine's message as it is. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A CPU use in percent, whole: "0 %", "12 %", "100 %". */
export function formatPercent(percent: number): string {
  return Number.isFinite(percent) ? `${Math.round(percent)} %` : '—';
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** A size: "512 B", "12.3 KiB", "4.0 MiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  let v = Math.max(0, bytes);
  let unit = 0;
  while (v >= 1024 && unit < BYTE_UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(v) : v.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** Bytes per second: "0 B/s", "12.3 KiB/s", "4.0 MiB/s". */
export function formatRate(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond === null || bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond)) return '—';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** A percentage with one decimal, for chart read-outs: "12.5 %". */
export function formatPercent1(percent: number | null | undefined): string {
  return percent === null || percent === undefined || !Number.isFinite(percent) ? '—' : `${percent.toFixed(1)} %`;
}

/** MiB with the unit: "128 MiB". */
export function formatMiBUnit(mib: number | null | undefined): string {
  return mib === null || mib === undefined || !Number.isFinite(mib) ? '—' : `${Math.round(mib)} MiB`;
}

/** A rate for a narrow cell: "0 B/s", "12 K/s", "3.4 M/s". */
export function formatRateShort(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond)) return '—';
  const units = ['B/s', 'K/s', 'M/s', 'G/s'];
  let v = Math.max(0, bytesPerSecond);
  let unit = 0;
  while (v >= 1024 && unit < units.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${v < 10 && unit > 0 ? v.toFixed(1) : Math.round(v)} ${units[unit]}`;
}

/** MiB for a narrow cell: "31 M", "3221 M", "23.6 G". */
export function formatMiBShort(mib: number): string {
  if (!Number.isFinite(mib)) return '—';
  return mib < 10_000 ? `${Math.round(mib)} M` : `${(mib / 1024).toFixed(1)} G`;
}
