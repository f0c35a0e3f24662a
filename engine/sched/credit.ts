// Xen's credit scheduler parameters and what they become in the Linux cgroup cpu controller.
//
// Xen: weight 1..65535 (default 256) is a relative share; cap is a percentage of one physical CPU
// (0 = no cap, 100 = one whole CPU, up to vcpus x 100). Linux CFS gives the same two knobs: a
// relative weight (v1 cpu.shares, default 1024; v2 cpu.weight, default 100) and a bandwidth quota
// per period (v1 cpu.cfs_quota_us / cfs_period_us; v2 cpu.max "quota period").

import { SchedError } from './errors.js';

export const WEIGHT_DEFAULT = 256;
export const WEIGHT_MIN = 1;
export const WEIGHT_MAX = 65535;
/** CFS bandwidth period: the kernel's default, so a cap is enforced at a 100 ms grain. */
export const CAP_PERIOD_US = 100_000;

export interface CreditParams {
  weight: number;
  /** Percent of one host CPU; 0 means no cap. */
  cap: number;
}

/** Xen's own range checks (XendDomain.domain_sched_credit_set), with its wording. */
export function checkCredit(params: Partial<CreditParams>, vcpus: number): void {
  const { weight, cap } = params;
  if (weight !== undefined && (!Number.isInteger(weight) || weight < WEIGHT_MIN || weight > WEIGHT_MAX)) {
    throw new SchedError('InvalidSchedParam', `Cpu weight out of range, valid values are within range from ${WEIGHT_MIN} to ${WEIGHT_MAX}`);
  }
  if (cap !== undefined && (!Number.isInteger(cap) || cap < 0 || cap > vcpus * 100)) {
    throw new SchedError('InvalidSchedParam', `Cpu cap out of range, valid value is from 0 to ${vcpus * 100} for specified VCPU`);
  }
}

/** v1 cpu.shares: x4 maps Xen's default 256 onto the kernel's default 1024 and keeps ratios exact. */
export function weightToShares(weight: number): number {
  return weight * 4;
}

/** v2 cpu.weight (1..10000, default 100): Xen's default 256 becomes 100; ratios kept to rounding. */
export function weightToCgroup2(weight: number): number {
  return Math.min(10000, Math.max(1, Math.round((weight * 100) / WEIGHT_DEFAULT)));
}

/** The CFS quota in µs per CAP_PERIOD_US, or undefined for "no cap". */
export function capToQuota(cap: number): number | undefined {
  return cap === 0 ? undefined : Math.round((cap * CAP_PERIOD_US) / 100);
}
