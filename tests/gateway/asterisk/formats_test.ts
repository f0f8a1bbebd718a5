import assert from "node:assert/strict";
import { formatByName, slinFormat } from "../../../gateway/asterisk/formats.ts";

Deno.test("chan_websocket format names map to TOM's formats", () => {
  assert.equal(formatByName("ulaw")?.rate, 8000);
  assert.equal(formatByName("ulaw")?.bytesPerSample, 1);
  assert.equal(formatByName("alaw")?.silenceByte, 0xd5);
  assert.equal(formatByName("slin")?.rate, 8000);
  assert.equal(formatByName("slin16")?.rate, 16000);
  assert.equal(formatByName("sln16")?.rate, 16000);
  assert.equal(formatByName("slin44")?.rate, 44100);
  assert.equal(formatByName("SLIN48")?.name, "slin48");
  assert.equal(formatByName("opus"), undefined);
  assert.equal(formatByName("g722"), undefined);
  assert.equal(slinFormat(44100).name, "slin44");
});
