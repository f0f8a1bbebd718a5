// Migration 6 ("admin_levels") on an existing database: the earliest administrator of the first account becomes
// the appliance administrator, decisions are attributed to the deciding user's account, existing API tokens
// keep the scope "full" and expire 90 days after the upgrade.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { migrate, MIGRATIONS } from "../../store/mod.ts";

const DAY = 86_400_000;

function upToBefore(db: DatabaseSync): void {
  const at = MIGRATIONS.findIndex((m) => m.name === "admin_levels");
  assert.ok(at > 0, "migration admin_levels is registered");
  migrate(db, { migrations: MIGRATIONS.slice(0, at) });
}

function seedOld(db: DatabaseSync): void {
  const acc = db.prepare("INSERT INTO accounts (id, name, kind, created_at) VALUES (?, ?, 'clinical', ?)");
  acc.run("acc-b", "Praxis B", 2000); // inserted first, created later: creation time decides, not rowid
  acc.run("acc-a", "Praxis A", 1000);
  const user = db.prepare(
    `INSERT INTO users (id, account_id, email, display_name, role, password_hash, created_at)
     VALUES (?, ?, ?, ?, ?, 'h', ?)`,
  );
  user.run("b-admin", "acc-b", "b@b.test", "Bea", "admin", 2001);
  user.run("a-staff", "acc-a", "s@a.test", "Sam", "staff", 1001);
  user.run("a-admin2", "acc-a", "z@a.test", "Zoe", "admin", 1500);
  user.run("a-admin", "acc-a", "a@a.test", "Anna", "admin", 1002);
  const d = db.prepare(
    `INSERT INTO rl_decisions (id, created_at, kind, variant_id, context, reason, actor)
     VALUES (?, ?, 'disable', 'v1', NULL, ?, ?)`,
  );
  d.run("d-b", 3000, "B: Patientin Meier beschwerte sich", "b-admin");
  d.run("d-a", 3001, "A: zu lang", "a-admin");
  d.run("d-guard", 3002, "reward below threshold", "guard");
  d.run("d-cli", 3003, "von der Kommandozeile", "admin");
  db.prepare(
    `INSERT INTO ui_api_tokens (id, account_id, user_id, name, token_hash, created_at)
     VALUES ('t1', 'acc-b', 'b-admin', 'Alt', ?, 500)`,
  ).run("c".repeat(64));
}

Deno.test("admin_levels: existing database gets its appliance administrator, decision accounts and token limits", () => {
  const db = new DatabaseSync(":memory:");
  db.exec("PRAGMA foreign_keys = ON");
  upToBefore(db);
  seedOld(db);
  const before = Date.now();
  migrate(db);
  const admins = db.prepare("SELECT id FROM users WHERE appliance_admin = 1").all() as { id: string }[];
  assert.deepEqual(admins.map((r) => r.id), ["a-admin"], "the earliest admin of the first account");
  const accounts = Object.fromEntries(
    (db.prepare("SELECT id, account_id FROM rl_decisions").all() as {
      id: string;
      account_id: string | null;
    }[])
      .map((r) => [r.id, r.account_id]),
  );
  assert.deepEqual(accounts, { "d-b": "acc-b", "d-a": "acc-a", "d-guard": null, "d-cli": "acc-a" });
  const t = db.prepare("SELECT scope, expires_at FROM ui_api_tokens WHERE id = 't1'").get() as {
    scope: string;
    expires_at: number;
  };
  assert.equal(t.scope, "full");
  assert.ok(t.expires_at >= before + 90 * DAY - 1000 && t.expires_at <= Date.now() + 90 * DAY + 1000);
  assert.throws(
    () => db.prepare("UPDATE users SET appliance_admin = 1 WHERE id = 'a-staff'").run(),
    /must have the role admin/,
  );
  assert.throws(
    () => db.prepare("UPDATE users SET role = 'staff' WHERE id = 'a-admin'").run(),
    /must have the role admin/,
  );
  db.close();
});
