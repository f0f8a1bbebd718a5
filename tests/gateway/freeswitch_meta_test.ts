// mod_audio_fork metadata: a caller id that smuggles a second "uuid" (or call/account id) into the JSON
// must not redirect TOM's uuid_kill/uuid_broadcast or move the call to another account.
import assert from "node:assert/strict";
import { parseForkMetadata } from "../../gateway/freeswitch_meta.ts";

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
