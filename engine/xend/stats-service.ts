// xend's stats handlers (engine/protocol/common/xend-api-stats.ts) on the stats collector.

import type { Handlers } from '../protocol/common/define.js';
import type { statsMethods } from '../protocol/common/xend-api-stats.js';
import type { StatsCollector } from '../stats/index.js';

export function statsHandlers(collector: StatsCollector): Handlers<typeof statsMethods> {
  const { sampler } = collector;
  return {
    'stats.history': ({ domains, seconds, maxPoints, host }) => {
      const since = Date.now() - seconds * 1000;
      const names = domains ?? sampler.names().sort();
      return {
        interval: collector.settings.interval,
        host: host ? sampler.hostHistory(since, maxPoints) : [],
        domains: names.flatMap((name) => {
          const h = sampler.history(name, since, maxPoints);
          return h ? [{ name, ...h }] : [];
        }),
      };
    },
    'stats.settings': () => collector.settings,
    'stats.configure': async (changes) => {
      try {
        return await collector.configure(changes);
      } catch (err) {
        throw Object.assign(new Error((err as Error).message), { code: 'InvalidSettings' });
      }
    },
  };
}
