// An iSCSI LUN as the protocol node of QEMU's own initiator (block-iscsi, Debian's
// qemu-block-extra): the address's parts go in as separate fields, never as a URL QEMU would parse.
// Used by the argv builder and by disk hotplug (the same fields as a QMP blockdev-add object).

import { formatPortal, parseIscsiUrl } from '../../config/index.js';
import { UnsupportedConfigError } from '../errors.js';

export function iscsiProtocol(url: string): { driver: 'iscsi'; transport: 'tcp'; portal: string; target: string; lun: number } {
  const lun = parseIscsiUrl(url);
  if (typeof lun === 'string') throw new UnsupportedConfigError(lun);
  return { driver: 'iscsi', transport: 'tcp', portal: formatPortal(lun), target: lun.iqn, lun: lun.lun };
}
