// iSCSI pools: a portal and a target IQN, whose LUNs are the volumes. Everything runs in user
// space with no host kernel iSCSI session: the portal is checked with a TCP connect, the LUNs are
// found and sized by qemu-img through QEMU's own initiator (block-iscsi). argv only, never a shell.

import net from 'node:net';
import { checkIqn, formatIscsiUrl, formatPortal, parsePortal, type IscsiPortal } from '../config/index.js';
import { QemuImg, QemuImgError } from '../qemu/index.js';
import { StorageError } from './errors.js';

export interface IscsiSource {
  portal: IscsiPortal;
  iqn: string;
}

export interface IscsiLunInfo {
  lun: number;
  /** iscsi://portal/iqn/lun: what a disk line names. */
  url: string;
  /** Bytes. */
  size: number;
}

/** A pool's portal and IQN as the user typed them → checked parts (InvalidPath otherwise). */
export function iscsiSource(portalText: string, iqn: string): IscsiSource {
  const portal = parsePortal(portalText);
  if (typeof portal === 'string') throw new StorageError('InvalidPath', portal);
  const bad = checkIqn(iqn);
  if (bad) throw new StorageError('InvalidPath', bad);
  return { portal, iqn };
}

export function iscsiBaseUrl(src: IscsiSource): string {
  return `iscsi://${formatPortal(src.portal)}/${src.iqn}`;
}

/** Does anything accept TCP connections at the portal? (libiscsi's own message for "no" is cryptic.) */
export async function probePortal(portal: IscsiPortal, timeoutMs = 5000): Promise<void> {
  const host = portal.host.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port: portal.port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new StorageError('PortalUnreachable', `no iSCSI target answers at ${formatPortal(portal)} (${why}): check the portal's address and port (iSCSI's default port is 3260) and that the target is running`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs / 1000} s`));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'unknown host' : err.message));
  });
}

/** LUN numbers probed past the last one found before the listing stops (maps are dense in practice). */
const LUN_GAP = 1;
const LUN_PROBE_MAX = 255;

/**
 * The target's disk LUNs with their sizes, found by opening LUN 0, 1, 2, ... with QEMU's own
 * initiator until one is missing (LUN 0 of tgt is its controller, of LIO the first disk; both
 * number the rest densely). The first open also tells a missing target from a refused login.
 */
export async function listIscsiLuns(src: IscsiSource, qemuImg = new QemuImg()): Promise<IscsiLunInfo[]> {
  await probePortal(src.portal);
  const luns: IscsiLunInfo[] = [];
  let missing = 0;
  for (let lun = 0; lun <= LUN_PROBE_MAX && missing <= LUN_GAP; lun++) {
    const url = formatIscsiUrl({ ...src.portal, iqn: src.iqn, lun });
    let size: number;
    try {
      size = (await qemuImg.infoIscsi(url)).virtualSize;
    } catch (err) {
      const message = err instanceof QemuImgError ? err.message : String(err);
      const status = /Status: ([^\n(]+)/.exec(message)?.[1]?.trim();
      if (/LOGICAL_UNIT_NOT_SUPPORTED/.test(message)) {
        if (lun > 0) missing++;
        continue;
      }
      if (status && /target not found/i.test(status)) {
        throw new StorageError('UnknownTarget', `the portal ${formatPortal(src.portal)} offers no target ${src.iqn} to this host: check the IQN, and that the target's ACL admits this host`);
      }
      if (status && /authentication|authorization/i.test(status)) {
        throw new StorageError('LoginRefused', `the target ${src.iqn} at ${formatPortal(src.portal)} refused the login (${status}): admit this host in the target's ACL; CHAP-protected targets are not supported yet`);
      }
      throw new StorageError('QemuImgFailed', `reading LUN ${lun} of ${src.iqn} failed: ${message}`);
    }
    missing = 0;
    // A LUN without capacity is not a disk (tgt's LUN 0 is its controller).
    if (size > 0) luns.push({ lun, url, size });
  }
  return luns;
}
