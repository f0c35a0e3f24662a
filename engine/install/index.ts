// Public API of the install room: install descriptions → xm config + disks (virt-install, the New
// VM wizard), the OS catalogue, media detection, network install trees, the web-mode file browser.
export type { InstallDescription, InstallSource, DiskRequest, NetworkRequest, DiskBus } from './types.js';
export { InstallError, type InstallErrorCode } from './errors.js';
export { loadCatalogue, findOs, genericOs, osFromIsoLabel, osFromTreeInfo, osFromUrl, type OsEntry } from './catalogue.js';
export { checkReadableFile, readIsoLabel } from './media.js';
export { probeInstallTree, checkTreeUrl, type InstallTree } from './tree.js';
export { planInstall, checkDescription, NAME_PATTERN, type InstallPlan, type NewDisk } from './plan.js';
export { createDomain, followPendingInstalls, installedConfig, freeBytes, type CreateDomainOptions, type CreateDomainResult, type InstallDomains } from './create.js';
export { listFolder, type FileListing } from './file-browser.js';
