// The engine's data as the renderer sees it: types only, taken from the API table so they cannot
// drift. Components and stores may import these; only api/ talks to the engine.

import type { EventDataOf, ResultOf } from '../../../engine/protocol/browser/index.js';
import type { DomainChanges, DomainRow, XendEvents, XendMethods } from '../../../engine/protocol/common/xend-api.js';

export type { DomainChanges, DomainRow };

/** domain.getConfig's answer: the xm file text, its path, the typed config and QEMU's argv. */
export type DomainConfigResult = ResultOf<XendMethods, 'domain.getConfig'>;
export type DomainConfig = DomainConfigResult['config'];
export type DomainDisk = DomainConfig['disk'][number];
export type DomainNic = DomainConfig['vif'][number];
export type LifecycleAction = DomainConfig['on_poweroff'];
export type DomainUpdateResult = ResultOf<XendMethods, 'domain.update'>;
export type DomainDeleteResult = ResultOf<XendMethods, 'domain.delete'>;
export type DomainChangedEvent = EventDataOf<XendEvents, 'domain.changed'>;
/** One `stats.cpu` tick: Domain-0's CPU % (`host`) and each running guest's CPU % of its vCPUs. */
export type CpuStatsEvent = EventDataOf<XendEvents, 'stats.cpu'>;

/** Where an engine listens and the secret it wants. */
export interface Endpoint {
  url: string;
  token: string;
}
