// Stats: the engine's history, and its sampling settings. Live ticks arrive as `stats.sample`
// events through the connection (onStatsSample); nothing here polls.

import type { EventDataOf, ResultOf } from '../../../engine/protocol/browser/index.js';
import type { XendEvents, XendMethods } from '../../../engine/protocol/common/xend-api.js';
import type { DomainPointData, DomainTickData, HostPointData, StatsSettingsData } from '../../../engine/protocol/common/xend-api-stats.js';
import { clientOf } from './connection.js';
import { toEngineError } from './errors.js';

export type { DomainPointData, DomainTickData, HostPointData, StatsSettingsData };
export type StatsSampleEvent = EventDataOf<XendEvents, 'stats.sample'>;
export type StatsHistory = ResultOf<XendMethods, 'stats.history'>;

export async function statsHistory(args: { conn: string; domains?: string[]; seconds: number; maxPoints?: number; host?: boolean }): Promise<StatsHistory> {
  const { conn, ...params } = args;
  try {
    return await clientOf(conn).call('stats.history', params);
  } catch (err) {
    throw toEngineError(err);
  }
}

export async function statsSettings({ conn }: { conn: string }): Promise<StatsSettingsData> {
  try {
    return await clientOf(conn).call('stats.settings');
  } catch (err) {
    throw toEngineError(err);
  }
}

export async function statsConfigure({ conn, changes }: { conn: string; changes: Partial<StatsSettingsData> }): Promise<StatsSettingsData> {
  try {
    return await clientOf(conn).call('stats.configure', changes);
  } catch (err) {
    throw toEngineError(err);
  }
}
