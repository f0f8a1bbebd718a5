/**
 * Store write throughput (rows/s), our layer beside raw node:sqlite in the same run on the same disk.
 *
 *   deno run -A tests/bench/store_bench.ts [--quick]
 *
 * Each case writes into a fresh, migrated database file (WAL) in a temp dir; a "row" is one `calls` row
 * (plus two encrypted transcript turns in the "call + 2 turns" cases, counted as 3 rows). Cases run
 * under synchronous=FULL (the store's default: every commit fsynced) and NORMAL, each ratio against the
 * raw autocommit baseline of the same mode. The median of 3 interleaved runs is reported.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import {
  appendTranscriptTurn,
  createAccount,
  createCall,
  createPerson,
  openStore,
  type Store,
} from "../../store/mod.ts";

const quick = Deno.args.includes("--quick");
const SLOW_ROWS = quick ? 300 : 1000; // cases with one commit per row
const FAST_ROWS = quick ? 5000 : 20_000; // batched cases
const BATCH = 500;
const CONCURRENT_CALLS = 200;
const RUNS = 3;
type Sync = "FULL" | "NORMAL";

interface Fixture {
  store: Store;
  accountId: string;
  personId: string;
}

interface Case {
  name: string;
  rows: number;
  baseline?: boolean;
  run: (f: Fixture, rows: number) => Promise<void> | void;
}

const dir = await Deno.makeTempDir({ prefix: "tom_store_bench_" });
let dbCounter = 0;

function fixture(sync: Sync): Fixture {
  const store = openStore(`${dir}/bench_${++dbCounter}.db`, { synchronous: sync, maxBatch: BATCH });
  const accountId = createAccount(store, { name: "Bench", kind: "clinical" }).id;
  const personId = createPerson(store, accountId, {
    kind: "patient",
    displayName: "Bench",
    phoneE164: "+4917012345678",
    consentTranscript: true,
  }).id;
  return { store, accountId, personId };
}

const RAW_INSERT = `INSERT INTO calls (id, account_id, person_id, direction, transport, started_at)
  VALUES (?, ?, ?, 'inbound', 'browser', ?)`;

/** A prepared raw insert (prepared once, as a careful hand-written baseline would). */
function rawInserter(db: DatabaseSync, f: Fixture): () => void {
  const stmt = db.prepare(RAW_INSERT);
  return () => stmt.run(crypto.randomUUID(), f.accountId, f.personId, Date.now());
}

function storeCall(f: Fixture): string {
  return createCall(f.store, f.accountId, {
    direction: "inbound",
    transport: "browser",
    personId: f.personId,
  }).id;
}

const iv = new Uint8Array(12);
const ciphertext = new Uint8Array(96);

function storeCallWithTurns(f: Fixture): void {
  const callId = storeCall(f);
  for (let turnIndex = 0; turnIndex < 2; turnIndex++) {
    const speaker = turnIndex === 0 ? "caller" : "assistant";
    appendTranscriptTurn(f.store, f.accountId, { callId, turnIndex, speaker, ciphertext, iv, keyId: "k1" });
  }
}

/** `calls` concurrent async loops, each awaiting its own acknowledged write, like live calls. */
async function concurrently(f: Fixture, rows: number, write: () => void): Promise<void> {
  let left = rows;
  await Promise.all(Array.from({ length: CONCURRENT_CALLS }, async () => {
    while (left-- > 0) await f.store.write(write);
  }));
}

const cases: Case[] = [
  {
    name: "raw node:sqlite, autocommit per row",
    rows: SLOW_ROWS,
    baseline: true,
    run: (f, n) => {
      const insert = rawInserter(f.store.db, f);
      for (let i = 0; i < n; i++) insert();
    },
  },
  {
    name: `raw node:sqlite, ${BATCH} rows per transaction`,
    rows: FAST_ROWS,
    run: (f, n) => {
      const insert = rawInserter(f.store.db, f);
      for (let i = 0; i < n; i += BATCH) {
        f.store.db.exec("BEGIN IMMEDIATE");
        for (let j = i; j < Math.min(n, i + BATCH); j++) insert();
        f.store.db.exec("COMMIT");
      }
    },
  },
  {
    name: "store createCall, autocommit per row",
    rows: SLOW_ROWS,
    run: (f, n) => {
      for (let i = 0; i < n; i++) storeCall(f);
    },
  },
  {
    name: `store createCall, Store.transaction of ${BATCH}`,
    rows: FAST_ROWS,
    run: (f, n) => {
      for (let i = 0; i < n; i += BATCH) {
        f.store.transaction(() => {
          for (let j = i; j < Math.min(n, i + BATCH); j++) storeCall(f);
        });
      }
    },
  },
  {
    name: `store createCall, Store.write from ${CONCURRENT_CALLS} calls`,
    rows: FAST_ROWS,
    run: (f, n) => concurrently(f, n, () => storeCall(f)),
  },
  {
    name: "store call + 2 turns, transaction per call",
    rows: SLOW_ROWS * 3,
    run: (f, n) => {
      for (let i = 0; i < n; i += 3) f.store.transaction(() => storeCallWithTurns(f));
    },
  },
  {
    name: `store call + 2 turns, Store.write from ${CONCURRENT_CALLS} calls`,
    rows: FAST_ROWS * 3,
    run: (f, n) => concurrently(f, n / 3, () => storeCallWithTurns(f)),
  },
];

/** One timed run of a case on a fresh database; returns rows/s. */
async function measureOnce(c: Case, sync: Sync): Promise<number> {
  const f = fixture(sync);
  await c.run(f, Math.min(c.rows, 300)); // warm-up: statement cache, page cache, JIT
  const start = performance.now();
  await c.run(f, c.rows);
  const seconds = (performance.now() - start) / 1000;
  f.store.close();
  return c.rows / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(11);
try {
  console.log(
    `Store write throughput, rows/s (median of ${RUNS}), deno ${Deno.version.deno}, ${Deno.build.target}`,
  );
  console.log(`temp dir: ${dir}${quick ? " (--quick)" : ""}\n`);
  console.log(`${"case".padEnd(52)}| ${"FULL".padStart(11)} | ratio  | ${"NORMAL".padStart(11)} | ratio`);
  console.log(`${"-".repeat(52)}|-------------|--------|-------------|-------`);
  // Runs are interleaved (every case and mode once per round) so that a change in machine load hits
  // all of them alike instead of biasing the cases measured last.
  const rates = cases.map(() => ({ FULL: [] as number[], NORMAL: [] as number[] }));
  for (let run = 0; run < RUNS; run++) {
    for (const [i, c] of cases.entries()) {
      for (const sync of ["FULL", "NORMAL"] as const) rates[i]?.[sync].push(await measureOnce(c, sync));
    }
  }
  const baseIndex = cases.findIndex((c) => c.baseline);
  const base = { FULL: median(rates[baseIndex]?.FULL ?? []), NORMAL: median(rates[baseIndex]?.NORMAL ?? []) };
  const ratio = (v: number, b: number) => `${(v / b).toFixed(1)}x`.padStart(6);
  for (const [i, c] of cases.entries()) {
    const full = median(rates[i]?.FULL ?? []);
    const normal = median(rates[i]?.NORMAL ?? []);
    console.log(
      `${c.name.padEnd(52)}| ${fmt(full)} | ${ratio(full, base.FULL)} | ${fmt(normal)} | ${
        ratio(normal, base.NORMAL)
      }`,
    );
  }
  console.log("\nratio: against raw node:sqlite autocommit per row with the same synchronous mode.");
} finally {
  await Deno.remove(dir, { recursive: true });
}
