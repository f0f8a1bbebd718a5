/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Users of the account (administrators): create, lock and unlock; and a further, separate account (the
// appliance administrator only: accounts are box-wide; the router refuses op=account to everyone else).
import type { VNode } from "preact";
import {
  appendAudit,
  createAccount,
  createUser,
  getUser,
  listUsers,
  setUserDisabled,
  StoreConflictError,
  type User,
} from "../store/mod.ts";
import { hashPassword, isApplianceAdmin, MIN_PASSWORD_LENGTH } from "../ui/mod.ts";
import { Csrf, ErrorSummary, Field, PostButton, Select } from "../ui/mod.ts";
import { fill, T } from "../ui/mod.ts";
import type { Handlers, PageProps, RouteConfig, RouteContext } from "../ui/mod.ts";

export const config: RouteConfig = { auth: "admin", appliance: { ops: ["account"] } };

interface Data {
  users: User[];
  meId: string;
  /** The appliance administrator may create accounts. */
  appliance: boolean;
  errors: Record<string, string>;
  accountErrors: Record<string, string>;
}

function page(
  ctx: RouteContext<Data>,
  errors: Record<string, string> = {},
  accountErrors: Record<string, string> = {},
  status = 200,
) {
  const { account, user } = ctx.need();
  const users = listUsers(ctx.deps.store, account.id);
  const appliance = isApplianceAdmin(ctx.auth);
  return ctx.render({ users, meId: user.id, appliance, errors, accountErrors }, {
    title: T.users.title,
    status,
  });
}

function checkUser(f: URLSearchParams, prefix = ""): Record<string, string> {
  const e: Record<string, string> = {};
  const name = (f.get(prefix + "displayName") ?? "").trim();
  if (name.length < 1 || name.length > 200) e[prefix + "displayName"] = T.people.errName;
  if (!/^[^\s@]+@[^\s@]+$/.test((f.get(prefix + "email") ?? "").trim())) {
    e[prefix + "email"] = T.users.errEmail;
  }
  if ((f.get(prefix + "password") ?? "").length < MIN_PASSWORD_LENGTH) {
    e[prefix + "password"] = fill(T.users.errPassword, { min: MIN_PASSWORD_LENGTH });
  }
  return e;
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    return page(ctx);
  },
  async POST(ctx) {
    const { account, user } = ctx.need();
    const f = ctx.form;
    const store = ctx.deps.store;
    const op = f.get("op");
    if (op === "toggle") {
      const id = f.get("id") ?? "";
      if (id === user.id) return page(ctx, { id: T.users.errSelf }, {}, 422);
      // An account administrator must not lock the box out of its appliance administrator.
      if (getUser(store, account.id, id)?.applianceAdmin && !isApplianceAdmin(ctx.auth)) {
        return page(ctx, { id: T.users.errApplianceAdmin }, {}, 403);
      }
      const disabled = f.get("disabled") === "on";
      if (setUserDisabled(store, account.id, id, disabled)) {
        if (disabled) ctx.deps.sessions.deleteForUser(account.id, id);
        ctx.audit("user.update", "user", id, { disabled });
      }
      return ctx.redirect("/users?ok=saved");
    }
    if (op === "account") {
      const errors = checkUser(f, "a_");
      const name = (f.get("a_accountName") ?? "").trim();
      const kind = f.get("a_kind");
      if (name.length < 1 || name.length > 200) errors.a_accountName = T.people.errName;
      if (kind !== "private" && kind !== "clinical") errors.a_kind = T.people.errKind;
      if (Object.keys(errors).length > 0) return page(ctx, {}, errors, 422);
      const hash = await hashPassword(f.get("a_password") ?? "");
      const created = store.transaction(() => {
        const acc = createAccount(store, { name, kind: kind as "private" | "clinical" });
        const admin = createUser(store, acc.id, {
          email: f.get("a_email") ?? "",
          displayName: f.get("a_displayName") ?? "",
          role: "admin",
          passwordHash: hash,
        });
        appendAudit(store, acc.id, {
          actorUserId: null,
          action: "account.create",
          subjectType: "account",
          subjectId: acc.id,
          detail: { createdFromAccount: account.id },
        });
        return { acc, admin };
      });
      ctx.audit("account.create", "account", created.acc.id);
      return ctx.redirect("/users?ok=created");
    }
    const errors = checkUser(f);
    const role = f.get("role") === "admin" ? "admin" : "staff";
    if (Object.keys(errors).length > 0) return page(ctx, errors, {}, 422);
    try {
      const u = createUser(store, account.id, {
        email: f.get("email") ?? "",
        displayName: f.get("displayName") ?? "",
        role,
        passwordHash: await hashPassword(f.get("password") ?? ""),
      });
      ctx.audit("user.create", "user", u.id, { role });
    } catch (e) {
      if (e instanceof StoreConflictError) return page(ctx, { email: T.users.errTaken }, {}, 409);
      throw e;
    }
    return ctx.redirect("/users?ok=created");
  },
};

export default function UsersPage({ data, csrf }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.users.title}</h1>
      {data.errors.id && <p class="msg err" role="alert">{data.errors.id}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">{T.users.name}</th>
            <th scope="col">{T.users.email}</th>
            <th scope="col">{T.users.role}</th>
            <th scope="col">{T.users.disabled}</th>
            <th scope="col">{T.people.actions}</th>
          </tr>
        </thead>
        <tbody>
          {data.users.map((u) => (
            <tr key={u.id}>
              <td>{u.displayName}</td>
              <td>{u.email}</td>
              <td>{u.applianceAdmin ? `${T.roles[u.role]}, ${T.applianceAdmin}` : T.roles[u.role]}</td>
              <td>{u.disabled ? T.app.yes : T.app.no}</td>
              <td>
                {u.id !== data.meId && (
                  <PostButton
                    action="/users"
                    csrf={csrf}
                    label={u.disabled ? T.users.enable : T.users.disable}
                    variant="secondary"
                    fields={{ op: "toggle", id: u.id, ...(u.disabled ? {} : { disabled: "on" }) }}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{T.users.new}</h2>
      <ErrorSummary errors={Object.fromEntries(Object.entries(data.errors).filter(([k]) => k !== "id"))} />
      <form method="post" action="/users" class="stack card" novalidate>
        <Csrf token={csrf} />
        <input type="hidden" name="op" value="user" />
        <Field name="displayName" label={T.users.name} error={data.errors.displayName} required />
        <Field
          name="email"
          type="email"
          label={T.users.email}
          error={data.errors.email}
          required
          autocomplete="off"
        />
        <Select
          name="role"
          label={T.users.role}
          options={[["staff", T.roles.staff], ["admin", T.roles.admin]]}
        />
        <Field
          name="password"
          type="password"
          label={T.users.password}
          error={data.errors.password}
          required
          autocomplete="new-password"
          hint={fill(T.setup.passwordHint, { min: MIN_PASSWORD_LENGTH })}
        />
        <div>
          <button type="submit">{T.users.new}</button>
        </div>
      </form>
      {data.appliance && (
        <>
          <h2>{T.users.newAccount}</h2>
          <p>{T.users.newAccountHint}</p>
          <ErrorSummary errors={data.accountErrors} />
          <form method="post" action="/users" class="stack card" novalidate>
            <Csrf token={csrf} />
            <input type="hidden" name="op" value="account" />
            <Field
              name="a_accountName"
              label={T.setup.accountName}
              error={data.accountErrors.a_accountName}
              required
            />
            <Select
              name="a_kind"
              label={T.setup.accountKind}
              options={[["private", T.kinds.private], ["clinical", T.kinds.clinical]]}
              error={data.accountErrors.a_kind}
            />
            <Field
              name="a_displayName"
              label={T.setup.adminName}
              error={data.accountErrors.a_displayName}
              required
            />
            <Field
              name="a_email"
              type="email"
              label={T.setup.email}
              error={data.accountErrors.a_email}
              required
              autocomplete="off"
            />
            <Field
              name="a_password"
              type="password"
              label={T.setup.password}
              error={data.accountErrors.a_password}
              required
              autocomplete="new-password"
            />
            <div>
              <button type="submit" class="secondary">{T.users.newAccount}</button>
            </div>
          </form>
        </>
      )}
    </>
  );
}
