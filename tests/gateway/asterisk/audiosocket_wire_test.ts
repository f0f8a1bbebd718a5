import assert from "node:assert/strict";
import {
  type AudioSocketMessage,
  AudioSocketParser,
  AudioSocketProtocolError,
  encodeAudio,
  encodeMessage,
  HANGUP_MESSAGE,
  KIND,
  MAX_AUDIO_MS,
  maxPayloadFor,
  slinKindFor,
  uuidBytes,
  uuidText,
} from "../../../gateway/asterisk/audiosocket_wire.ts";

const UUID = "b767d375-f8bc-4e7c-8f0e-e053bbbb903a";

function stream(): Uint8Array {
  const pcm = Int16Array.from({ length: 160 }, (_, i) => (i * 397) % 30000 - 15000);
  const parts = [
    encodeMessage(KIND.uuid, uuidBytes(UUID)),
    encodeAudio(0x10, pcm),
    encodeMessage(KIND.dtmf, new TextEncoder().encode("5")),
    encodeAudio(0x12, pcm.subarray(0, 12)),
    encodeMessage(KIND.error, new Uint8Array([0x02])),
    HANGUP_MESSAGE,
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function summary(ms: AudioSocketMessage[]): string[] {
  return ms.map((m) => {
    switch (m.kind) {
      case "uuid":
        return `uuid ${m.uuid}`;
      case "audio":
        return `audio 0x${m.type.toString(16)} ${m.rate} ${m.pcm.length} ${m.pcm[0]},${
          m.pcm[m.pcm.length - 1]
        }`;
      case "dtmf":
        return `dtmf ${m.digit}`;
      case "error":
        return `error ${m.code}`;
      case "hangup":
        return "hangup";
    }
  });
}

const EXPECTED = [
  `uuid ${UUID}`,
  "audio 0x10 8000 160 -15000,-11877",
  "dtmf 5",
  "audio 0x12 16000 12 -15000,-10633",
  "error 2",
  "hangup",
];

Deno.test("the parser reads several messages from one read", () => {
  assert.deepEqual(summary(new AudioSocketParser().push(stream())), EXPECTED);
});

Deno.test("the parser reads messages split at every possible place", () => {
  const bytes = stream();
  for (let cut = 0; cut <= bytes.length; cut++) {
    const p = new AudioSocketParser();
    const got = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
    assert.deepEqual(summary(got), EXPECTED, `cut at ${cut}`);
    assert.equal(p.pendingBytes, 0);
  }
});

Deno.test("the parser reads a stream fed one byte at a time, and empty reads change nothing", () => {
  const bytes = stream();
  const p = new AudioSocketParser();
  const got: AudioSocketMessage[] = [];
  for (const b of bytes) {
    got.push(...p.push(new Uint8Array(0)));
    got.push(...p.push(new Uint8Array([b])));
  }
  assert.deepEqual(summary(got), EXPECTED);
});

Deno.test("the parser reports each message's size on the wire", () => {
  const sizes = new AudioSocketParser().push(stream()).map((m) => m.bytes);
  assert.deepEqual(sizes, [19, 323, 4, 27, 4, 3]);
});

Deno.test("kind 0x10 carries the configured rate (older Asterisk sends 0x10 for every rate)", () => {
  const [m] = new AudioSocketParser({ slinRate: 16000 }).push(encodeAudio(0x10, new Int16Array(320)));
  assert.equal(m.kind === "audio" && m.rate, 16000);
  assert.throws(() => new AudioSocketParser({ slinRate: 11025 }), RangeError);
});

Deno.test("an unknown kind is refused as soon as its header arrives; the messages before it are kept", () => {
  for (const kind of [0x02, 0x04, 0x0f, 0x19, 0x20, 0x7f, 0xfe]) {
    const p = new AudioSocketParser();
    assert.deepEqual(p.push(new Uint8Array([kind, 0x00, 0x05])), []);
    assert.ok(p.error instanceof AudioSocketProtocolError, `kind ${kind}`);
  }
  const p = new AudioSocketParser();
  const uuid = encodeMessage(KIND.uuid, uuidBytes(UUID));
  const got = p.push(new Uint8Array([...uuid, ...HANGUP_MESSAGE, 0x42, 0, 0, ...HANGUP_MESSAGE]));
  assert.deepEqual(summary(got), [`uuid ${UUID}`, "hangup"]);
  assert.match(p.error?.message ?? "", /kind 0x42/);
  assert.deepEqual(p.push(HANGUP_MESSAGE), [], "a dead stream yields nothing more");
});

Deno.test("an oversize length is refused before its payload is buffered", () => {
  const cases: [number, number][] = [
    [KIND.hangup, 1],
    [KIND.uuid, 17],
    [KIND.uuid, 15 + 0xff00],
    [KIND.dtmf, 2],
    [KIND.error, 65],
    [0x10, (8000 * MAX_AUDIO_MS) / 1000 * 2 + 2],
    [0x12, (16000 * MAX_AUDIO_MS) / 1000 * 2 + 2],
    [0x10, 0xffff],
  ];
  for (const [kind, length] of cases) {
    const p = new AudioSocketParser();
    p.push(new Uint8Array([kind, length >> 8, length & 0xff]));
    assert.ok(p.error instanceof AudioSocketProtocolError, `kind ${kind} length ${length}`);
    assert.equal(p.pendingBytes, 0);
  }
  // The gateway's own cap applies below the kind's.
  const capped = new AudioSocketParser({ maxPayloadBytes: 100 });
  capped.push(new Uint8Array([0x10, 0, 102]));
  assert.match(capped.error?.message ?? "", /at most 100/);
});

Deno.test("a UUID of the wrong size is refused", () => {
  const p = new AudioSocketParser();
  assert.deepEqual(p.push(encodeMessage(KIND.uuid, new Uint8Array(10))), []);
  assert.match(p.error?.message ?? "", /16/);
});

Deno.test("DTMF that is not a digit is dropped, lower-case letters are upper-cased", () => {
  const enc = (s: string) => encodeMessage(KIND.dtmf, new TextEncoder().encode(s));
  const p = new AudioSocketParser();
  const got = [enc("x"), enc("a"), encodeMessage(KIND.dtmf), enc("#"), enc("*")].flatMap((m) => p.push(m));
  assert.deepEqual(summary(got), ["dtmf A", "dtmf #", "dtmf *"]);
});

Deno.test("an odd audio payload loses its last byte, an empty one is empty", () => {
  const p = new AudioSocketParser();
  const [odd] = p.push(encodeMessage(0x10, new Uint8Array([1, 0, 2, 0, 3])));
  assert.deepEqual(odd.kind === "audio" && [...odd.pcm], [1, 2]);
  const [empty] = p.push(encodeMessage(0x10));
  assert.equal(empty.kind === "audio" && empty.pcm.length, 0);
});

Deno.test("audio is little-endian 16-bit and round-trips through encodeAudio", () => {
  const pcm = Int16Array.from([0, 1, -1, 32767, -32768, 258]);
  const bytes = encodeAudio(0x11, pcm);
  assert.deepEqual([...bytes.subarray(0, 5)], [0x11, 0, 12, 0, 0]);
  assert.deepEqual([...bytes.subarray(13)], [2, 1]);
  const [m] = new AudioSocketParser().push(bytes);
  assert.deepEqual(m.kind === "audio" && [m.rate, ...m.pcm], [12000, ...pcm]);
});

Deno.test("helpers: kinds for rates, limits, UUID text", () => {
  assert.equal(slinKindFor(8000), 0x10);
  assert.equal(slinKindFor(44100), 0x15);
  assert.equal(slinKindFor(192000), 0x18);
  assert.equal(slinKindFor(11025), undefined);
  assert.equal(maxPayloadFor(0x18), 0xffff);
  assert.equal(maxPayloadFor(0x02), undefined);
  assert.equal(uuidText(uuidBytes(UUID.replace(/-/g, ""))), UUID);
  assert.throws(() => uuidBytes("not-a-uuid"), RangeError);
  assert.deepEqual([...HANGUP_MESSAGE], [0, 0, 0]);
  assert.throws(() => encodeMessage(0x10, new Uint8Array(0x10000)), RangeError);
});
