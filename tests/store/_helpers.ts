// Shared fixtures of the store tests: an in-memory store with an exact clock and ids, two accounts.
import {
  type Account,
  type Call,
  createAccount,
  createCall,
  createPerson,
  openStore,
  type Person,
  type Store,
  type StoreOptions,
} from "../../store/mod.ts";

/** A clock the test moves by hand. */
export interface TestClock {
  (): number;
  set(ms: number): void;
  advance(ms: number): void;
}

/** 2024-01-01T00:00:00Z. */
export const T0 = 1_704_067_200_000;

export function testClock(start = T0): TestClock {
  let now = start;
  const clock = (() => now) as TestClock;
  clock.set = (ms) => {
    now = ms;
  };
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

/** Deterministic uuid-shaped ids: 00000000-0000-4000-8000-000000000001, ... */
export function sequentialIds(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;
}

export function memoryStore(opts: StoreOptions = {}): { store: Store; clock: TestClock } {
  const clock = testClock();
  const store = openStore(":memory:", { clock, newId: sequentialIds(), ...opts });
  return { store, clock };
}

/** One account's worth of data: a person who consented to everything and one call of theirs. */
export interface Tenant {
  account: Account;
  person: Person;
  call: Call;
}

export function seedTenant(store: Store, name: string, phone: string): Tenant {
  const account = createAccount(store, { name, kind: "private" });
  const person = createPerson(store, account.id, {
    kind: "senior",
    displayName: `Senior of ${name}`,
    phoneE164: phone,
    consentRecording: true,
    consentTranscript: true,
    retentionDays: 30,
  });
  const call = createCall(store, account.id, {
    direction: "inbound",
    transport: "browser",
    personId: person.id,
  });
  return { account, person, call };
}

/** Two accounts A and B with the same shape of data (and the same phone number, which is allowed). */
export function seedTwoTenants(store: Store): { a: Tenant; b: Tenant } {
  return { a: seedTenant(store, "A", "+4917000000001"), b: seedTenant(store, "B", "+4917000000001") };
}

export const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
