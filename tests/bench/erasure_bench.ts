/**
 * The cost of an erasure that erases (store/erasure.ts) on a ~100 MB database, beside a plain DELETE of
 * a person (no checkpoint) under each `secure_delete` setting (OFF, FAST, ON) in the same run on the same
 * database: FAST was the store's default, ON is (store/db.ts), so FAST vs ON is what every ordinary
 * delete or update (retention, memory, requests) pays for zeroing the pages it frees.
 *
 *   deno run -A tests/bench/erasure_bench.ts [--quick]
 *
 * The database (WAL, synchronous=FULL) holds people with sealed notes and memory, 3 calls each with 8
 * transcript turns of 500 bytes and an analysis. Erasures rotate: one person by plain DELETE with
 * secure_delete OFF, the next with FAST, the next with ON, the next by erasePerson (erasure log line +
 * secure_delete ON + wal_checkpoint(TRUNCATE)), each timed alone. Prints the median and p95 per kind, the
 * WAL bytes the checkpoint folded back, and the file size.
 *
 * @module
 */
import { join } from "node:path";
import {
  appendTranscriptTurn,
  completeAnalysis,
  createAccount,
  createCall,
  createPerson,
  enqueueAnalysis,
  erasePerson,
  openStore,
  saveMemory,
} from "../../store/mod.ts";

const quick = Deno.args.includes("--quick");
const PEOPLE = quick ? 800 : 4400;
const KINDS = 4; // OFF, FAST, ON, erasePerson
const ERASURES = quick ? 10 : 40; // of each kind
const dir = Deno.makeTempDirSync({ prefix: "tom-erasure-bench-" });
const path = join(dir, "tom.db");

function seed(): { accountId: string; people: string[] } {
  const store = openStore(path);
  const accountId = createAccount(store, { name: "Praxis Bench", kind: "clinical" }).id;
  const people: string[] = [];
  const blob = () => crypto.getRandomValues(new Uint8Array(500));
  for (let p = 0; p < PEOPLE; p += 200) {
    store.transaction(() => {
      for (let i = p; i < Math.min(PEOPLE, p + 200); i++) {
        const person = createPerson(store, accountId, {
          kind: "patient",
          displayName: `Patient ${i}`,
          phoneE164: `+49170${String(1_000_000 + i)}`,
          consentTranscript: true,
          notes: `Notiz ${i}: Allergie, Rückruf vormittags`,
        });
        people.push(person.id);
        saveMemory(store, accountId, person.id, { facts: [`Fakt ${i}`, "Diabetes Typ 2"] }, 0);
        for (let c = 0; c < 3; c++) {
          const call = createCall(store, accountId, {
            direction: "inbound",
            transport: "browser",
            personId: person.id,
          });
          for (let t = 0; t < 8; t++) {
            appendTranscriptTurn(store, accountId, {
              callId: call.id,
              turnIndex: t,
              speaker: t % 2 ? "caller" : "assistant",
              ciphertext: blob(),
              iv: blob().subarray(0, 12),
              keyId: store.keyring.currentKeyId,
            });
          }
          enqueueAnalysis(store, accountId, call.id);
          completeAnalysis(store, accountId, call.id, {
            sentimentLabel: "neutral",
            sentimentScore: 0,
            confidence: 0.8,
            reason: "Rezept",
            summary: ["Rezept für Metformin"],
          });
        }
      }
    });
  }
  store.close();
  return { accountId, people };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];
const walBytes = () => {
  try {
    return Deno.statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
};

const t0 = performance.now();
const { accountId, people } = seed();
const seedS = (performance.now() - t0) / 1000;
const store = openStore(path);
const plain: Record<"OFF" | "FAST" | "ON", number[]> = { OFF: [], FAST: [], ON: [] };
const secure: number[] = [];
const walBefore: number[] = [];
for (let i = 0; i < ERASURES; i++) {
  let t: number;
  for (const [k, mode] of (["OFF", "FAST", "ON"] as const).entries()) {
    store.db.exec(`PRAGMA secure_delete = ${mode}`);
    t = performance.now();
    store.transaction(() =>
      store.prepare("DELETE FROM people WHERE account_id = ? AND id = ?").run(
        accountId,
        people[KINDS * i + k],
      )
    );
    plain[mode].push(performance.now() - t);
  }
  walBefore.push(walBytes());
  t = performance.now();
  erasePerson(store, accountId, people[KINDS * i + 3]);
  secure.push(performance.now() - t);
}
const mb = Deno.statSync(path).size / 1e6;
store.close();
Deno.removeSync(dir, { recursive: true });
const fmt = (xs: number[]) =>
  `median ${quantile(xs, 0.5).toFixed(2)} ms, p95 ${quantile(xs, 0.95).toFixed(2)} ms`;
console.log(
  `erasure bench: ${mb.toFixed(1)} MB database (${PEOPLE} people, seeded in ${seedS.toFixed(1)} s)`,
);
for (const mode of ["OFF", "FAST", "ON"] as const) {
  console.log(
    `  plain DELETE, secure_delete ${mode.padEnd(4)} (no checkpoint): ${fmt(plain[mode])} over ${ERASURES}`,
  );
}
console.log(`  erasePerson (log + secure_delete ON + WAL TRUNCATE): ${fmt(secure)} over ${ERASURES}`);
console.log(`  WAL folded back per erasure: median ${(quantile(walBefore, 0.5) / 1024).toFixed(0)} KiB`);
const ratio = (a: number[], b: number[]) => (quantile(a, 0.5) / quantile(b, 0.5)).toFixed(1);
console.log(
  `  ratio of medians: DELETE ON/FAST ${ratio(plain.ON, plain.FAST)}x, erasePerson/DELETE OFF ${
    ratio(secure, plain.OFF)
  }x`,
);
