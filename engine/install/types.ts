// What a new domain is to be, as virt-install describes it: where it installs from, its disks,
// memory, vCPUs, network and display. engine/install turns one of these into an xm config file and
// its disk images; the protocol schema (xend-api-install.ts) carries the same shape.

/** Where the guest's operating system comes from (virt-install's install options). */
export type InstallSource =
  /** `--cdrom PATH`: a local ISO, attached as a CD-ROM and booted first. */
  | { kind: 'cdrom'; path: string }
  /** `--location URL [--extra-args ...]`: a network install tree; its kernel and initrd are fetched and booted. */
  | { kind: 'location'; url: string; extraArgs?: string }
  /** `--import`: the first disk already holds an installed system. */
  | { kind: 'import' }
  /** `--boot kernel=,initrd=,kernel_args=`: boot a kernel file directly, every time. */
  | { kind: 'kernel'; kernel: string; initrd?: string; args?: string }
  /** `--pxe`: boot from the network card. */
  | { kind: 'pxe' };

export type DiskBus = 'virtio' | 'sata' | 'ide';
export type NewDiskFormat = 'qcow2' | 'raw';

export type DiskRequest =
  /** A new image of sizeGiB (the OS's recommended size when absent) in the default directory pool (<data>/images/<name>[-N].<format>). */
  | { kind: 'new'; sizeGiB?: number; format?: NewDiskFormat; bus?: DiskBus; path?: string }
  /** An existing image or block device; its format is detected when not given. */
  | { kind: 'existing'; path: string; format?: 'raw' | 'qcow2'; bus?: DiskBus; readonly?: boolean }
  /** `--disk device=cdrom[,path=ISO]`: a CD-ROM drive, empty without a path. */
  | { kind: 'cdrom'; path?: string };

export type NetworkRequest =
  | { kind: 'nat'; model?: string; mac?: string }
  | { kind: 'bridge'; bridge: string; model?: string; mac?: string }
  | { kind: 'none' };

export interface InstallDescription {
  name: string;
  /** MiB; the OS variant's recommendation when absent. */
  memory?: number;
  /** `--memory N,maxmemory=M`: xm's maxmem (MiB). */
  maxMemory?: number;
  vcpus?: number;
  /** `--vcpus N,maxvcpus=M`: vCPUs that can be brought online later. */
  maxVcpus?: number;
  /** Catalogue id (`debian12`), `detect` (the default) or `generic`. */
  osVariant?: string;
  source: InstallSource;
  disks: DiskRequest[];
  network: NetworkRequest;
  /** Second and further `--network` options, in order. */
  moreNetworks?: NetworkRequest[];
  graphics: 'vnc' | 'none';
  /** `--graphics vnc,password=,keymap=,listen=`. */
  vnc?: { password?: string; keymap?: string; listen?: string };
  /** `--livecd`: the CD-ROM stays the boot device after the install. */
  liveCd?: boolean;
  /** Write the definition but do not start it (the wizard's "Customize configuration before install"). */
  start?: boolean;
  description?: string;
}
