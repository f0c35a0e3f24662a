// iSCSI LUN addresses as disk lines and pools name them: `iscsi://<host>[:<port>]/<target IQN>/<lun>`,
// the URL form QEMU and libvirt users know. The grammar is strict (no commas, spaces, '@' or
// option syntax anywhere) so a parsed address can be handed to QEMU's iSCSI driver as separate
// blockdev fields and to tools as argv, never as text they would parse again.

export const ISCSI_DEFAULT_PORT = 3260;

export interface IscsiPortal {
  host: string;
  port: number;
}

export interface IscsiLun extends IscsiPortal {
  iqn: string;
  lun: number;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]{2,45}\])$/;
// RFC 3720 names: iqn.YYYY-MM.reversed.domain[:anything-printable], eui.<16 hex>, naa.<16|32 hex>.
const IQN = /^(?:iqn\.\d{4}-\d{2}\.[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[A-Za-z0-9._:-]+)?|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16}(?:[0-9A-Fa-f]{16})?)$/;
export const LUN_MAX = 16383;

/** `host[:port]` → portal, or the reason it is not one. */
export function parsePortal(text: string): IscsiPortal | string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(text);
  if (!m || !HOST.test(m[1] ?? '')) return `'${text}' is not an iSCSI portal; write host or host:port, e.g. 192.168.1.10:3260`;
  const port = m[2] === undefined ? ISCSI_DEFAULT_PORT : Number(m[2]);
  if (port < 1 || port > 65535) return `port ${port} of portal '${text}' is out of range (1-65535)`;
  return { host: m[1]!, port };
}

export function checkIqn(iqn: string): string | undefined {
  if (iqn.length > 223 || !IQN.test(iqn)) {
    return `'${iqn}' is not an iSCSI target name; write it as iqn.YYYY-MM.reversed.domain:name (e.g. iqn.2026-12.com.example:storage1)`;
  }
  return undefined;
}

export function formatPortal(p: IscsiPortal): string {
  return `${p.host}:${p.port}`;
}

/** `iscsi://host[:port]/iqn/lun` → its parts, or the reason it is not such a URL. */
export function parseIscsiUrl(url: string): IscsiLun | string {
  const m = /^iscsi:\/\/([^/]+)\/([^/]+)\/(\d+)$/.exec(url);
  if (!m) return `'${url}' is not an iSCSI LUN address; write iscsi://<portal>/<target IQN>/<LUN>, e.g. iscsi://192.168.1.10:3260/iqn.2026-12.com.example:storage1/1`;
  const portal = parsePortal(m[1]!);
  if (typeof portal === 'string') return portal;
  const bad = checkIqn(m[2]!);
  if (bad) return bad;
  const lun = Number(m[3]);
  if (lun > LUN_MAX) return `LUN ${lun} is out of range (0-${LUN_MAX})`;
  return { ...portal, iqn: m[2]!, lun };
}

export function formatIscsiUrl(l: IscsiLun): string {
  return `iscsi://${formatPortal(l)}/${l.iqn}/${l.lun}`;
}
