/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Test call: talk to TOM with this computer's microphone over the browser protocol (/ws/stream).
import type { VNode } from "preact";
import { Island } from "./_islands.ts";
import { T } from "../ui/mod.ts";
import type { Handlers, PageProps } from "../ui/mod.ts";
import { demoModelRoles } from "../infra/mod.ts";

interface Data {
  workletUrl: string | null;
  /** TOM runs the synthetic demo models: say so before the call starts. */
  demoModels: boolean;
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    return ctx.render({
      workletUrl: ctx.deps.assets.url("pcm_capture-worklet") ?? null,
      demoModels: demoModelRoles(ctx.deps.config).length > 0,
    }, {
      title: T.testCall.title,
    });
  },
};

export default function TestCallPage({ data, csrf }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.testCall.title}</h1>
      <p>{T.testCall.intro}</p>
      {data.demoModels && <p class="msg warn" id="demo-models-call">{T.demoModels.testCall}</p>}
      <noscript>
        <p class="msg warn">{T.app.noScript}</p>
      </noscript>
      <section class="card">
        {data.workletUrl
          ? (
            <Island
              name="TestCall"
              props={{
                tokenUrl: "/api/test-call",
                csrf,
                workletUrl: data.workletUrl,
                texts: { ...T.testCall, kinds: T.requests.kinds, reasons: T.live.reasons },
              }}
            />
          )
          : <p class="msg warn">{T.app.noScript}</p>}
      </section>
    </>
  );
}
