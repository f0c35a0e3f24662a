// The stats tick's clock and settings: one timer for all domains at the configured interval,
// settings kept in <config>/stats.json (written atomically). A tick that is still waiting for
// QEMU when the next is due is not doubled up: the late one is skipped, so a slow guest cannot
// pile up queries.

import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomic-write.js';
import { DEFAULT_STATS_SETTINGS, MAX_INTERVAL, MIN_INTERVAL, type StatsSettings } from './samples.js';
import { StatsSampler, type StatsSource, type StatsTick } from './sampler.js';

export interface StatsCollectorOptions {
  source: StatsSource;
  /** Where the settings are kept; none: defaults, not saved. */
  settingsPath?: string;
  onTick: (tick: StatsTick) => void;
  onError?: (error: Error) => void;
}

export class StatsCollector {
  readonly sampler: StatsSampler;
  readonly #opts: StatsCollectorOptions;
  #settings: StatsSettings;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  /** CPU ms the engine spent in the last tick (user + system), for the benchmark and logs. */
  lastTickCpuMs = 0;

  constructor(opts: StatsCollectorOptions) {
    this.#opts = opts;
    this.#settings = loadStatsSettings(opts.settingsPath);
    this.sampler = new StatsSampler(opts.source, () => this.#settings);
  }

  get settings(): StatsSettings {
    return { ...this.#settings };
  }

  start(): void {
    this.stop();
    this.#timer = setInterval(() => void this.tickNow(), this.#settings.interval * 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One tick now (the timer calls this); resolves undefined when one is already in progress. */
  async tickNow(): Promise<StatsTick | undefined> {
    if (this.#busy) return undefined;
    this.#busy = true;
    const cpuBefore = process.cpuUsage();
    try {
      const tick = await this.sampler.tick();
      const used = process.cpuUsage(cpuBefore);
      this.lastTickCpuMs = (used.user + used.system) / 1000;
      this.#opts.onTick(tick);
      return tick;
    } catch (err) {
      this.#opts.onError?.(err as Error);
      return undefined;
    } finally {
      this.#busy = false;
    }
  }

  /** Changes settings (validated), saves them, and restarts the clock if it runs. */
  async configure(changes: Partial<StatsSettings>): Promise<StatsSettings> {
    const next = validateStatsSettings({ ...this.#settings, ...changes });
    if (this.#opts.settingsPath) await writeFileAtomic(this.#opts.settingsPath, JSON.stringify(next, null, 2) + '\n');
    this.#settings = next;
    if (this.#timer) this.start();
    return this.settings;
  }
}

export function validateStatsSettings(s: StatsSettings): StatsSettings {
  if (!(Number.isFinite(s.interval) && s.interval >= MIN_INTERVAL && s.interval <= MAX_INTERVAL)) {
    throw new RangeError(`the stats interval must be between ${MIN_INTERVAL} and ${MAX_INTERVAL} seconds (got ${s.interval})`);
  }
  return { interval: s.interval, memory: Boolean(s.memory), disk: Boolean(s.disk), network: Boolean(s.network) };
}

/** The saved settings, or the defaults when there are none or they are unreadable. */
export function loadStatsSettings(path: string | undefined): StatsSettings {
  if (!path) return { ...DEFAULT_STATS_SETTINGS };
  try {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as Partial<StatsSettings>;
    return validateStatsSettings({ ...DEFAULT_STATS_SETTINGS, ...saved });
  } catch {
    return { ...DEFAULT_STATS_SETTINGS };
  }
}
