// CPU scheduling: Xen's credit scheduler (weight, cap) and vCPU pinning, on Linux cgroups and
// sched_setaffinity. The public API of engine/sched.
export { CpuScheduler, creditOf } from './scheduler.js';
export type { SchedConfig } from './scheduler.js';
export { CpuCgroups, findCpuController } from './cgroup.js';
export type { CpuController } from './cgroup.js';
export { checkCredit, capToQuota, weightToCgroup2, weightToShares, CAP_PERIOD_US, WEIGHT_DEFAULT, WEIGHT_MAX, WEIGHT_MIN } from './credit.js';
export type { CreditParams } from './credit.js';
export { expandCpuList, hostCpusFor, pinThreads } from './affinity.js';
export { SchedError } from './errors.js';
export type { SchedErrorCode } from './errors.js';
