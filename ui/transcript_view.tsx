/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// A transcript as a conversation; utterances cut short by a barge-in are marked.
import type { VNode } from "preact";
import type { PlainTurn } from "../store/crypto/mod.ts";
import { T } from "./texts_de.ts";

/** The conversation. */
export function Transcript(p: { turns: PlainTurn[] }): VNode {
  return (
    <ol class="transcript" aria-label={T.calls.transcript}>
      {p.turns.map((t) => (
        <li key={t.turnIndex} class={`turn ${t.speaker}${t.interrupted ? " interrupted" : ""}`}>
          <span class="speaker">
            {t.speaker === "caller" ? T.calls.caller : T.calls.assistant}
            {t.interrupted && (
              <>
                {" – "}
                <strong title={T.calls.bargeInLong}>{T.calls.bargeIn}</strong>
                <span class="sr-only">: {T.calls.bargeInLong}</span>
              </>
            )}
          </span>
          {t.text}
        </li>
      ))}
    </ol>
  );
}
