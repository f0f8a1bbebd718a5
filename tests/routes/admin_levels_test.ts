// The two administrator levels: every box-wide page and action (listed below) refuses an account
// administrator with 403 and a German message and works for the appliance administrator; the list is
// checked against the routes' declarations (config.appliance) and against what the route sources call, so
// a new box-wide route without a declaration, or a declaration without a line here, fails.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createUser, listAccounts, upsertVariant } from "../../store/mod.ts";
import { hashPassword } from "../../ui/mod.ts";
import type { RouteModule } from "../../ui/mod.ts";
import { MANIFEST } from "../../routes/_manifest.ts";
import { Client, login, PASSWORD, setupAndLogin, startTestUi } from "../ui/_harness.ts";
import { ROOT } from "../_helpers.ts";

interface BoxWide {
  /** The declaration it tests: `file METHOD` or `file METHOD op=X`. */
  declares: string;
  method: "GET" | "POST";
  path: string;
  fields?: Record<string, string>;
}

/** Every box-wide page and action of the admin UI. */
const BOX_WIDE: BoxWide[] = [
  { declares: "./routes/system.tsx GET", method: "GET", path: "/system" },
  {
    declares: "./routes/settings.tsx POST op=rotate-jwt",
    method: "POST",
    path: "/settings",
    fields: { op: "rotate-jwt" },
  },
  {
    declares: "./routes/settings.tsx POST op=rotate-transcripts",
    method: "POST",
    path: "/settings",
    fields: { op: "rotate-transcripts" },
  },
  {
    declares: "./routes/users.tsx POST op=account",
    method: "POST",
    path: "/users",
    fields: {
      op: "account",
      a_accountName: "Praxis Neu",
      a_kind: "clinical",
      a_displayName: "Nora Neu",
      a_email: "neu@neu.test",
      a_password: PASSWORD,
    },
  },
  {
    declares: "./routes/learning/index.ts POST",
    method: "POST",
    path: "/learning",
    fields: { op: "disable", variant: "v-box", reason: "Test der Geräte-Administration" },
  },
];

/** What a route source calls that acts on or shows the whole box. */
const BOX_CAPABILITIES = [
  /\bcreateAccount\(/,
  /\brotateJwtKey\(/,
  /\bkeyring\.rotate\(/,
  /\brekeyTranscripts\(/,
  /\b(?:setVariantActive|reenableVariant)\(/,
  /\bdeps\.doctor\(/,
  /\blistAccounts\(/,
  /\ballowedNetHosts\(/,
];

/** Route files that use a box capability without being box-wide, and why. */
const EXEMPT: Record<string, string> = {
  "./routes/setup.tsx": "first-run setup: public only while the box has no user at all",
  "./routes/login.tsx": "login finds the account of an e-mail address; it shows and changes nothing box-wide",
};

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

function declarations(file: string, mod: RouteModule): string[] {
  const box = mod.config?.appliance;
  if (box === undefined) return [];
  if (box !== true) {
    return [
      ...(box.methods ?? []).map((m) => `${file} ${m}`),
      ...(box.ops ?? []).map((op) => `${file} POST op=${op}`),
    ];
  }
  const h = mod.handler;
  const handled = typeof h === "function"
    ? METHODS
    : METHODS.filter((m) => h?.[m] || (m === "GET" && mod.default));
  return handled.map((m) => `${file} ${m}`);
}

Deno.test("the list of box-wide pages and actions is exactly what the routes declare", () => {
  const declared = Object.entries(MANIFEST).flatMap(([file, mod]) => declarations(file, mod)).sort();
  assert.deepEqual(BOX_WIDE.map((b) => b.declares).sort(), declared);
});

Deno.test("every route that calls a box-wide capability declares its box-wide part (or is exempt with a reason)", () => {
  for (const file of Object.keys(MANIFEST)) {
    const source = Deno.readTextFileSync(join(ROOT, file));
    const uses = BOX_CAPABILITIES.filter((re) => re.test(source));
    if (uses.length === 0 || file in EXEMPT) continue;
    assert.ok(
      MANIFEST[file].config?.appliance !== undefined,
      `${file} uses ${
        uses.map(String).join(", ")
      } but declares no config.appliance (and is not in this test)`,
    );
  }
});

Deno.test("an account administrator gets 403 on every box-wide page and action; the appliance administrator succeeds", async () => {
  const t = await startTestUi();
  try {
    // First-run setup makes the appliance administrator (account A).
    const owner = await setupAndLogin(t, { email: "owner@praxis-a.test" });
    const accountA = listAccounts(t.store)[0];
    assert.equal(
      (await owner.post("/users", {
        op: "account",
        a_accountName: "Praxis B",
        a_kind: "clinical",
        a_displayName: "Bea Admin",
        a_email: "admin@praxis-b.test",
        a_password: PASSWORD,
      })).status,
      303,
    );
    createUser(t.store, accountA.id, {
      email: "zweite@praxis-a.test",
      displayName: "Zoe Admin",
      role: "admin",
      passwordHash: await hashPassword(PASSWORD),
    });
    upsertVariant(t.store, { id: "v-box", name: "Box-Test" });
    const adminB = new Client(t.app);
    await login(adminB, "admin@praxis-b.test");
    const adminA2 = new Client(t.app);
    await login(adminA2, "zweite@praxis-a.test");
    const jwtFile = join(t.dataDir, "secrets", "jwt.key");
    const jwtKey = () => {
      try {
        return Deno.readTextFileSync(jwtFile);
      } catch {
        return "(none yet)";
      }
    };
    const jwtBefore = jwtKey();

    for (const [who, c] of [["account admin of B", adminB], ["second admin of A", adminA2]] as const) {
      for (const b of BOX_WIDE) {
        const res = b.method === "GET"
          ? await c.fetch(b.path)
          : await c.post(b.path, b.fields ?? {}, (await c.page("/")).csrf);
        assert.equal(res.status, 403, `${who}: ${b.declares}`);
        assert.match(await res.text(), /Geräte-Administration vorbehalten/, `${who}: ${b.declares}`);
      }
      // What they see: no system entry in the navigation, no box-wide buttons.
      const home = (await c.page("/")).html;
      assert.doesNotMatch(home, /href="\/system"/, who);
      const settings = (await c.page("/settings")).html;
      assert.doesNotMatch(settings, /rotate-jwt|rotate-transcripts/, who);
      assert.doesNotMatch((await c.page("/users")).html, /value="account"/, who);
    }
    assert.equal(jwtKey(), jwtBefore, "the call-token key is untouched by account administrators");
    assert.equal(listAccounts(t.store).length, 2, "no account was created by an account administrator");

    for (const b of BOX_WIDE) {
      const res = b.method === "GET"
        ? await owner.fetch(b.path)
        : await owner.post(b.path, b.fields ?? {}, (await owner.page("/")).csrf);
      assert.ok(res.status < 400, `appliance admin: ${b.declares} -> ${res.status}`);
      await res.body?.cancel();
    }
    assert.notEqual(jwtKey(), jwtBefore, "the appliance administrator rotated the call-token key");
    assert.equal(listAccounts(t.store).length, 3);
    assert.match((await owner.page("/")).html, /href="\/system"/);
  } finally {
    await t.close();
  }
});

Deno.test("an account administrator cannot lock the appliance administrator out", async () => {
  const t = await startTestUi();
  try {
    await setupAndLogin(t, { email: "owner@praxis-a.test" });
    const accountA = listAccounts(t.store)[0];
    createUser(t.store, accountA.id, {
      email: "zweite@praxis-a.test",
      displayName: "Zoe Admin",
      role: "admin",
      passwordHash: await hashPassword(PASSWORD),
    });
    const a2 = new Client(t.app);
    await login(a2, "zweite@praxis-a.test");
    const ownerId =
      (t.store.prepare("SELECT id FROM users WHERE appliance_admin = 1").get() as { id: string }).id;
    const res = await a2.post("/users", { op: "toggle", id: ownerId, disabled: "on" });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /nur von der Geräte-Administration gesperrt/);
  } finally {
    await t.close();
  }
});
