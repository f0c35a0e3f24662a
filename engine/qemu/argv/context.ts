// Host facts the argv generators need. Everything that varies between hosts or runs comes in
// here, so the generators stay pure and golden-testable (Proxmox's Cfg2Cmd habit).

export type Accelerator = 'kvm' | 'tcg';

export interface QemuContext {
  accel: Accelerator;
  /** The domain's runtime dir: qmp.sock, vnc.sock, serial.sock, serial.log, qemu.pid live here. */
  runtimeDir: string;
  /** MAC for a vif without `mac=` (the lifecycle picks a random unique Xen MAC and records it). */
  macFor(vifIndex: number): string;
  /** UUID for a config without `uuid` (the lifecycle makes one and keeps it across restarts). */
  uuid: string;
}

/** One QEMU option and its value, kept paired so golden files can print one option per line. */
export type QemuOption = readonly [flag: string, value?: string];
