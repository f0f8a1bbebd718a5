/**
 * Listing and searching a practice's people (store/people.ts) with 5,000 people in one account: names
 * and numbers are sealed at rest, so sorting by name and searching happen after decryption.
 *
 *   deno run -A tests/bench/people_bench.ts [--quick]
 *
 * Cases (median and p95 of the runs, in ms): the first page of the people list (50, by name), a page deep
 * in it (offset 4,000), the whole list as the UI's search reads it (limit 1,000), a name search
 * (findPeopleByName, up to 50 hits, which is also the UI's search, ui/data/queries.ts), a lookup by
 * caller ID (findPersonByPhone: the person, name, number and notes opened) beside the lookup a call's start
 * makes (findPersonIdByPhone: the id only, nothing opened). The database is a migrated file (WAL) in a
 * temp dir.
 *
 * @module
 */
import { join } from "node:path";
import {
  createAccount,
  createPerson,
  findPeopleByName,
  findPersonByPhone,
  findPersonIdByPhone,
  listPeople,
  openStore,
} from "../../store/mod.ts";

const quick = Deno.args.includes("--quick");
const PEOPLE = 5000;
const RUNS = quick ? 5 : 25;
const FIRST = ["Anna", "Bernd", "Clara", "Dieter", "Erna", "Fritz", "Gerda", "Hans", "Ilse", "Jürgen"];
const LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz"];

const dir = Deno.makeTempDirSync({ prefix: "tom-people-bench-" });
const store = openStore(join(dir, "tom.db"));
const accountId = createAccount(store, { name: "Praxis Bench", kind: "clinical" }).id;
const phone = (i: number) => `+49170${String(1_000_000 + i)}`;
store.transaction(() => {
  for (let i = 0; i < PEOPLE; i++) {
    createPerson(store, accountId, {
      kind: i % 3 === 0 ? "senior" : "patient",
      displayName: `${FIRST[i % FIRST.length]} ${LAST[(i * 7) % LAST.length]} ${i}`,
      phoneE164: phone(i),
      notes: i % 4 === 0 ? "Hört schlecht, bitte langsam sprechen." : null,
    });
  }
});

function time(name: string, fn: () => number): void {
  const ms: number[] = [];
  let n = 0;
  fn(); // warm the statement cache
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    n = fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(2);
  console.log(
    `${name.padEnd(44)} median ${at(0.5).padStart(8)} ms   p95 ${at(0.95).padStart(8)} ms   (${n} rows)`,
  );
}

console.log(`people_bench: ${PEOPLE} people in one account, ${RUNS} runs per case`);
time("listPeople first page (50)", () => listPeople(store, accountId, { limit: 50 }).length);
time("listPeople offset 4000 (50)", () => listPeople(store, accountId, { limit: 50, offset: 4000 }).length);
time(
  "listPeople limit 1000",
  () => listPeople(store, accountId, { limit: 1000 }).length,
);
time(
  "findPeopleByName 'schmidt' (50), the UI search",
  () => findPeopleByName(store, accountId, "schmidt", 50).length,
);
time("findPersonByPhone", () => (findPersonByPhone(store, accountId, phone(4321)) ? 1 : 0));
time(
  "findPersonIdByPhone (a call's start)",
  () => (findPersonIdByPhone(store, accountId, phone(4321)) ? 1 : 0),
);
store.close();
Deno.removeSync(dir, { recursive: true });
