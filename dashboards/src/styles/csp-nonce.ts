/**
 * This page's Content-Security-Policy nonce for `<style>` elements that libraries create at run time
 * (CodeMirror). The api role puts a fresh one into the CSP header and into index.html's
 * `<meta property="csp-nonce">` for every page it serves (api/app.ts). Read from the element's `nonce`
 * property: browsers hide the attribute's value from scripts once the page is loaded.
 * Undefined when the page was not served that way (the Vite dev server sends no CSP).
 */
export function cspNonce(): string | undefined {
  const nonce = document.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]')?.nonce;
  return nonce && !nonce.startsWith('__') ? nonce : undefined;
}
