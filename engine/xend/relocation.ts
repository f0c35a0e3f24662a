// xend's side of the relocation service: turn the xend.conf settings into a listener, or explain
// in the log why there is none. A failure to listen is logged, not fatal: the engine still runs
// its domains, as Xen's xend did.

import type { DomainManager } from '../domains/index.js';
import { startRelocationServer, type RelocationServer } from '../migration/index.js';
import type { Logger } from './log.js';
import type { XendSettings } from './settings.js';

export async function startRelocation(settings: XendSettings, manager: DomainManager, imagesDir: string, logger: Logger): Promise<RelocationServer | undefined> {
  if (!settings.relocationServer) return undefined;
  if (!settings.relocationToken) {
    logger.log('ERROR', 'relocation', 'xend-relocation-server is yes but no xend-relocation-token is set: relocation stays off (it is never open without authentication)');
    return undefined;
  }
  try {
    return await startRelocationServer({
      manager,
      address: settings.relocationAddress,
      port: settings.relocationPort,
      hostsAllow: settings.relocationHostsAllow.map((re) => new RegExp(re)),
      token: settings.relocationToken,
      imagesDir,
      log: (level, message) => logger.log(level === 'warn' ? 'WARNING' : 'INFO', 'relocation', message),
    });
  } catch (err) {
    logger.log('ERROR', 'relocation', `relocation server not started: ${(err as Error).message}`);
    return undefined;
  }
}
