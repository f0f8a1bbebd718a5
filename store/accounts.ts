// Accounts: the tenants. Every other tenant table hangs off an account and is deleted with it.
import type { Store } from "./db.ts";
import type { AccountKind } from "./types.ts";
import { many, one, requireOneOf, requireText, run } from "./_util.ts";

/** A tenant: a private household or a clinic/care service. */
export interface Account {
  id: string;
  name: string;
  kind: AccountKind;
  createdAt: number;
}

/** Input of {@linkcode createAccount}. */
export interface NewAccount {
  name: string;
  kind: AccountKind;
}

interface AccountRow {
  id: string;
  name: string;
  kind: AccountKind;
  created_at: number;
}

const COLUMNS = "id, name, kind, created_at";
const KINDS: readonly AccountKind[] = ["private", "clinical"];

function toAccount(row: AccountRow): Account {
  return { id: row.id, name: row.name, kind: row.kind, createdAt: row.created_at };
}

/** Creates an account. */
export function createAccount(store: Store, input: NewAccount): Account {
  const what = "Cannot create account";
  const account: Account = {
    id: store.newId(),
    name: requireText(what, "name", input.name),
    kind: requireOneOf(what, "kind", input.kind, KINDS),
    createdAt: store.now(),
  };
  store.prepare(`INSERT INTO accounts (${COLUMNS}) VALUES (?, ?, ?, ?)`)
    .run(account.id, account.name, account.kind, account.createdAt);
  return account;
}

/** The account, or undefined. */
export function getAccount(store: Store, accountId: string): Account | undefined {
  const row = one<AccountRow>(store.prepare(`SELECT ${COLUMNS} FROM accounts WHERE id = ?`), accountId);
  return row && toAccount(row);
}

/** Every account, oldest first (for the operator and for per-account background jobs). */
export function listAccounts(store: Store): Account[] {
  return many<AccountRow>(store.prepare(`SELECT ${COLUMNS} FROM accounts ORDER BY created_at, id`))
    .map(toAccount);
}

/** Renames the account; false if it does not exist. */
export function renameAccount(store: Store, accountId: string, name: string): boolean {
  const checked = requireText("Cannot rename account", "name", name);
  return run(store.prepare("UPDATE accounts SET name = ? WHERE id = ?"), checked, accountId) === 1;
}

/** Sets the account's name and kind (first-run setup adopting the account calls already use); false if it does not exist. */
export function updateAccount(store: Store, accountId: string, input: NewAccount): boolean {
  const what = "Cannot update account";
  const name = requireText(what, "name", input.name);
  const kind = requireOneOf(what, "kind", input.kind, KINDS);
  const sql = "UPDATE accounts SET name = ?, kind = ? WHERE id = ?";
  return run(store.prepare(sql), name, kind, accountId) === 1;
}

/** Deletes the account and, by cascade, all its users, people, calls and derived data. */
export function deleteAccount(store: Store, accountId: string): boolean {
  return run(store.prepare("DELETE FROM accounts WHERE id = ?"), accountId) === 1;
}
