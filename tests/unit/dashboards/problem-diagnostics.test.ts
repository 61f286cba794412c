import { describe, expect, it } from 'vitest';
import { Text } from '@codemirror/state';
import { problemDiagnostics, type LinedProblem } from '../../../dashboards/src/pages/rules/problem-diagnostics.js';

const yaml = Text.of(['id: demo', 'terms:', '  - { term: 拖着不办, level: 9 }', '']);
const lineStart = (n: number) => yaml.line(n).from;

describe('problemDiagnostics: the API’s validation problems as editor diagnostics at their line', () => {
  it.each<[string, LinedProblem, { from: number; to: number; message: string } | undefined]>([
    // line and column: from the column to the end of the line
    ['line 3, column 28', { line: 3, column: 28, field: 'terms.0.level', message: 'Invalid input' }, { from: lineStart(3) + 27, to: yaml.line(3).to, message: 'terms.0.level：Invalid input' }],
    // a line without a column: the whole line
    ['line 1, no column', { line: 1, field: 'id', message: 'taken' }, { from: 0, to: 8, message: 'id：taken' }],
    // a column past the text: the whole line, so the mark stays visible
    ['column past the end', { line: 2, column: 40, field: 'terms', message: 'empty' }, { from: lineStart(2), to: yaml.line(2).to, message: 'terms：empty' }],
    // no field: the message alone
    ['no field', { line: 2, field: '', message: 'bad indentation' }, { from: lineStart(2), to: yaml.line(2).to, message: 'bad indentation' }],
    // about the whole pack: stays in the list only
    ['no line', { field: 'id', message: 'also used by other.yaml' }, undefined],
    // the document was shortened since it was validated
    ['line beyond the document', { line: 9, field: 'terms', message: 'x' }, undefined],
  ])('%s', (_case, problem, expected) => {
    const [diagnostic, ...rest] = problemDiagnostics(yaml, [problem]);
    expect(rest).toEqual([]);
    if (!expected) return expect(diagnostic).toBeUndefined();
    expect(diagnostic).toMatchObject({ ...expected, severity: 'error' });
  });
});
