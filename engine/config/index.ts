// Public API of the config room: the xm config format (safe parser, serializer, validation) and
// the typed DomainConfig every other room works on. Other rooms import only this file.

export type {
  ConfigIssue,
  DiskAccess,
  DiskFormat,
  DiskSpec,
  DomainConfig,
  LifecycleAction,
  VfbSpec,
  VifSpec,
} from './types.js';
export { LIFECYCLE_ACTIONS } from './types.js';

export { ConfigError, SpecError, XmSyntaxError, formatIssue, type SpecKind } from './errors.js';
export {
  XmFloat,
  cloneXmValue,
  formatXmString,
  formatXmValue,
  xmLookup,
  type XmAssignment,
  type XmFile,
  type XmValue,
} from './values.js';
export { COMMAND_LINE, MAX_EXPANDED_SIZE, MAX_FILE_BYTES, parseOverride, parseXm } from './parser.js';
export { MAX_NESTING } from './lexer.js';
export { DISK_FORMATS, formatDiskSpec, parseDiskSpec, parseNbdTarget } from './disk.js';
export { VIF_KEYS, checkIfname, formatVifSpec, normaliseMac, parseHostfwd, parseVifSpec, type PortForward } from './vif.js';
export { MAX_VNC_DISPLAY, formatVfbSpec, parseVfbSpec } from './vfb.js';
export {
  DOMAIN_DEFAULTS,
  MEMORY_MAX_MIB,
  MEMORY_MIN_MIB,
  VCPUS_MAX,
  checkCpus,
  checkDomainName,
  domainConfigFromXm,
  loadDomainConfigText,
} from './validate.js';
export { serializeDomainConfig, serializeXm } from './serialize.js';
