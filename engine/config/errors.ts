// Error tree of the config room:
//
//   XmSyntaxError  the text is not in the safe xm subset (file:line:col of the first offending token)
//   SpecError      one disk/vif/vfb spec string is malformed (names the spec and the bad part)
//   ConfigError    the file parsed but does not describe a valid domain (every issue, located)
//
// Each is a different thing for the caller to do: fix the syntax, fix one device line, or fix values.

import type { ConfigIssue } from './types.js';

export class XmSyntaxError extends Error {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The message without the location prefix, for callers that lay out locations themselves. */
  readonly reason: string;

  constructor(file: string, line: number, col: number, reason: string) {
    super(`${file}:${line}:${col}: ${reason}`);
    this.name = 'XmSyntaxError';
    this.file = file;
    this.line = line;
    this.col = col;
    this.reason = reason;
  }
}

export type SpecKind = 'disk' | 'vif' | 'vfb';

export class SpecError extends Error {
  readonly kind: SpecKind;
  readonly spec: string;
  /** What is wrong, without the spec quoted in front. */
  readonly reason: string;

  constructor(kind: SpecKind, spec: string, reason: string) {
    super(`bad ${kind} spec ${JSON.stringify(spec)}: ${reason}`);
    this.name = 'SpecError';
    this.kind = kind;
    this.spec = spec;
    this.reason = reason;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
