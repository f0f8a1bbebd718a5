import assert from "node:assert/strict";
import { createLogger, hashPersonal, redactText } from "../../infra/log.ts";

function capture(level: "debug" | "info" = "info") {
  const lines: string[] = [];
  const log = createLogger({
    salt: "pepper",
    level,
    sink: (l) => lines.push(l),
    now: () => Date.UTC(2026, 0, 2),
  });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l)) };
}

Deno.test("log lines are JSON with time, level, message and call_id", () => {
  const { log, parsed } = capture();
  log.child({ call_id: "call-7" }).info("turn finished", { stage_ms: 42 });
  assert.deepEqual(parsed(), [{
    time: "2026-01-02T00:00:00.000Z",
    level: "info",
    message: "turn finished",
    call_id: "call-7",
    stage_ms: 42,
  }]);
});

Deno.test("levels below the threshold are dropped", () => {
  const { log, lines } = capture("info");
  log.debug("noise");
  log.warn("kept");
  assert.equal(lines.length, 1);
});

Deno.test("phone numbers and names appear only as salted hashes, in fields and in free text", () => {
  const { log, lines, parsed } = capture();
  const phone = "+4930123456789";
  log.info(`incoming call from ${phone}`, {
    phone,
    caller: { name: "Erika Mustermann", phone_e164: "+491701234567" },
    note: "bitte zurückrufen unter 030 1234 5678 oder 0170-1234567",
    display_name: "Herr Weber",
    duration_ms: 1_700_000_000_000,
  });
  const text = lines.join("\n");
  for (
    const secret of ["4930123456789", "Erika", "Mustermann", "491701234567", "1234 5678", "1234567", "Weber"]
  ) {
    assert.ok(!text.includes(secret), `"${secret}" leaked: ${text}`);
  }
  const [line] = parsed();
  assert.equal(line.phone, hashPersonal(phone, "pepper"));
  assert.match(line.message, /^incoming call from h:[0-9a-f]{16}$/);
  assert.equal(line.duration_ms, 1_700_000_000_000, "plain numbers are not mistaken for phone numbers");
});

Deno.test("the same number hashes the same however it is written, and differently with another salt", () => {
  assert.equal(hashPersonal("+49 30 123456", "s"), hashPersonal("+4930123456", "s"));
  assert.notEqual(hashPersonal("+4930123456", "s"), hashPersonal("+4930123456", "t"));
  assert.equal(redactText("Termin am 03.05.2026 um 14:30", "s"), "Termin am 03.05.2026 um 14:30");
});

Deno.test("secrets are never logged", () => {
  const { log, lines } = capture();
  log.error("auth failed", { token: "eyJhbGciOi.abc.def", authorization: "Bearer xyz", password: "pw" });
  const text = lines.join("");
  for (const s of ["eyJhbGciOi", "Bearer xyz", '"pw"']) assert.ok(!text.includes(s));
});

Deno.test("errors are logged with name and redacted message", () => {
  const { log, parsed } = capture();
  log.error("dial failed", { error: new Error("busy: +4917012345678") });
  const [line] = parsed();
  assert.equal(line.error.name, "Error");
  assert.match(line.error.message, /^busy: h:[0-9a-f]{16}$/);
});

/** [field, value, kept?]: ids stay as they are (a call can be followed through the log), numbers do not. */
const ID_TABLE: [string, string, boolean][] = [
  ["call_id", "probe-00112588-b227-46a3-b74a-c7684401ab21", true], // its first group looked like a number
  ["callId", "probe-e2b3aaae-45fd-80e5-e2e8-012345678901", true],
  ["call_id", "test-0e2b3aaa-0301-4567-8901-234567890123", true],
  ["id", "00112588-b227-46a3-b74a-c7684401ab21", true],
  ["job_id", "e2b3aaae45fd80e5e2e8", true], // a hex id
  ["stream_sid", "MZ0123456789abcdef0123456789abcdef", true],
  ["call_id", "1718000000.42", true], // Asterisk's uniqueid
  ["call_id", "call-7", true],
  ["variantId", "v-2026-01", true],
  ["call_id", "+4930123456789", false], // a caller's number used as an id is still a number
  ["call_id", "tel-+49 170 1234567", false],
  ["call_id", "call-0301234567", false],
  ["call_id", "030 1234 5678", false],
  ["caller_id", "4930123456789", false], // the caller id is the caller's number: personal
];

for (const [field, value, kept] of ID_TABLE) {
  Deno.test(`log: ${field}=${JSON.stringify(value)} is ${kept ? "kept" : "hashed"}`, () => {
    const { log, lines, parsed } = capture();
    log.child({ [field]: value }).info(`turn of ${value} done`, { note: `see ${value}` });
    const [line] = parsed();
    if (kept) {
      assert.equal(line[field], value);
      assert.equal(line.message, `turn of ${value} done`, "an id in free text is kept too");
      assert.equal(line.note, `see ${value}`);
    } else {
      const digits = value.replace(/\D/g, "").slice(-7);
      assert.match(line[field], /h:[0-9a-f]{16}/);
      assert.ok(!line[field].includes(digits), `${digits} leaked: ${line[field]}`);
      // In free text a number is recognised by its + or 00 or leading 0 (a bare digit run is not).
      if (/^\D*(?:\+|0)/.test(value)) assert.ok(!lines[0].includes(digits), `${digits} leaked: ${lines[0]}`);
    }
  });
}

Deno.test("log: phone numbers beside ids are hashed, in fields and free text, E.164 and German formats", () => {
  const { log, lines, parsed } = capture();
  const id = "probe-00112588-b227-46a3-b74a-c7684401ab21";
  const numbers = ["+49 30 1234567", "0049 170 1234567", "030/1234567", "0170-1234567", "(030) 123 45 67"];
  log.child({ call_id: id }).info(`call ${id} from ${numbers[0]}`, {
    note: `Rückruf unter ${numbers.slice(1).join(" oder ")} (${id})`,
  });
  const [line] = parsed();
  assert.equal(line.call_id, id);
  assert.ok(line.message.startsWith(`call ${id} from h:`), line.message);
  assert.ok(line.note.endsWith(`(${id})`), line.note);
  for (const n of ["1234567", "123 45 67"]) assert.ok(!lines[0].includes(n), `${n} leaked: ${lines[0]}`);
});
