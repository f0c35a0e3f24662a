// The few facts the adapter reads from a domain's libvirt XML: its graphics listener and its
// file-backed disks. libvirt writes this XML itself (one element per line, attributes quoted), so
// attribute matching is enough; edits go back through defineXML, never through this file.

export interface VncListener {
  /** A unix socket on the domain's host, or a TCP address there. */
  socket?: string;
  host?: string;
  port?: number;
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}=(['"])(.*?)\\1`).exec(tag);
  return m ? unescape(m[2]!) : undefined;
}

function unescape(s: string): string {
  return s.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The running domain's VNC server, or null when it has no VNC graphics. */
export function vncListenerOf(xml: string): VncListener | null {
  const m = /<graphics\b[^>]*\btype=(['"])vnc\1[^>]*>([\s\S]*?<\/graphics>)?/.exec(xml);
  if (!m) return null;
  const tag = m[0];
  const open = /<graphics\b[^>]*>/.exec(tag)![0];
  const socket = attr(open, 'socket') ?? (/<listen\b[^>]*type=(['"])socket\1[^>]*>/.exec(tag) ? attr(/<listen\b[^>]*type=(['"])socket\1[^>]*>/.exec(tag)![0], 'socket') : undefined);
  if (socket) return { socket };
  const port = Number(attr(open, 'port') ?? '-1');
  if (!(port > 0)) return null;
  let host = attr(open, 'listen');
  const listenTag = /<listen\b[^>]*type=(['"])address\1[^>]*>/.exec(tag);
  if (listenTag) host = attr(listenTag[0], 'address') ?? host;
  // A wildcard listener is reachable on loopback too.
  if (!host || host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  return { host, port };
}

/** Paths of the domain's file-backed disks (what the delete dialog offers to remove). */
export function diskFilesOf(xml: string): string[] {
  const out: string[] = [];
  for (const m of xml.matchAll(/<disk\b[^>]*\btype=(['"])file\1[^>]*>([\s\S]*?)<\/disk>/g)) {
    const src = /<source\b[^>]*>/.exec(m[2]!);
    const file = src ? attr(src[0], 'file') : undefined;
    if (file) out.push(file);
  }
  return out;
}

function element(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescape(m[1]!) : undefined;
}

export interface SnapshotFacts {
  name: string;
  description: string;
  /** ms since the epoch */
  createdAt: number;
  state: 'running' | 'paused' | 'shutoff';
  parent?: string;
  /** Whether guest memory was saved with it. */
  memory: boolean;
}

/** A snapshot's facts from its <domainsnapshot> XML. */
export function snapshotFactsOf(xml: string): SnapshotFacts {
  const top = xml.replace(/<domain\b[\s\S]*<\/domain>/, '').replace(/<inactiveDomain\b[\s\S]*<\/inactiveDomain>/, '');
  const parent = /<parent>\s*<name>([\s\S]*?)<\/name>/.exec(top);
  const own = top.replace(/<parent>[\s\S]*?<\/parent>/, '');
  const state = element(own, 'state') ?? 'shutoff';
  const memory = /<memory\b[^>]*\bsnapshot=(['"])(internal|external)\1/.test(top);
  return {
    name: element(own, 'name') ?? '',
    description: element(own, 'description') ?? '',
    createdAt: Number(element(own, 'creationTime') ?? '0') * 1000,
    state: state === 'running' ? 'running' : state === 'paused' ? 'paused' : 'shutoff',
    parent: parent ? unescape(parent[1]!) : undefined,
    memory,
  };
}

/** Text for an XML element or attribute. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
