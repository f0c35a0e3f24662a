// Byte sizes for people, shared by xm and the GUI (which may import only protocol/common): binary
// units with two decimals, as virsh and virt-manager show them ("16.00 MiB").

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(2)} ${units[u]}`;
}
