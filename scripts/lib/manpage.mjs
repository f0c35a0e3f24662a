// @ts-check
// Man pages (roff, man(7) macros) made from the text the programs print for --help and from the
// README's config table, so the pages cannot drift from what the commands say.

/**
 * Text for roff: backslashes doubled, and a line starting with . or ' made literal.
 * @param {string} text
 */
export function roffEscape(text) {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

/**
 * Preformatted help text (its columns are aligned with spaces, so it stays unfilled).
 * @param {string} text
 */
export function preformatted(text) {
  return `.nf\n${roffEscape(text.replace(/\s+$/, ''))}\n.fi`;
}

/**
 * Inline markdown (`code`, **bold**) to roff fonts; everything else escaped.
 * @param {string} text
 */
export function inlineMarkdown(text) {
  return roffEscape(text)
    .replace(/`([^`]+)`/g, '\\fB$1\\fR')
    .replace(/\*\*([^*]+)\*\*/g, '\\fB$1\\fR')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1');
}

/**
 * The README section under `heading` (up to the next heading of the same or a higher level).
 * @param {string} readme
 * @param {string} heading  e.g. '### How a config maps to QEMU'
 */
export function markdownSection(readme, heading) {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`README has no section "${heading}": the man page is made from it`);
  const level = /^#+/.exec(heading)?.[0].length ?? 2;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && (/^#+/.exec(l)?.[0].length ?? 9) <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n').trim();
}

/**
 * Markdown paragraphs and tables to roff: a table becomes a .TP list (first column as the tag).
 * @param {string} markdown
 */
export function markdownToRoff(markdown) {
  /** @type {string[]} */
  const out = [];
  for (const block of markdown.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim());
    if (lines.length === 0) continue;
    if (lines.every((l) => l.trim().startsWith('|'))) {
      for (const row of lines.slice(2)) {
        const cells = row.trim().replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
        out.push('.TP', inlineMarkdown(cells[0] ?? ''), inlineMarkdown(cells.slice(1).join(' ')));
      }
    } else {
      out.push('.PP', inlineMarkdown(lines.join(' ')));
    }
  }
  return out.join('\n');
}

/**
 * A whole page.
 * @param {{ name: string, section: number, summary: string, version: string, date: string, sections: Array<{ heading: string, roff: string }> }} page
 */
export function manPage({ name, section, summary, version, date, sections }) {
  const head = [
    `.TH ${name.toUpperCase().replace(/-/g, '\\-')} ${section} "${date}" "Dom0 ${version}" "Dom0"`,
    '.SH NAME',
    `${roffEscape(name)} \\- ${roffEscape(summary)}`,
  ];
  const body = sections.flatMap((s) => [`.SH ${s.heading.toUpperCase()}`, s.roff]);
  return `${[...head, ...body].join('\n')}\n`;
}
