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
