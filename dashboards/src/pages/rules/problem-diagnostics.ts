import type { Text } from '@codemirror/state';
import type { Diagnostic } from '@codemirror/lint';

/** A validation problem as the rules API returns it (core/rules/rule-pack.ts `RuleProblem`), 1-based. */
export interface LinedProblem {
  line?: number;
  column?: number;
  field: string;
  message: string;
}

/**
 * The problems that name a line, as diagnostics on the document: from the named column (the line's
 * start without one) to the line's end, so the mark stays visible when the column points past the
 * text. Problems without a line concern the whole pack and stay in the list below the editor; a line
 * beyond the document (it was shortened since validating) is left out.
 */
export function problemDiagnostics(doc: Text, problems: readonly LinedProblem[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const p of problems) {
    if (!p.line || p.line > doc.lines) continue;
    const line = doc.line(p.line);
    const from = Math.min(line.from + Math.max(0, (p.column ?? 1) - 1), line.to);
    diagnostics.push({
      from: from === line.to ? line.from : from,
      to: line.to,
      severity: 'error',
      source: p.field || undefined,
      message: p.field ? `${p.field}：${p.message}` : p.message,
    });
  }
  return diagnostics;
}
