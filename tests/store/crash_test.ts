// kill -9 of writer processes under load: the database stays intact and no acknowledged write is lost.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";

const WRITERS = [
  { name: "tx-1", mode: "tx" },
  { name: "tx-2", mode: "tx" },
  { name: "queue-1", mode: "queue" },
];
const TARGET_ACKS = 3000;
const MAX_WAIT_MS = 5000;

async function readAcks(stream: ReadableStream<Uint8Array>, acks: Set<string>, onAck: () => void): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
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

Deno.test("kill -9 of three writer processes under load loses no acknowledged write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_crash_" });
  try {
    const path = `${dir}/tom.db`;
    const fixture = new URL("./fixtures/writer.ts", import.meta.url).pathname;
    const acks = new Set<string>();
    let total = 0;
    let enough: () => void = () => {};
    const enoughAcks = new Promise<void>((resolve) => (enough = resolve));
    const children = WRITERS.map((w) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--allow-read", "--allow-write", "--allow-env", fixture, path, w.mode, w.name],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const perWriter = new Set<string>();
      const reading = readAcks(child.stdout, perWriter, () => {
        total++;
        if (total >= TARGET_ACKS) enough();
      });
      const stderr = new Response(child.stderr).text();
      return { ...w, child, perWriter, reading, stderr };
    });

    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, MAX_WAIT_MS)));
    await Promise.race([enoughAcks, timeout]);
    clearTimeout(timer);
    for (const w of children) w.child.kill("SIGKILL");
    for (const w of children) {
      const status = await w.child.status;
      await w.reading;
      const stderr = await w.stderr;
      assert.equal(status.signal, "SIGKILL", `${w.name} ended before the kill: ${stderr}`);
      assert.ok(w.perWriter.size > 0, `${w.name} acknowledged nothing: ${stderr}`);
      for (const id of w.perWriter) acks.add(id);
    }
    console.log(`acknowledged before SIGKILL: ${children.map((w) => `${w.name}=${w.perWriter.size}`).join(", ")}`);

    const db = new DatabaseSync(path);
    try {
      assert.deepEqual(db.prepare("PRAGMA integrity_check").all(), [{ integrity_check: "ok" }]);
      assert.deepEqual(db.prepare("PRAGMA foreign_key_check").all(), []);
      const callExists = db.prepare("SELECT count(*) AS n FROM transcripts WHERE call_id = ?");
      const missing = [...acks].filter((id) => (callExists.get(id) as { n: number }).n !== 2);
      assert.deepEqual(missing, [], `${missing.length} of ${acks.size} acknowledged calls are missing`);
      const stored = (db.prepare("SELECT count(*) AS n FROM calls").get() as { n: number }).n;
      assert.ok(stored >= acks.size);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
