// QEMU background jobs (snapshot-save/-load/-delete, blockdev-backup): start one, follow it to its
// end with progress, dismiss it, and turn a failure into an error that says which job and why.

import type { QmpClient } from '../qemu/index.js';

export interface JobProgress {
  current: number;
  total: number;
}

interface JobInfo {
  id: string;
  type: string;
  status: string;
  'current-progress': number;
  'total-progress': number;
  error?: string;
}

/** Run `command` (which must create job `jobId`) and wait until every listed job concluded. */
export async function runJobs(
  qmp: QmpClient,
  command: string,
  args: object,
  jobIds: string[],
  opts: { onProgress?: (p: JobProgress) => void; describe: string; fail: (message: string) => Error },
): Promise<void> {
  await qmp.execute(command, args);
  const failures: string[] = [];
  const pending = new Set(jobIds);
  while (pending.size > 0) {
    const jobs = await qmp.execute<JobInfo[]>('query-jobs');
    const mine = jobs.filter((j) => jobIds.includes(j.id));
    if (opts.onProgress && mine.length > 0) {
      opts.onProgress({
        current: mine.reduce((a, j) => a + j['current-progress'], 0),
        total: mine.reduce((a, j) => a + j['total-progress'], 0),
      });
    }
    for (const job of mine) {
      if (!pending.has(job.id) || job.status !== 'concluded') continue;
      pending.delete(job.id);
      if (job.error) failures.push(job.error);
      await qmp.execute('job-dismiss', { id: job.id }).catch(() => undefined);
    }
    // A job that vanished without concluding was auto-dismissed: nothing more to learn about it.
    for (const id of [...pending]) if (!mine.some((j) => j.id === id)) pending.delete(id);
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (failures.length > 0) throw opts.fail(`${opts.describe} failed: ${failures.join('; ')}`);
}
