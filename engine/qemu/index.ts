// The QEMU driver's public API: the only room that knows QEMU's argv and QMP.
export { planQemu, qemuArgv, formatQemuOptions, HOTPLUG_PORTS, hotplugPortId, NIC_MODELS, hostfwdRules, tapName } from './argv/index.js';
export type { Accelerator, QemuContext, QemuOption, QemuPlan, DiskPlacement, NicPlacement } from './argv/index.js';
export { chooseAccelerator, probeKvm, parseAccelSetting } from './accel.js';
export type { AccelChoice, AccelSetting, KvmProbeResult } from './accel.js';
export { findQemuSystem, findQemuImg } from './binary.js';
export { QemuImg, QemuImgError } from './qemu-img.js';
export { iscsiProtocol } from './argv/iscsi.js';
export type { ImageFormat, ImageInfo, QemuImgFailure } from './qemu-img.js';
export { launchQemu } from './launch.js';
export type { LaunchedQemu, LaunchOptions } from './launch.js';
export { preflightDomain } from './preflight.js';
export { isProcessAlive, qemuProcessesUnder, readProcStat, parseProcStat } from './procfs.js';
export type { ProcStat } from './procfs.js';
export * from './errors.js';
export { QmpClient } from './qmp/index.js';
