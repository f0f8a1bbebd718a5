/**
 * Where the browser may go after login (`/login?next=...`) or any other UI redirect: a path on TOM's own
 * site, never another one. The raw value is refused when it holds a backslash or a control character
 * (browsers drop tabs and line breaks, so `/\t/evil.example/` would become `//evil.example/`); otherwise it
 * is resolved against a placeholder origin the way a browser resolves it, must keep that origin and must
 * not normalise to a protocol-relative `//host` path. The result is the normalised, percent-encoded path,
 * query and fragment: plain ASCII, so it is always a valid `Location` header. Anything else gives "/".
 *
 * @module
 */

const BASE = "http://x.invalid";
/** Longer `next` values are no page of TOM's. */
const MAX_LENGTH = 2048;

/** `raw` as a same-site path (normalised, ASCII), or "/" when it is missing or could leave the site. */
export function sameSitePath(raw: string | null | undefined): string {
  // deno-lint-ignore no-control-regex -- control characters are exactly what is refused
  if (!raw || raw.length > MAX_LENGTH || !raw.startsWith("/") || /[\\\u0000-\u001f\u007f]/.test(raw)) {
    return "/";
  }
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return "/";
  }
  if (url.origin !== BASE) return "/";
  const path = url.pathname + url.search + url.hash;
  return path.startsWith("/") && !path.startsWith("//") ? path : "/";
}
