// The shapes the stats room produces: one point per domain and one for the host per tick. Rates
// are per second over the tick; totals are the cumulative counters they come from (xentop prints
// totals). `null` means "not measurable" (a user-mode NIC has no host-side counters; a guest that
// does not report balloon stats has no used-memory figure), never zero.

export interface DomainPoint {
  /** ms since the epoch */
  time: number;
  /** Guest CPU %: CPU time of its vCPUs / elapsed / vCPUs (virt-manager's "guest CPU"), 0–100. */
  cpu: number;
  /** Host CPU %: the whole QEMU process's CPU time / elapsed / host CPUs, 0–100. */
  hostCpu: number;
  /** Cumulative CPU seconds of the QEMU process (xm list's Time(s)). */
  cpuTime: number;
  /**
   * Steal %: the time its vCPUs were ready to run but waited for a host CPU (the guest's `st` in
   * top), per vCPU as `cpu`. A busy guest on a busy host shows cpu + steal near 100.
   */
  steal: number;
  /** Per-vCPU guest CPU %, in vCPU order. */
  vcpuCpu: number[];
  /** MiB: the balloon's actual size, and what the guest says it uses (null unless it reports). */
  memActual: number | null;
  memUsed: number | null;
  /** Bytes and requests per second over all disks, and their totals. */
  diskRd: number | null;
  diskWr: number | null;
  diskRdOps: number | null;
  diskWrOps: number | null;
  diskRdTotal: number | null;
  diskWrTotal: number | null;
  diskRdOpsTotal: number | null;
  diskWrOpsTotal: number | null;
  /** Bytes per second received / sent by the guest over tap NICs; null when no NIC is measurable. */
  netRx: number | null;
  netTx: number | null;
  netRxTotal: number | null;
  netTxTotal: number | null;
}

export interface HostPoint {
  time: number;
  /** Domain-0 CPU %, all host CPUs together. */
  cpu: number;
  /** CPU seconds the host has used since boot, all CPUs (Domain-0's Time(s)). */
  cpuTime: number;
  /** MiB */
  memTotal: number;
  memUsed: number;
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
}

/** What is sampled: CPU always; the rest can be turned off (each costs a QMP query or a read). */
export interface StatsSettings {
  /** Seconds between ticks, 0.5–60. */
  interval: number;
  memory: boolean;
  disk: boolean;
  network: boolean;
}

export const DEFAULT_STATS_SETTINGS: StatsSettings = { interval: 1, memory: true, disk: true, network: true };
export const MIN_INTERVAL = 0.5;
export const MAX_INTERVAL = 60;
