// Stats: the public API of engine/stats.
export { StatsCollector, loadStatsSettings, validateStatsSettings } from './collector.js';
export type { StatsCollectorOptions } from './collector.js';
export { StatsSampler } from './sampler.js';
export type { DomainTickEntry, StatsSource, StatsTarget, StatsTick } from './sampler.js';
export { History, averagePoints, FINE_POINTS, COARSE_FACTOR, COARSE_POINTS } from './history.js';
export { DEFAULT_STATS_SETTINGS, MAX_INTERVAL, MIN_INTERVAL } from './samples.js';
export type { DomainPoint, HostPoint, StatsSettings } from './samples.js';
