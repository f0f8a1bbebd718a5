// The call's recording (WAV), only when it was recorded with consent and is still kept; audited.
import { callConsent } from "../../../store/mod.ts";
import { getCallRow } from "../../../store/mod.ts";
import { found } from "../../../ui/mod.ts";
import { join, resolve } from "../../../ui/mod.ts";
import { type Handlers, HttpError } from "../../../ui/mod.ts";
import { T } from "../../../ui/mod.ts";

export const handler: Handlers = {
  async GET(ctx) {
    const { account } = ctx.need();
    const call = found(getCallRow(ctx.deps.store, account.id, ctx.params.id));
    const consent = callConsent(ctx.deps.store, account.id, call.id);
    if (!call.recorded || !call.recordingPath || !consent?.recording) {
      throw new HttpError(404, T.api.notFound);
    }
    const base = resolve(join(ctx.deps.config.dataDir, "recordings"));
    const file = resolve(base, call.recordingPath);
    if (!file.startsWith(base + "/")) throw new HttpError(404, T.api.notFound);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch {
      throw new HttpError(404, T.api.notFound);
    }
    ctx.audit("recording.play", "call", call.id);
    const type = file.endsWith(".wav")
      ? "audio/wav"
      : file.endsWith(".ogg")
      ? "audio/ogg"
      : "application/octet-stream";
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { "Content-Type": type, "Cache-Control": "no-store" },
    });
  },
};
