import { expect, test } from 'vitest';
import { CpuSampler } from '../../engine/stats/index.js';

test("guest CPU % is Δcpu / Δt / vcpus, as virt-manager computes it, clamped to 0-100", () => {
  const domains = [
    { domid: 1, name: 'busy', cpuTime: 10, vcpus: 2 },
    { domid: 2, name: 'idle', cpuTime: 5, vcpus: 1 },
  ];
  const sampler = new CpuSampler({ list: () => domains });
  expect(sampler.sample(1000).domains).toEqual([
    { domid: 1, name: 'busy', cpu: 0 },
    { domid: 2, name: 'idle', cpu: 0 },
  ]);
  domains[0]!.cpuTime = 11.5; // 1.5 s of CPU in 1 s on 2 vCPUs: 75 %
  domains[1]!.cpuTime = 5.01;
  expect(sampler.sample(2000).domains).toEqual([
    { domid: 1, name: 'busy', cpu: 75 },
    { domid: 2, name: 'idle', cpu: 1 },
  ]);
  domains[0]!.cpuTime = 20; // more than the vCPUs can use (accounting jitter): clamped
  expect(sampler.sample(3000).domains[0]!.cpu).toBe(100);
});

test('a domain that restarts with a new id starts from zero, not from the old counter', () => {
  const domains = [{ domid: 1, name: 'a', cpuTime: 50, vcpus: 1 }];
  const sampler = new CpuSampler({ list: () => domains });
  sampler.sample(0);
  domains[0] = { domid: 2, name: 'a', cpuTime: 0.2, vcpus: 1 };
  expect(sampler.sample(1000).domains[0]!.cpu).toBe(0);
});
