/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// First-run setup: creates the first account and its administrator. Offered only while no user exists,
// and only with the one-time code TOM wrote to its data directory (no default password anywhere).
// One practice, one account: when calls came in before setup, they created the account inbound calls
// land in (the oldest one, gateway/call/session.ts defaultAccountId); setup adopts it (name and kind from the
// form) instead of making a second account that would never see a call.
import type { VNode } from "preact";
import { appendAudit, createAccount, createUser, listAccounts, updateAccount } from "../store/mod.ts";
import { hashPassword, MIN_PASSWORD_LENGTH } from "../ui/mod.ts";
import { anyUserExists } from "../store/mod.ts";
import { Csrf, ErrorSummary, Field, Select } from "../ui/mod.ts";
import { fill, T } from "../ui/mod.ts";
import type { Handlers, PageProps, RouteConfig } from "../ui/mod.ts";
import { timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";

export const config: RouteConfig = { auth: "public" };

interface Data {
  errors: Record<string, string>;
  values: Record<string, string>;
  codeFile: string;
}

function readCode(file: string): string | undefined {
  try {
    return Deno.readTextFileSync(file).trim();
  } catch {
    return undefined;
  }
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    if (anyUserExists(ctx.deps.store)) return ctx.redirect("/login");
    return ctx.render({ errors: {}, values: { kind: "clinical" }, codeFile: ctx.deps.setupCodeFile }, {
      title: T.setup.title,
    });
  },
  async POST(ctx) {
    if (anyUserExists(ctx.deps.store)) return ctx.redirect("/login");
    const f = ctx.form;
    const values = {
      accountName: f.get("accountName")?.trim() ?? "",
      kind: f.get("kind") ?? "",
      adminName: f.get("adminName")?.trim() ?? "",
      email: f.get("email")?.trim() ?? "",
    };
    const errors: Record<string, string> = {};
    const code = readCode(ctx.deps.setupCodeFile);
    const given = Buffer.from(f.get("code")?.trim() ?? "");
    if (!code || given.length !== Buffer.byteLength(code) || !timingSafeEqual(given, Buffer.from(code))) {
      errors.code = T.setup.badCode;
    }
    if (values.accountName.length < 1 || values.accountName.length > 200) {
      errors.accountName = T.people.errName;
    }
    if (values.kind !== "private" && values.kind !== "clinical") errors.kind = T.people.errKind;
    if (values.adminName.length < 1 || values.adminName.length > 200) errors.adminName = T.people.errName;
    if (!/^[^\s@]+@[^\s@]+$/.test(values.email) || values.email.length > 320) errors.email = T.users.errEmail;
    const password = f.get("password") ?? "";
    if (password.length < MIN_PASSWORD_LENGTH) {
      errors.password = fill(T.users.errPassword, { min: MIN_PASSWORD_LENGTH });
    } else if (password !== f.get("password2")) errors.password2 = T.setup.mismatch;
    if (Object.keys(errors).length > 0) {
      ctx.deps.log.warn("first-run setup refused", { fields: Object.keys(errors) });
      return ctx.render({ errors, values, codeFile: ctx.deps.setupCodeFile }, {
        title: T.setup.title,
        status: 422,
      });
    }
    const hash = await hashPassword(password);
    const store = ctx.deps.store;
    const created = store.transaction(() => {
      if (anyUserExists(store)) return false;
      const input = { name: values.accountName, kind: values.kind as "private" | "clinical" };
      // listAccounts is oldest first: the account defaultAccountId routes inbound calls to.
      const existing = listAccounts(store)[0];
      if (existing) updateAccount(store, existing.id, input);
      const account = existing ?? createAccount(store, input);
      const user = createUser(store, account.id, {
        email: values.email,
        displayName: values.adminName,
        role: "admin",
        passwordHash: hash,
      });
      appendAudit(store, account.id, {
        actorUserId: user.id,
        action: "account.create",
        subjectType: "account",
        subjectId: account.id,
        ...(existing ? { detail: { adopted: true } } : {}),
      });
      if (existing) ctx.deps.log.info("first-run setup adopted the account calls already use");
      return true;
    });
    if (created) {
      try {
        Deno.removeSync(ctx.deps.setupCodeFile);
      } catch { /* already gone */ }
      ctx.deps.log.info("first-run setup done: first administrator created");
    }
    return ctx.redirect("/login?ok=setupDone");
  },
};

export default function SetupPage({ data, csrf }: PageProps<Data>): VNode {
  const v = data.values;
  return (
    <>
      <h1>{T.setup.title}</h1>
      <p>{T.setup.intro}</p>
      <ErrorSummary errors={data.errors} />
      <form method="post" class="stack card" novalidate>
        <Csrf token={csrf} />
        <Field
          name="code"
          label={T.setup.code}
          hint={fill(T.setup.codeHint, { path: data.codeFile })}
          error={data.errors.code}
          required
          autocomplete="off"
        />
        <Field
          name="accountName"
          label={T.setup.accountName}
          value={v.accountName}
          error={data.errors.accountName}
          required
          maxLength={200}
        />
        <Select
          name="kind"
          label={T.setup.accountKind}
          value={v.kind}
          error={data.errors.kind}
          options={[["clinical", T.kinds.clinical], ["private", T.kinds.private]]}
        />
        <Field
          name="adminName"
          label={T.setup.adminName}
          value={v.adminName}
          error={data.errors.adminName}
          required
          autocomplete="name"
        />
        <Field
          name="email"
          type="email"
          label={T.setup.email}
          value={v.email}
          error={data.errors.email}
          required
          autocomplete="username"
        />
        <Field
          name="password"
          type="password"
          label={T.setup.password}
          hint={fill(T.setup.passwordHint, { min: MIN_PASSWORD_LENGTH })}
          error={data.errors.password}
          required
          autocomplete="new-password"
        />
        <Field
          name="password2"
          type="password"
          label={T.setup.password2}
          error={data.errors.password2}
          required
          autocomplete="new-password"
        />
        <div>
          <button type="submit">{T.setup.submit}</button>
        </div>
      </form>
    </>
  );
}
