// mod_audio_fork metadata: a caller id that smuggles a second "uuid" (or call/account id) into the JSON
// must not redirect TOM's uuid_kill/uuid_broadcast or move the call to another account.
import assert from "node:assert/strict";
import { parseForkMetadata } from "../../../gateway/freeswitch/meta.ts";

const UUID = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const OTHER = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

Deno.test("metadata with one uuid is accepted", () => {
  const m = parseForkMetadata(
    JSON.stringify({ uuid: UUID, caller: "+4930123456", rate: 16000, mix: "mono" }),
  );
  assert.ok(!("error" in m), JSON.stringify(m));
  assert.equal(m.uuid, UUID);
});

Deno.test("a duplicated uuid, call id or account id is refused with a reason", () => {
  // What a dialplan that interpolates an unescaped caller id would send.
  const smuggled = `{"caller":"1","uuid":"${OTHER}","uuid":"${UUID}","rate":16000}`;
  const r = parseForkMetadata(smuggled);
  assert.ok("error" in r);
  assert.match(r.error, /"uuid" more than once/);
  for (const key of ["tom_call_id", "tom_account_id"]) {
    const t = `{"uuid":"${UUID}","${key}":"a","caller":"x","${key}" : "b"}`;
    const e = parseForkMetadata(t);
    assert.ok("error" in e && e.error.includes(key), key);
  }
});

Deno.test("a duplicate key written with JSON escapes is refused too (\\u0075uid is uuid)", () => {
  // With the README's dialplan order the caller id comes first; JSON.parse keeps the last "uuid".
  for (
    const text of [
      `{"caller":"1","\\u0075uid":"${OTHER}","uuid":"${UUID}","rate":16000}`,
      `{"uuid":"${UUID}","caller":"1","\\u0075\\u0075\\u0069\\u0064":"${OTHER}"}`,
      `{"uuid":"${UUID}","tom_call_\\u0069d":"a","tom_call_id":"b"}`,
      `{"uuid":"${UUID}","tom_\\u0061ccount_id":"a","tom_account_id":"b"}`,
      `{"uuid":"${UUID}","caller":"1","\\u0055nique-ID":"x","Unique-ID":"y"}`,
    ]
  ) {
    const r = parseForkMetadata(text);
    assert.ok("error" in r, text);
    assert.match(r.error, /more than once/, text);
  }
  // Nested objects keep their own keys: the same name in two objects is no duplicate.
  const nested = parseForkMetadata(
    JSON.stringify({
      event: "start",
      start: { customParameters: { uuid: UUID }, mediaFormat: { channels: 1 } },
    }),
  );
  assert.ok(!("error" in nested), JSON.stringify(nested));
  const inner = `{"event":"start","start":{"customParameters":{"uuid":"${UUID}","\\u0075uid":"${OTHER}"}}}`;
  assert.ok("error" in parseForkMetadata(inner));
});

Deno.test("two different channel uuids under different names are refused (uuid and call_uuid disagree)", () => {
  for (
    const text of [
      `{"caller":"1","call_uuid":"${OTHER}","uuid":"${UUID}"}`,
      JSON.stringify({ uuid: UUID, start: { customParameters: { uuid: OTHER } } }),
      JSON.stringify({ uuid: UUID, tom_call_id: "a", start: { customParameters: { tom_call_id: "b" } } }),
    ]
  ) {
    const r = parseForkMetadata(text);
    assert.ok("error" in r && /more than one/.test(r.error), text);
  }
  const same = parseForkMetadata(JSON.stringify({ uuid: UUID, call_uuid: UUID }));
  assert.ok(!("error" in same));
});
