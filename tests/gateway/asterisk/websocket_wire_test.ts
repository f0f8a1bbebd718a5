import assert from "node:assert/strict";
import {
  dtmfDigit,
  formatCommand,
  markId,
  MAX_CONTROL_CHARS,
  MediaStart,
  parseControl,
} from "../../../gateway/asterisk/websocket_wire.ts";

// Verbatim from Asterisk 22.10.1 (Debian sid).
const PLAIN_START = "MEDIA_START connection_id:tom channel:WebSocket/tom/0x7f4aa4003a20 " +
  "channel_id:1795280779.4 format:ulaw optimal_frame_size:160 ptime:20";
const JSON_START = '{"event":"MEDIA_START","connection_id":"tom","channel":"WebSocket/tom/0x7f4abc0012d0",' +
  '"channel_id":"1795280832.16","format":"slin16","optimal_frame_size":640,"ptime":20,"channel_variables":' +
  '{"DIALEDPEERNUMBER":"tom/c(slin16)f(json)","MEDIA_WEBSOCKET_CONNECTION_ID":"tom",' +
  '"MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE":"640"}}';

Deno.test("plain-text MEDIA_START as Asterisk 22.10 sends it", () => {
  const e = parseControl(PLAIN_START);
  assert.ok(e);
  assert.equal(e.event, "MEDIA_START");
  assert.equal(e.json, false);
  const start = MediaStart.parse(e.fields);
  assert.deepEqual(start, {
    connection_id: "tom",
    channel: "WebSocket/tom/0x7f4aa4003a20",
    channel_id: "1795280779.4",
    format: "ulaw",
    optimal_frame_size: 160,
    ptime: 20,
  });
});

Deno.test("JSON MEDIA_START as Asterisk 22.10 sends it with f(json)", () => {
  const e = parseControl(JSON_START);
  assert.ok(e);
  assert.equal(e.json, true);
  const start = MediaStart.parse(e.fields);
  assert.equal(start.format, "slin16");
  assert.equal(start.optimal_frame_size, 640);
  assert.equal(start.channel_id, "1795280832.16");
});

Deno.test("MEDIA_START without ptime (older Asterisk) means 20 ms; without a format it is refused", () => {
  const old = parseControl(
    "MEDIA_START connection_id:x channel:WebSocket/x/0x1 format:alaw optimal_frame_size:160",
  );
  assert.equal(MediaStart.parse(old?.fields).ptime, 20);
  assert.equal(
    MediaStart.safeParse(parseControl("MEDIA_START optimal_frame_size:160")?.fields).success,
    false,
  );
  assert.equal(
    MediaStart.safeParse(parseControl("MEDIA_START format:ulaw optimal_frame_size:x")?.fields).success,
    false,
  );
  assert.equal(MediaStart.safeParse({ format: "ulaw", optimal_frame_size: 70_000 }).success, false);
});

Deno.test("DTMF_END, MEDIA_MARK_PROCESSED and ERROR in both formats", () => {
  const plainDtmf = parseControl("DTMF_END digit:# channel_id:1795280779.4");
  const jsonDtmf = parseControl('{"event":"DTMF_END","channel_id":"1795280832.16","digit":"1"}');
  assert.equal(plainDtmf && dtmfDigit(plainDtmf), "#");
  assert.equal(jsonDtmf && dtmfDigit(jsonDtmf), "1");
  assert.equal(dtmfDigit(parseControl("DTMF_END digit:xy") ?? assert.fail()), undefined);
  const plainMark = parseControl("MEDIA_MARK_PROCESSED m1");
  const jsonMark = parseControl('{"event":"MEDIA_MARK_PROCESSED","channel_id":"1","correlation_id":"j1"}');
  assert.equal(plainMark && markId(plainMark), "m1");
  assert.equal(jsonMark && markId(jsonMark), "j1");
  const err = parseControl("ERROR channel_id:1795280832.16 error_text:Unable to parse JSON command");
  assert.equal(err?.fields.error_text, "Unable to parse JSON command");
  assert.deepEqual(parseControl("QUEUE_DRAINED"), {
    event: "QUEUE_DRAINED",
    json: false,
    fields: {},
    args: [],
  });
});

Deno.test("what is not a control message is undefined", () => {
  for (
    const text of [
      "",
      "   ",
      "media_start format:ulaw",
      "{not json",
      "[1,2]",
      "null",
      '{"event":5}',
      '{"command":"HANGUP"}',
      '{"event":"lower"}',
      "X".repeat(MAX_CONTROL_CHARS + 1),
    ]
  ) assert.equal(parseControl(text), undefined, JSON.stringify(text.slice(0, 20)));
});

Deno.test("commands in the connection's format", () => {
  assert.equal(formatCommand("ANSWER", false), "ANSWER");
  assert.equal(formatCommand("MARK_MEDIA", false, "m1"), "MARK_MEDIA m1");
  assert.equal(formatCommand("FLUSH_MEDIA", true), '{"command":"FLUSH_MEDIA"}');
  assert.equal(formatCommand("MARK_MEDIA", true, "m2"), '{"command":"MARK_MEDIA","correlation_id":"m2"}');
  assert.throws(() => formatCommand("MARK_MEDIA", false, "two words"), RangeError);
  assert.throws(() => formatCommand("MARK_MEDIA", true, ""), RangeError);
});
