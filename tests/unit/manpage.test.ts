// scripts/lib/manpage.mjs: --help text and README tables to man(7) roff, rendered here by man-db
// itself (groff) so a page that would not render fails.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { manPage, markdownSection, markdownToRoff, preformatted, roffEscape } from '../../scripts/lib/manpage.mjs';

const dir = mkdtempSync(join(tmpdir(), 'd0-man-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const render = (roff: string) => {
  const file = join(dir, 'page.1');
  writeFileSync(file, roff);
  return execFileSync('man', ['-l', file], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100' } });
};

describe('roff', () => {
  test('backslashes, dashes and lines starting with a dot or quote stay literal', () => {
    expect(roffEscape(".hidden\n'quoted\nC:\\dir --web")).toBe("\\&.hidden\n\\&'quoted\nC:\\edir \\-\\-web");
  });

  test('help text renders as printed, columns kept', () => {
    const help = "Usage: xm create <ConfigFile> [options]\n  -c, --console_autoconnect  Connect to the console\n.not-a-macro  \\n stays";
    const out = render(manPage({ name: 'xm', section: 1, summary: 'test', version: '1', date: '2026-01-01', sections: [{ heading: 'Description', roff: preformatted(help) }] }));
    for (const line of help.split('\n')) expect(out).toContain(line);
  });

  test('a README table becomes a list of tagged paragraphs', () => {
    const md = "Intro with `code` and **bold**.\n\n| xm config | QEMU |\n|---|---|\n| `vcpus`, `maxvcpus` | `-smp cpus=,maxcpus=` |\n| `a \\| b` | c |";
    const roff = markdownToRoff(md);
    expect(roff).toBe('.PP\nIntro with \\fBcode\\fR and \\fBbold\\fR.\n.TP\n\\fBvcpus\\fR, \\fBmaxvcpus\\fR\n\\fB\\-smp cpus=,maxcpus=\\fR\n.TP\n\\fBa | b\\fR\nc');
    expect(render(manPage({ name: 'x', section: 5, summary: 's', version: '1', date: '2026-01-01', sections: [{ heading: 'Settings', roff }] }))).toMatch(/vcpus, maxvcpus\n +-smp cpus=,maxcpus=/);
  });

  test('a README section ends at the next heading of its level or above', () => {
    const readme = '## A\ntext a\n### B\nin b\n#### deeper\nstill b\n### C\nnot b';
    expect(markdownSection(readme, '### B')).toBe('in b\n#### deeper\nstill b');
    expect(() => markdownSection(readme, '### Z')).toThrow(/README has no section "### Z"/);
  });
});
