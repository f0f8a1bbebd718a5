// Who is being put through, as the Live page and the inbox notice say it (ui/client/caller.ts): the name
// with how much it is worth ("Rufnummer passt, nicht überprüft"), the number, or "Anrufer unbekannt".
import assert from "node:assert/strict";
import { callerText, noticeCaller } from "../../../ui/client/caller.ts";
import { T } from "../../../ui/texts_de.ts";

const t = T.live.caller;

Deno.test("a name found by the caller ID alone is marked as not checked; the number follows", () => {
  const c = noticeCaller({ number: "+4930123456", name: "Anna Muster", identity: "number_match" });
  assert.equal(callerText(c, t), "Anna Muster (Rufnummer passt, nicht überprüft), +4930123456");
});

Deno.test("a call TOM placed and a verified caller say so; a number alone is just the number", () => {
  assert.equal(callerText({ name: "Karl Kurz", identity: "placed" }, t), "Karl Kurz (von TOM angerufen)");
  assert.equal(
    callerText({ name: "Karl Kurz", number: "+4940111", identity: "verified" }, t),
    "Karl Kurz (überprüft), +4940111",
  );
  assert.equal(callerText({ number: "+4940111", identity: "number_match" }, t), "+4940111");
});

Deno.test("no name and no number (withheld, browser test call) reads as an unknown caller", () => {
  assert.equal(callerText(undefined, t), "Anrufer unbekannt (keine Rufnummer übermittelt)");
  assert.equal(callerText(noticeCaller({ identity: "unknown" }), t), t.unknown);
  assert.equal(noticeCaller("x"), undefined);
  assert.equal(callerText(noticeCaller({ name: 5, identity: "number_match" }), t), t.unknown);
});
