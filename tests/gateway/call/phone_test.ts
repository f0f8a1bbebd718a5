// Phone numbers at the media edge (gateway/call/phone.ts): caller IDs and Twilio transfer targets as E.164.
import assert from "node:assert/strict";
import { callerE164 } from "../../../gateway/call/phone.ts";

Deno.test("caller ID in E.164: E.164 kept, 00 and German national digits converted, the rest is none", () => {
  assert.equal(callerE164("+4930123456"), "+4930123456");
  assert.equal(callerE164("004930123456"), "+4930123456");
  assert.equal(callerE164("030123456"), "+4930123456");
  assert.equal(callerE164("030 1234-56"), "+4930123456");
  assert.equal(callerE164("21"), undefined, "an extension is no number");
  assert.equal(callerE164(undefined), undefined);
  assert.equal(callerE164("<unknown>"), undefined);
});
