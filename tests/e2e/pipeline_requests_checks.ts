/**
 * Checks of tests/e2e/pipeline_requests_test.ts: the staff page "Anliegen" in Chromium (the page checks of
 * ui_requests_live_test.ts: the open count and the new row without a reload), an inbox event stream read
 * over HTTP, and the SQLite file read directly (read-only) for the sealed request and the absent transcript.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { Browser, Page } from "../_deps.ts";
import type { LiveHub } from "../../ui/live.ts";
import type { Client } from "../ui/_harness.ts";
import { PASSWORD } from "../ui/_harness.ts";

/** A call's events in order, each with its fields. */
export type CallEvents = Record<string, unknown>[];

/** A staff member's /requests page, open and subscribed to the inbox. */
export interface RequestsPage {
  page: Page;
  /** Page errors and console errors. */
  errors: string[];
  /** The request's row appears and the badge shows `open`, without a reload. */
  sees(requestId: string, open: number): Promise<void>;
}

/** Log `email` in in Chromium and open /requests: "0 offen", the empty list, the inbox subscribed. */
export async function staffOnRequests(
  browser: Browser,
  base: string,
  inbox: LiveHub,
  email: string,
): Promise<RequestsPage> {
  const context = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(base + "/login");
  await page.getByLabel("E-Mail-Adresse").fill(email);
  await page.getByLabel("Passwort").fill(PASSWORD);
  await page.getByRole("button", { name: "Anmelden" }).click();
  await page.waitForURL(base + "/");
  await page.goto(base + "/requests");
  await page.waitForLoadState("networkidle", { timeout: 8_000 });
  assert.equal((await page.getByTestId("requests-badge").textContent())?.trim(), "0 offen");
  await page.getByTestId("requests-empty").waitFor();
  // Every page's navigation subscribes (the badge); the caller opens no other stream before this returns.
  for (const end = Date.now() + 20_000; inbox.subscribers < 1;) {
    assert.ok(Date.now() < end, "the page did not subscribe to the inbox");
    await new Promise((r) => setTimeout(r, 50));
  }
  let navigations = 0;
  page.on("framenavigated", (f) => f === page.mainFrame() && navigations++);
  return {
    page,
    errors,
    async sees(requestId, open) {
      const row = page.locator(`[data-testid="requests-new"] tr[data-request="${requestId}"]`);
      await row.waitFor({ timeout: 20_000 });
      await page.getByTestId("requests-badge").filter({ hasText: String(open) }).waitFor({ timeout: 20_000 });
      assert.match(await row.innerText(), /Rückruf/);
      assert.equal(await row.getByRole("link").getAttribute("href"), `/requests/${requestId}`);
      assert.equal(navigations, 0, "no reload");
    },
  };
}

/** One frame of /api/live/inbox. */
export interface InboxFrame {
  type: string;
  data: Record<string, unknown>;
}

/** Read the client's /api/live/inbox in the background; `close()` ends it and returns its frames. */
export async function inboxReader(c: Client): Promise<{ close(): Promise<InboxFrame[]> }> {
  const ac = new AbortController();
  const res = await c.fetch("/api/live/inbox", { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.ok(res.body);
  const reader = res.body.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    .getReader();
  let text = "";
  const reading = (async () => {
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
    } catch {
      // aborted by close()
    }
  })();
  let frames: InboxFrame[] | undefined;
  return {
    async close() {
      if (frames) return frames;
      ac.abort();
      await reader.cancel().catch(() => {});
      await reading;
      frames = text.split("\n\n").flatMap((f) => {
        const data = /^data: (.*)$/m.exec(f)?.[1];
        if (!/^event: event$/m.test(f) || !data) return [];
        const e = JSON.parse(data) as { type: string; data: Record<string, unknown> };
        return [{ type: e.type, data: e.data }];
      });
      return frames;
    },
  };
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/**
 * The request's row in the SQLite file: its sealed column holds ciphertext (a short excerpt is printed),
 * and none of `plain` (the number's digits, "Rückruf") is in the row, in the database file or its WAL.
 */
export async function ciphertextShown(dbPath: string, requestId: string, plain: string[]): Promise<void> {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  let row: Record<string, unknown> | undefined;
  try {
    row = db.prepare("SELECT * FROM requests WHERE id = ?").get(requestId) as
      | Record<string, unknown>
      | undefined;
  } finally {
    db.close();
  }
  assert.ok(row, "the request's row is in tom.db");
  const sealed = row.ciphertext as Uint8Array;
  assert.ok(sealed instanceof Uint8Array && sealed.length > 16, "the request's fields are one sealed blob");
  console.log(
    `tom.db requests ${requestId}: kind=${row.kind} key_id=${row.key_id} iv=${hex(row.iv as Uint8Array)} ` +
      `ciphertext (${sealed.length} bytes) ${hex(sealed.subarray(0, 32))}…`,
  );
  const asText = (b: Uint8Array) => [new TextDecoder().decode(b), new TextDecoder("latin1").decode(b)];
  const columns = Object.values(row).flatMap((v) => (v instanceof Uint8Array ? asText(v) : [String(v)]));
  const files: string[] = [];
  for (const f of [dbPath, `${dbPath}-wal`]) {
    files.push(...asText(await Deno.readFile(f).catch(() => new Uint8Array())));
  }
  for (const p of plain) {
    assert.ok(columns.every((c) => !c.includes(p)), `${p} is not in the request's row in plain text`);
    assert.ok(files.every((c) => !c.includes(p)), `${p} is nowhere in tom.db or its WAL in plain text`);
  }
}

/** The call is an unknown caller's (no person) and no transcript row exists for it. */
export function noTranscript(dbPath: string, callId: string): void {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const call = db.prepare("SELECT person_id FROM calls WHERE id = ?").get(callId);
    assert.ok(call, "the call is recorded");
    assert.equal(call.person_id, null, "an unknown caller");
    const n = db.prepare("SELECT count(*) AS n FROM transcripts WHERE call_id = ?").get(callId);
    assert.equal(n?.n, 0, "no transcript without consent");
  } finally {
    db.close();
  }
}
