import assert from "node:assert/strict";
import { FakeClock } from "../../../gateway/audio/mod.ts";
import { FsPlayback, type FsPlaybackOptions } from "../../../gateway/freeswitch/playback.ts";
import type { EslEvent } from "../../../gateway/freeswitch/esl.ts";
import { createLogger } from "../../../infra/log.ts";
import { readWav } from "../fixtures/fs_audio_fork_client.ts";

const UUID = "0b6c4f8e-1111-2222-3333-444455556666";

async function setup(over: Partial<FsPlaybackOptions> & { reply?: string } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "tom-fsplay-" });
  const clock = new FakeClock(1000);
  const commands: string[] = [];
  const files = new Map<string, Uint8Array>();
  const marks: Array<[string, boolean]> = [];
  const sent: Record<string, unknown>[] = [];
  const logs: Record<string, unknown>[] = [];
  const playback = new FsPlayback({
    uuid: UUID,
    dir: `${dir}/call`,
    esl: {
      connected: true,
      api: (c) => (commands.push(c), Promise.resolve(over.reply ?? "+OK Message queued\n")),
    },
    sendJson: (m) => sent.push(m),
    onMark: (name, cleared) => marks.push([name, cleared]),
    log: createLogger({ salt: "s", level: "debug", sink: (l) => logs.push(JSON.parse(l)) }),
    clock,
    writeFile: (path, bytes) => {
      files.set(path, bytes);
      return Promise.resolve();
    },
    ...over,
  });
  const broadcasts = () => commands.filter((c) => c.startsWith("uuid_broadcast")).map((c) => c.split(" ")[2]);
  const samplesOf = (path: string) => readWav(files.get(path) as Uint8Array).pcm.length;
  const stopEvent = (path: string, status = "done"): EslEvent => ({
    name: "PLAYBACK_STOP",
    subclass: "",
    uuid: UUID,
    headers: { "Playback-File-Path": path, "Playback-Status": status },
    body: "",
  });
  const startEvent = (path: string): EslEvent => ({ ...stopEvent(path), name: "PLAYBACK_START" });
  return {
    playback,
    clock,
    commands,
    marks,
    sent,
    logs,
    broadcasts,
    samplesOf,
    stopEvent,
    startEvent,
    async close() {
      await playback.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function until(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const ms = (n: number) => new Int16Array(n * 16).fill(100);

Deno.test("FreeSWITCH playback groups back-to-back chunks into one file, cut by a pause of gapMs", async () => {
  const t = await setup();
  try {
    for (let i = 0; i < 9; i++) t.playback.push(ms(20));
    t.clock.advance(39);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(t.broadcasts().length, 0, "no file while the utterance may continue");
    t.clock.advance(1);
    await until(() => t.broadcasts().length === 1, "one file");
    assert.equal(t.samplesOf(t.broadcasts()[0]), 2880);
    assert.match(t.commands[0], new RegExp(`^uuid_broadcast ${UUID} /.+\\.wav aleg$`));
  } finally {
    await t.close();
  }
});

Deno.test("FreeSWITCH playback starts a long answer after firstFileMs, then files double up to maxFileMs", async () => {
  const t = await setup();
  try {
    for (let i = 0; i < 300; i++) t.playback.push(ms(20)); // 6 s, no pause
    await until(() => t.broadcasts().length === 6, "six files");
    t.playback.mark("end");
    await until(() => t.broadcasts().length === 7, "the rest, cut by the mark");
    const ms16 = t.broadcasts().map((p) => t.samplesOf(p) / 16);
    assert.deepEqual(ms16, [200, 200, 400, 800, 1600, 2000, 800]);
    assert.equal(t.playback.queuedMs, 6000);
  } finally {
    await t.close();
  }
});

Deno.test("a FreeSWITCH mark fires on PLAYBACK_STOP of its file; a later file's stop finishes earlier ones too", async () => {
  const t = await setup();
  try {
    t.playback.push(ms(500));
    t.playback.mark("a");
    t.playback.push(ms(300));
    t.playback.mark("b");
    await until(() => t.broadcasts().length === 2, "two files");
    const [first, second] = t.broadcasts();
    t.playback.onEvent(t.startEvent(first));
    t.clock.advance(200);
    assert.equal(t.playback.queuedMs, 600, "300 ms of the first file and the second file");
    await Promise.resolve();
    assert.deepEqual(t.marks, []);
    t.playback.onEvent(t.stopEvent(second)); // the first file's stop got lost
    await Promise.resolve();
    assert.deepEqual(t.marks, [["a", false], ["b", false]]);
    assert.equal(t.playback.queuedMs, 0);
  } finally {
    await t.close();
  }
});

Deno.test("without PLAYBACK events a FreeSWITCH mark fires by the file's duration plus the slack, not before", async () => {
  const t = await setup({ markSlackMs: 1500 });
  try {
    t.playback.push(ms(1000));
    t.playback.mark("done");
    await until(() => t.broadcasts().length === 1, "file");
    t.clock.advance(2499);
    await Promise.resolve();
    assert.deepEqual(t.marks, []);
    t.clock.advance(1);
    await Promise.resolve();
    assert.deepEqual(t.marks, [["done", false]]);
    assert.ok(t.logs.some((l) => /no PLAYBACK_STOP/.test(String(l.message))));
  } finally {
    await t.close();
  }
});

Deno.test("a FreeSWITCH mark with nothing queued fires at once; clear drops audio, tells FreeSWITCH twice, clears marks", async () => {
  const t = await setup();
  try {
    t.playback.mark("idle");
    await Promise.resolve();
    assert.deepEqual(t.marks, [["idle", false]]);
    t.playback.push(ms(800));
    t.playback.mark("reply");
    t.playback.push(ms(100)); // still pending (no file yet)
    t.playback.clear();
    await Promise.resolve();
    assert.deepEqual(t.marks.at(-1), ["reply", true]);
    assert.deepEqual(t.sent, [{ type: "killAudio" }]);
    assert.ok(t.commands.includes(`uuid_break ${UUID} all`));
    assert.equal(t.playback.queuedMs, 0);
    t.clock.advance(100);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(t.broadcasts().length, 0, "nothing cleared is played afterwards");
  } finally {
    await t.close();
  }
});

Deno.test("a refused uuid_broadcast clears the file's marks and is logged once per call", async () => {
  const t = await setup({ reply: "-ERR No such channel!\n" });
  try {
    t.playback.push(ms(100));
    t.playback.mark("x");
    t.playback.push(ms(100));
    t.playback.mark("y");
    await until(() => t.marks.length === 2, "marks");
    assert.deepEqual(t.marks, [["x", true], ["y", true]]);
    assert.equal(t.logs.filter((l) => l.level === "warn").length, 1);
  } finally {
    await t.close();
  }
});

Deno.test("what TOM says on a FreeSWITCH call is written 0600 in a 0700 directory, whatever the umask or an old directory", async () => {
  const base = await Deno.makeTempDir({ prefix: "tom-fsplay-modes-" });
  const dir = `${base}/call`;
  // An old call directory left world-readable (the 0755 of earlier versions) and a permissive umask.
  await Deno.mkdir(dir, { mode: 0o755 });
  await Deno.chmod(dir, 0o755);
  const oldMask = Deno.umask(0);
  const clock = new FakeClock(1000);
  const commands: string[] = [];
  const playback = new FsPlayback({
    uuid: UUID,
    dir,
    esl: { connected: true, api: (c) => (commands.push(c), Promise.resolve("+OK Message queued\n")) },
    sendJson: () => {},
    onMark: () => {},
    log: createLogger({ salt: "s", level: "error", sink: () => {} }),
    clock,
    removeDir: () => Promise.resolve(),
  });
  try {
    for (let i = 0; i < 3; i++) playback.push(ms(20));
    clock.advance(40);
    await until(() => commands.some((c) => c.startsWith("uuid_broadcast")), "the first file to be queued");
    const file = commands.find((c) => c.startsWith("uuid_broadcast"))?.split(" ")[2] as string;
    // Another user on the box (a FreeSWITCH running as someone else, a curious shell user) sees neither
    // the directory's entries nor the file's content.
    assert.equal(((await Deno.stat(file)).mode ?? 0) & 0o777, 0o600, "the playback WAV is owner-only");
    assert.equal(
      ((await Deno.stat(dir)).mode ?? 0) & 0o777,
      0o700,
      "the call's playback directory is owner-only",
    );
  } finally {
    Deno.umask(oldMask);
    await playback.stop();
    await Deno.remove(base, { recursive: true });
  }
});
