// The typed domain configuration: what an xm config file means once parsed and validated.
// Every other room (QEMU driver, lifecycle, CLIs, renderer) works on these types, never on the
// raw file, so this is the one place that says what a domain can be.

/** What the engine does when a domain powers off, reboots or crashes (Xen's on_* actions). */
export type LifecycleAction =
  | 'destroy'
  | 'restart'
  | 'preserve'
  | 'rename-restart'
  | 'coredump-destroy'
  | 'coredump-restart';

export const LIFECYCLE_ACTIONS: readonly LifecycleAction[] = [
  'destroy',
  'restart',
  'preserve',
  'rename-restart',
  'coredump-destroy',
  'coredump-restart',
];

/** Disk image formats QEMU is told about explicitly (never probed: probing raw images is unsafe). */
export type DiskFormat = 'raw' | 'qcow2' | 'vmdk' | 'vdi' | 'vhd' | 'qcow';

/** Access mode of a disk: read-only, read-write, or read-write even if shared with another domain. */
export type DiskAccess = 'r' | 'w' | 'w!';

/** One entry of `disk = [...]`, in either the xm form or xl's key=value form. */
export interface DiskSpec {
  /**
   * `phy` (block device), `file` (image), `tap` (blktap: format given by the spec), `nbd` (an NBD
   * export, Xen's block-nbd script; QEMU is the client).
   */
  backend: 'phy' | 'file' | 'tap' | 'nbd';
  /**
   * Absolute path of the image or block device; '' for an empty CD-ROM drive; for `nbd` the
   * server as Xen wrote it, `<host> <port>`.
   */
  target: string;
  format: DiskFormat;
  /** Virtual device name as the guest sees it: `xvda`, `hdc`, `sda`, ... (partition suffix removed). */
  vdev: string;
  devtype: 'disk' | 'cdrom';
  access: DiskAccess;
  /**
   * The partition number the spec's vdev had (`hda1`): Xen gave a PV guest that partition as a
   * device of its own; here the image is a whole disk. Kept only to say so.
   */
  partition?: number;
}

/** One entry of `vif = [...]`. Absent keys take defaults at start time (e.g. a random Xen MAC). */
export interface VifSpec {
  /** `00:16:3e:xx:xx:xx` style, lower case. */
  mac?: string;
  /** Host bridge to attach a tap to. Absent: user-mode NAT (our default, needs no privileges). */
  bridge?: string;
  ip?: string;
  /** Host-side interface name (tap) when bridged. */
  vifname?: string;
  /** NIC model: `virtio` (QEMU virtio-net-pci), `e1000`, `rtl8139`, ... */
  model?: string;
  /** Rate limit as Xen writes it, e.g. `10Mb/s`. Kept and shown; not enforced by QEMU user NICs. */
  rate?: string;
  type?: 'ioemu' | 'netfront' | 'vif';
  script?: string;
  /** NAT port forwards host→guest, space-separated `tcp:2222:22` or `tcp:0.0.0.0:8080:80` (ours, not Xen's). */
  hostfwd?: string;
}

/** One entry of `vfb = [...]`, or the same facts from the top-level vnc* keys. */
export interface VfbSpec {
  type: 'vnc' | 'sdl';
  vnclisten?: string;
  vncdisplay?: number;
  vncunused?: boolean;
  vncpasswd?: string;
  keymap?: string;
}

export interface DomainConfig {
  name: string;
  uuid?: string;
  /** MiB */
  memory: number;
  /** MiB; defaults to memory when absent */
  maxmem?: number;
  vcpus: number;
  maxvcpus?: number;
  /** Pinning, Xen's syntax: "0-3,5,^1". */
  cpus?: string;
  /** Credit scheduler weight, 1..65535 (Xen's default 256 when absent): a relative CPU share. */
  cpu_weight?: number;
  /** Credit scheduler cap in % of one host CPU, 0..vcpus*100 (0 or absent: no cap). */
  cpu_cap?: number;
  builder: 'linux' | 'hvm';
  kernel?: string;
  ramdisk?: string;
  extra?: string;
  /** Appended to the kernel command line as `root=<value>`. */
  root?: string;
  bootloader?: string;
  bootargs?: string;
  /** Boot order letters: a floppy, c disk, d cdrom, n network. */
  boot?: string;
  disk: DiskSpec[];
  vif: VifSpec[];
  vfb: VfbSpec[];
  /** `serial = 'pty'` and friends; we always give a serial console, this is kept for round trips. */
  serial?: string;
  /** Guest VGA: `std` (stdvga=1) or `cirrus` (Xen's HVM default). */
  stdvga: boolean;
  /** No graphical console at all. */
  nographic: boolean;
  localtime: boolean;
  acpi: boolean;
  apic: boolean;
  pae: boolean;
  usb: boolean;
  usbdevice?: string;
  soundhw?: string;
  on_poweroff: LifecycleAction;
  on_reboot: LifecycleAction;
  on_crash: LifecycleAction;
  /** Free text shown in the GUI (Xen API's name_description). */
  description?: string;
  /** Xen's managed-domain autostart: `start` boots the domain when xend starts. */
  on_xend_start?: 'ignore' | 'start';
  /** What xend does to the domain when it stops. Kept for Xen configs; Dom0 leaves domains running. */
  on_xend_stop?: 'ignore' | 'shutdown' | 'suspend';
}

/** A problem found in a config file, located as `file:line:col` for the user. */
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  message: string;
}
