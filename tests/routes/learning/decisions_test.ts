// The learning page's decision log is per account: account A never sees the reasons account B's
// administrators gave (and B never sees A's); the deploy guard's box-level decisions are shown to both.
import assert from "node:assert/strict";
import { appendRlDecision, listAccounts, listRlDecisions, upsertVariant } from "../../../store/mod.ts";
import { Client, login, PASSWORD, setupAndLogin, startTestUi } from "../../ui/_harness.ts";

Deno.test("decision log: account A never sees B's reasons, B never sees A's; both see the guard's", async () => {
  const t = await startTestUi();
  try {
    const owner = await setupAndLogin(t, { email: "owner@praxis-a.test" });
    await owner.post("/users", {
      op: "account",
      a_accountName: "Praxis B",
      a_kind: "clinical",
      a_displayName: "Bea Admin",
      a_email: "admin@praxis-b.test",
      a_password: PASSWORD,
    });
    const [accountA, accountB] = listAccounts(t.store);
    upsertVariant(t.store, { id: "v-log", name: "Protokoll-Test" });
    // A decides through the page (the appliance administrator of account A).
    const res = await owner.post("/learning", { op: "disable", variant: "v-log", reason: "GRUND-A-7f3" });
    assert.equal(res.status, 303);
    // B's decision from before the two levels (migration 7 attributed it to B's account).
    const bUser = t.store.prepare("SELECT id FROM users WHERE account_id = ?").get(accountB.id) as {
      id: string;
    };
    appendRlDecision(t.store, {
      kind: "enable",
      variantId: "v-log",
      context: null,
      reason: "GRUND-B-9c1 Patientin Meier",
      actor: bUser.id,
      accountId: accountB.id,
    });
    appendRlDecision(t.store, {
      kind: "blacklist",
      variantId: "v-log",
      context: "clinical",
      reason: "GUARD-REASON-55",
      actor: "guard",
    });

    const adminB = new Client(t.app);
    await login(adminB, "admin@praxis-b.test");
    const pageB = await adminB.page("/learning");
    assert.equal(pageB.res.status, 200, "account administrators may look at the learning page");
    assert.match(pageB.html, /GRUND-B-9c1/);
    assert.match(pageB.html, /GUARD-REASON-55/);
    assert.doesNotMatch(pageB.html, /GRUND-A-7f3/, "B does not see A's reason");
    const pageA = (await owner.page("/learning")).html;
    assert.match(pageA, /GRUND-A-7f3/);
    assert.match(pageA, /GUARD-REASON-55/);
    assert.doesNotMatch(pageA, /GRUND-B-9c1/, "A does not see B's reason");

    const reasons = (id: string) => listRlDecisions(t.store, id).map((d) => d.reason).sort();
    assert.deepEqual(reasons(accountA.id), ["GRUND-A-7f3", "GUARD-REASON-55"]);
    assert.deepEqual(reasons(accountB.id), ["GRUND-B-9c1 Patientin Meier", "GUARD-REASON-55"]);
  } finally {
    await t.close();
  }
});
