// kill -9 of writer processes under load: the database stays intact and no acknowledged write is lost.
// Three rounds on the same file, so every round after the first also starts from a crashed database.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";

const WRITERS = [
  { name: "tx-1", mode: "tx" },
  { name: "tx-2", mode: "tx" },
  { name: "queue-1", mode: "queue" },
];
const ROUNDS = 3;
const ACKS_PER_ROUND = 1500;
const MAX_ROUND_MS = 10_000;

async function readAcks(
  stream: ReadableStream<Uint8Array>,
  acks: Set<string>,
  onAck: () => void,
): Promise<void> {
  let rest = "";
  for await (
    const chunk of stream.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
  ) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? ""; // an unfinished last line was not acknowledged
    for (const line of lines) {
      if (line.startsWith("ack ")) {
        acks.add(line.slice(4));
        onAck();
      }
    }
  }
}

/** Starts the writers, lets them write until enough acks (or time) and SIGKILLs them all. */
async function killedRound(path: string, round: number): Promise<Set<string>> {
  const fixture = new URL("./fixtures/writer.ts", import.meta.url).pathname;
  let total = 0;
  let enough: () => void = () => {};
  const enoughAcks = new Promise<void>((resolve) => (enough = resolve));
  const writers = WRITERS.map((w) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        fixture,
        path,
        w.mode,
        `${w.name}/${round}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const acks = new Set<string>();
    const reading = readAcks(child.stdout, acks, () => {
      // Enough load: the target total, and every writer got the lock at least a few times.
      if (++total >= ACKS_PER_ROUND && writers.every((other) => other.acks.size >= 5)) enough();
    });
    return { ...w, child, acks, reading, stderr: new Response(child.stderr).text() };
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    enoughAcks,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, MAX_ROUND_MS))),
  ]);
  clearTimeout(timer);
  for (const w of writers) {
    try {
      w.child.kill("SIGKILL");
    } catch {
      // Already exited: the status check below reports why.
    }
  }
  const all = new Set<string>();
  for (const w of writers) {
    const status = await w.child.status;
    await w.reading; // lines that arrived after the kill were committed too
    const stderr = await w.stderr;
    assert.equal(status.signal, "SIGKILL", `${w.name} ended before the kill: ${stderr}`);
    assert.ok(w.acks.size > 0, `${w.name} acknowledged nothing: ${stderr}`);
    for (const id of w.acks) all.add(id);
  }
  console.log(
    `round ${round}: acknowledged before SIGKILL ${
      writers.map((w) => `${w.name}=${w.acks.size}`).join(", ")
    }`,
  );
  return all;
}

function assertIntactWith(path: string, acks: Set<string>): void {
  const db = new DatabaseSync(path);
  try {
    assert.deepEqual(db.prepare("PRAGMA integrity_check").all().map((r) => r.integrity_check), ["ok"]);
    assert.deepEqual(db.prepare("PRAGMA foreign_key_check").all(), []);
    const turns = db.prepare("SELECT count(*) AS n FROM transcripts WHERE call_id = ?");
    const missing = [...acks].filter((id) => (turns.get(id) as { n: number }).n !== 2);
    assert.deepEqual(missing, [], `${missing.length} of ${acks.size} acknowledged calls are missing`);
  } finally {
    db.close();
  }
}

Deno.test("kill -9 of three writer processes under load loses no acknowledged write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_crash_" });
  try {
    const path = `${dir}/tom.db`;
    const fixture = new URL("./fixtures/writer.ts", import.meta.url).pathname;
    const warmup = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", fixture, path, "warmup"] })
      .output();
    assert.equal(warmup.code, 0, new TextDecoder().decode(warmup.stderr));
    const acks = new Set<string>();
    // No connection is opened between rounds: each new round's writers recover the killed one's WAL.
    for (let round = 1; round <= ROUNDS; round++) {
      for (const id of await killedRound(path, round)) acks.add(id);
    }
    assertIntactWith(path, acks);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
