/**
 * Reading a request body with a cap: a declared `Content-Length` over the cap is refused unread, and a
 * chunked body is read piece by piece and cancelled as soon as it passes the cap, so a client pushing
 * 256 MiB costs at most the cap in memory. (hono's `bodyLimit` middleware also stops at the cap, but
 * leaves the stream uncancelled and gives the route no size to report.)
 *
 * @module
 */

/** The body as text, or how many bytes it had (or declared) when it passed `max`. */
export type BodyText = { ok: true; text: string } | { ok: false; size: number; declared: boolean };

/** Read `req`'s body as UTF-8 text, at most `max` bytes. */
export async function readBodyText(req: Request, max: number): Promise<BodyText> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > max) {
    await req.body?.cancel().catch(() => {});
    return { ok: false, size: Number(declared), declared: true };
  }
  if (!req.body) return { ok: true, text: "" };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return { ok: false, size, declared: false };
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return { ok: true, text: new TextDecoder().decode(all) };
}
