// Stats: the public API of engine/stats.
export { CpuSampler } from './cpu-sampler.js';
export type { CpuSample, CpuSource } from './cpu-sampler.js';
