/**
 * Whether a URL from a post or a piece of evidence may be an `href`: http(s) only. A pushed
 * `javascript:` URL would otherwise run in the dashboard's origin when clicked.
 */
export function isWebLink(url: string | undefined): url is string {
  return url !== undefined && /^https?:\/\//i.test(url);
}
