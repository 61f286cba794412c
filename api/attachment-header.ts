/**
 * A `Content-Disposition` for a download: `fallback` (ASCII) for old clients, `name` as RFC 5987
 * UTF-8. A name holding half a surrogate pair (a title cut through an emoji) would make
 * `encodeURIComponent` throw; it is made well-formed first, so a download never fails on its name.
 */
export function attachmentHeader(fallback: string, name: string): string {
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name.toWellFormed())}`;
}
