/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Test call from the browser: microphone -> AudioWorklet (48 kHz -> 16 kHz PCM16LE, 20 ms frames) ->
// WebSocket /ws/stream/:callId (the browser protocol) -> TOM's events in a log and TOM's audio played.
import type { VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import {
  type AudioBufferSourceLike,
  type AudioContextLike,
  browser,
  type MediaStreamLike,
} from "../ui/client/mod.ts";

/** Props of {@linkcode TestCall}. */
export interface TestCallProps {
  tokenUrl: string;
  csrf: string;
  workletUrl: string;
  texts: {
    start: string;
    stop: string;
    keyZero: string;
    level: string;
    state: string;
    idle: string;
    connecting: string;
    live: string;
    ended: string;
    micDenied: string;
    failed: string;
    events: string;
    heard: string;
    said: string;
    audio: string;
    phrase: string;
    tools: string;
    accepted: string;
    refused: string;
    noted: string;
    noneNoted: string;
    urgent: string;
    normal: string;
    /** Request kinds in German. */
    kinds: Record<string, string>;
    transfer: string;
    transferTargets: Record<string, string>;
    transferSummary: string;
    transferRinging: string;
    transferConnected: string;
    transferFailed: string;
    transferDetails: Record<string, string>;
    /** Why TOM transfers (the `transfer` event's reason) in German. */
    reasons: Record<string, string>;
    emergency: string;
  };
}

/** The call's transfer as the events told it (pipeline `transfer`, the transport's `transfer_ringing`). */
interface TransferItem {
  reason: string;
  targetKind: string;
  outcome: string;
  detail: string;
  summary: string;
  /** What rings (the practice's own extension or number), from the simulated `transfer_ringing`. */
  target?: string;
  ringMs?: number;
}

const fill = (tpl: string, v: Record<string, string>) => tpl.replace(/\{(\w+)\}/g, (_, k) => v[k] ?? "");
const str = (v: unknown) => (typeof v === "string" ? v : "");

/** The German lines of a transfer: what TOM does and why, and how it went. */
function transferLines(x: TransferItem, t: TestCallProps["texts"]): { head: string; state: string } {
  const target = fill(t.transferTargets[x.targetKind] ?? t.transferTargets.none ?? "", {
    target: x.target ?? "",
  })
    .replace(/ \(\w+ \)$/, "");
  const head = fill(t.transfer, { target, reason: t.reasons[x.reason] ?? x.reason }) +
    (x.summary ? ` ${fill(t.transferSummary, { summary: x.summary })}` : "");
  const state = x.outcome === "failed"
    ? fill(t.transferFailed, { detail: t.transferDetails[x.detail] ?? x.detail })
    : x.outcome === "connected"
    ? t.transferConnected
    : x.ringMs !== undefined
    ? fill(t.transferRinging, { seconds: (x.ringMs / 1000).toFixed(1).replace(".", ",") })
    : "";
  return { head, state };
}

/** A tool call as listed. */
interface ToolCallItem {
  name: string;
  accepted: boolean;
  reason: string;
}

/** A noted request as listed (no personal data: the link leads to the "Anliegen" page). */
interface NotedItem {
  id: string;
  kind: string;
  urgency: string;
}

const LOG_ROLE = { role: "log" } as Record<string, string>;
const STATUS_ROLE = { role: "status" } as Record<string, string>;

interface Running {
  ws: WebSocket;
  ctx: AudioContextLike;
  stream: MediaStreamLike | undefined;
  next: number;
  sources: AudioBufferSourceLike[];
}

/** The island. */
export default function TestCall(p: TestCallProps): VNode {
  const t = p.texts;
  const [state, setState] = useState(t.idle);
  const [busy, setBusy] = useState(false);
  const [level, setLevel] = useState(0);
  const [log, setLog] = useState<string[]>([]);
  const [heard, setHeard] = useState("");
  const [said, setSaid] = useState("");
  const [rxMs, setRxMs] = useState(0);
  const [phrase, setPhrase] = useState("");
  const [tools, setTools] = useState<ToolCallItem[]>([]);
  const [noted, setNoted] = useState<NotedItem[]>([]);
  const [transfer, setTransfer] = useState<TransferItem | null>(null);
  const [emergencies, setEmergencies] = useState<string[]>([]);
  const run = useRef<Running | undefined>(undefined);
  const add = (line: string) =>
    setLog((l) => [`${new Date().toLocaleTimeString("de-DE")} ${line}`, ...l].slice(0, 300));

  const stop = (note?: string) => {
    const r = run.current;
    run.current = undefined;
    if (r) {
      try {
        if (r.ws.readyState === WebSocket.OPEN) r.ws.send(JSON.stringify({ type: "stop" }));
        r.ws.close(1000);
      } catch { /* closed */ }
      r.stream?.getTracks().forEach((tr) => tr.stop());
      r.ctx.close().catch(() => {});
    }
    setBusy(false);
    setLevel(0);
    setState(note ?? t.ended);
  };
  useEffect(() => () => stop(), []);

  const play = (r: Running, pcm: ArrayBuffer) => {
    const samples = new Int16Array(pcm);
    if (samples.length === 0) return;
    setRxMs((v) => v + samples.length / 16);
    const buf = r.ctx.createBuffer(1, samples.length, 16_000);
    const ch = buf.getChannelData(0);
    for (let i = 0; i < samples.length; i++) ch[i] = samples[i] / 0x8000;
    const src = r.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(r.ctx.destination);
    r.next = Math.max(r.next, r.ctx.currentTime + 0.05);
    src.start(r.next);
    r.next += buf.duration;
    r.sources.push(src);
    src.onended = () => (r.sources = r.sources.filter((s) => s !== src));
  };

  const flush = (r: Running) => {
    for (const s of r.sources) {
      try {
        s.stop();
      } catch { /* not started */ }
    }
    r.sources = [];
    r.next = 0;
  };

  const start = async () => {
    setBusy(true);
    setState(t.connecting);
    setLog([]);
    setHeard("");
    setSaid("");
    setRxMs(0);
    setPhrase("");
    setTools([]);
    setNoted([]);
    setTransfer(null);
    setEmergencies([]);
    try {
      const res = await fetch(p.tokenUrl, {
        method: "POST",
        headers: { "X-CSRF-Token": p.csrf, "Content-Type": "application/json" },
        body: "{}",
        credentials: "same-origin",
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const { wsPath, token, callId } = await res.json() as { wsPath: string; token: string; callId: string };
      add(`call ${callId}`);
      const ctx = new browser.AudioContext({ sampleRate: 48_000 });
      await ctx.audioWorklet.addModule(p.workletUrl);
      let stream: MediaStreamLike;
      try {
        stream = await browser.navigator.mediaDevices.getUserMedia({
          audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
        });
      } catch {
        ctx.close().catch(() => {});
        stop(t.micDenied);
        return;
      }
      const proto = browser.location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(
        `${proto}//${browser.location.host}${wsPath}?token=${encodeURIComponent(token)}`,
      );
      ws.binaryType = "arraybuffer";
      const r: Running = { ws, ctx, stream, next: 0, sources: [] };
      run.current = r;
      const node = new browser.AudioWorkletNode(ctx, "pcm-capture", {
        numberOfInputs: 1,
        numberOfOutputs: 0,
      });
      node.port.onmessage = (m: MessageEvent<{ pcm: ArrayBuffer; level: number }>) => {
        setLevel(Math.min(1, m.data.level * 4));
        if (ws.readyState === WebSocket.OPEN) ws.send(m.data.pcm);
      };
      ws.onopen = () => {
        ws.send(JSON.stringify({ type: "start" }));
        ctx.createMediaStreamSource(stream).connect(node);
        setState(t.live);
        add("open");
      };
      ws.onmessage = (m) => {
        if (typeof m.data !== "string") return play(r, m.data as ArrayBuffer);
        let e: Record<string, unknown>;
        try {
          e = JSON.parse(m.data);
        } catch {
          return;
        }
        const type = String(e.type ?? "?");
        if (type === "barge_in" || type === "clear") flush(r);
        if (type === "stt_final" && typeof e.text === "string") setHeard(e.text);
        if (type === "llm_token" && typeof e.token === "string") setSaid((s) => s + e.token);
        if (type === "turn_end") setSaid((s) => s + "\n");
        if (type === "say" && typeof e.text === "string") setPhrase(e.text);
        if (type === "tool_call") {
          const item = {
            name: String(e.name ?? "?"),
            accepted: e.accepted === true,
            reason: typeof e.reason === "string" ? e.reason : "",
          };
          setTools((l) => [...l, item].slice(-50));
        }
        if (type === "request_noted" && typeof e.requestId === "string") {
          const item = { id: e.requestId, kind: String(e.kind ?? ""), urgency: String(e.urgency ?? "") };
          setNoted((l) => (l.some((x) => x.id === item.id) ? l : [...l, item]));
        }
        if (type === "transfer") {
          const item: TransferItem = {
            reason: str(e.reason),
            targetKind: str(e.targetKind),
            outcome: str(e.outcome),
            detail: str(e.detail),
            summary: str(e.summary),
          };
          // The ringing (sent between `started` and the outcome) names the target: keep it.
          setTransfer((x) => ({
            ...item,
            ...(x?.target !== undefined ? { target: x.target, ringMs: x.ringMs } : {}),
          }));
        }
        if (type === "transfer_ringing") {
          const target = str(e.target);
          const ringMs = typeof e.ringMs === "number" ? e.ringMs : 0;
          setTransfer((x) => x && { ...x, target, ringMs });
        }
        if (type === "emergency") setEmergencies((l) => [...l, str(e.label) || str(e.flag)].slice(-10));
        if (type === "tts_audio") return;
        const extra = Object.entries(e).filter(([k]) => k !== "type").map(([k, v]) =>
          `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`
        ).join(" ");
        add(`${type} ${extra}`.slice(0, 300));
        if (type === "call_end") stop();
      };
      ws.onerror = () => add("error");
      ws.onclose = (ev) => {
        add(`close ${ev.code}${ev.reason ? " " + ev.reason : ""}`);
        if (run.current === r) stop(ev.code === 1000 ? t.ended : `${t.failed} (${ev.code})`);
      };
    } catch (e) {
      add(String(e));
      stop(t.failed);
    }
  };

  return (
    <div>
      <div class="actions">
        <button type="button" onClick={start} disabled={busy}>{t.start}</button>
        <button type="button" class="secondary" onClick={() => stop()} disabled={!busy}>{t.stop}</button>
        <button
          type="button"
          class="secondary"
          data-testid="key-0"
          onClick={() => {
            const ws = run.current?.ws;
            if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "dtmf", digit: "0" }));
          }}
          disabled={!busy}
        >
          {t.keyZero}
        </button>
      </div>
      <p>
        <strong>{t.state}:</strong> <span role="status" data-testid="call-state">{state}</span>
      </p>
      <label for="mic-level">{t.level}</label>
      <meter id="mic-level" min={0} max={1} low={0.1} high={0.8} optimum={0.4} value={level}>
        {Math.round(level * 100)} %
      </meter>
      {emergencies.length > 0 && (
        <div role="alert" data-testid="test-call-emergency">
          {emergencies.map((label, i) => <p key={i} class="msg err">{fill(t.emergency, { label })}</p>)}
        </div>
      )}
      {transfer && (() => {
        const l = transferLines(transfer, t);
        return (
          <div
            class={transfer.outcome === "failed" ? "msg err" : "msg warn"}
            data-testid="test-call-transfer"
            data-outcome={transfer.outcome}
            {...(transfer.outcome === "failed" ? { role: "alert" } : STATUS_ROLE)}
          >
            <p>{l.head}</p>
            {l.state && <p>{l.state}</p>}
          </div>
        );
      })()}
      <dl class="facts">
        <dt>{t.heard}</dt>
        <dd data-testid="heard">{heard || "–"}</dd>
        <dt>{t.said}</dt>
        <dd data-testid="said">{said || "–"}</dd>
        <dt>{t.audio}</dt>
        <dd data-testid="rx-audio">{(rxMs / 1000).toFixed(1).replace(".", ",")} s</dd>
        <dt>{t.phrase}</dt>
        <dd data-testid="say">{phrase || "–"}</dd>
      </dl>
      <h2>{t.noted}</h2>
      {noted.length === 0 ? <p data-testid="noted-none">{t.noneNoted}</p> : (
        <ul data-testid="noted-requests">
          {noted.map((n) => (
            <li key={n.id}>
              <a href={`/requests/${encodeURIComponent(n.id)}`}>{t.kinds[n.kind] ?? n.kind}</a>
              {` (${n.urgency === "urgent" ? t.urgent : t.normal})`}
            </li>
          ))}
        </ul>
      )}
      {tools.length > 0 && (
        <>
          <h2>{t.tools}</h2>
          <ul data-testid="tool-calls">
            {tools.map((c, i) => (
              <li key={i}>
                <code>{c.name}</code>: {c.accepted ? t.accepted : t.refused}
                {c.reason && ` – ${c.reason}`}
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>{t.events}</h2>
      <div class="log" tabindex={0} aria-label={t.events} data-testid="event-log" {...LOG_ROLE}>
        <ol>
          {log.map((l, i) => <li key={log.length - i}>{l}</li>)}
        </ol>
      </div>
    </div>
  );
}
