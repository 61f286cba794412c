import { describe, expect, it } from 'vitest';
import { isWebLink } from '../../../dashboards/src/format/links.js';

describe('links the dashboard binds to href', () => {
  it.each([
    ['https://www.qingshan.gov.cn/xwzx/1.html', true],
    ['HTTP://www.qingshan.gov.cn/', true],
    ["javascript:fetch('/api/users')", false], // would run in the dashboard's origin
    ['JavaScript:alert(1)', false],
    ['data:text/html,<script>alert(1)</script>', false],
    ['/api/evidence/abc', false], // a file reference, shown as text
    [undefined, false],
  ])('%s → %s', (url, expected) => {
    expect(isWebLink(url)).toBe(expected);
  });
});
