/**
 * The Asterisk rig's pieces that need no Asterisk: configuration files, the provisioning cache check,
 * a failing step named in the error, the WAV helpers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  asteriskConfigFiles,
  callerDialplan,
  MODULES,
  ROUTES,
  tomDialplan,
  websocketClientConf,
} from "../_rigs/asterisk/config.ts";
import {
  asteriskProvisioned,
  AsteriskProvisionError,
  defaultAsteriskDir,
  findModuleDir,
  provisionAsterisk,
  REQUIRED_MODULES,
} from "../../infra/asterisk/provision.ts";
import { CALLER_TONE, callerSound } from "../_rigs/asterisk/instance.ts";
import { encodeWav, readWav } from "../../gateway/mod.ts";
import { formatAsteriskProgress } from "../../infra/asterisk/cli.ts";

const TOM = { audioSocket: { host: "127.0.0.1", port: 9092 }, http: { host: "127.0.0.1", port: 8080 } };

Deno.test("the tom context routes calls over AudioSocket (8 and 16 kHz) and chan_websocket (ulaw, slin16 JSON), failing open", () => {
  const plan = tomDialplan(TOM);
  assert.match(
    plan,
    /exten => audiosocket,1,Answer\(\)\n same => n,TryExec\(AudioSocket\(\$\{UUID\(\)\},127\.0\.0\.1:9092\)\)/,
  );
  assert.match(plan, /Dial\(AudioSocket\/127\.0\.0\.1:9092\/\$\{UUID\(\)\}\/c\(slin16\),,g\)/);
  assert.match(plan, /Dial\(WebSocket\/tom\/c\(ulaw\)\)/);
  assert.match(plan, /Dial\(WebSocket\/tom\/c\(slin16\)f\(json\)n\)/);
  for (const route of Object.values(ROUTES)) assert.match(plan, new RegExp(`exten => ${route},1,`));
  // Every route has a way to the fallback when TOM cannot take the call (TOM down, full or refusing).
  assert.equal(plan.match(/tom-fallback,s,1/g)?.length, 5, plan);
  assert.match(plan, /TryExec\(AudioSocket\(\$\{TOM_RETURN\},127\.0\.0\.1:9092\)\)/);
  assert.match(
    tomDialplan({ ...TOM, audioSocket: { host: "::1", port: 9 } }),
    /AudioSocket\(\$\{UUID\(\)\},\[::1\]:9\)/,
  );
});

Deno.test("websocket_client.conf points chan_websocket at WS /ws/asterisk with subprotocol media", () => {
  const conf = websocketClientConf({ ...TOM, http: { host: "127.0.0.1", port: 18080 } });
  assert.match(conf, /^\[tom\]$/m);
  assert.match(conf, /^type = websocket_client$/m);
  assert.match(conf, /^connection_type = per_call_config$/m);
  assert.match(conf, /^uri = ws:\/\/127\.0\.0\.1:18080\/ws\/asterisk$/m);
  assert.match(conf, /^protocols = media$/m);
});

Deno.test("the test caller records what it hears and says, plays its sound, sends DTMF", () => {
  const plan = callerDialplan({ spoolDir: "/spool", sound: "/snd/caller" });
  assert.match(plan, /exten => _X\.,1,Answer\(\)/);
  assert.match(
    plan,
    /MixMonitor\(\/spool\/\$\{EXTEN\}-mix\.wav,nr\(\/spool\/\$\{EXTEN\}-heard\.wav\)t\(\/spool\/\$\{EXTEN\}-said\.wav\),\/bin\/touch \/spool\/\$\{EXTEN\}\.closed\)/,
  );
  assert.match(plan, /Playback\(\/snd\/caller\)/);
  assert.match(plan, /SendDTMF\(12#\)/);
});

Deno.test("an instance's files: its own directories, autoload off with the needed modules, nothing listening", () => {
  const files = asteriskConfigFiles({
    ...TOM,
    name: "t1",
    moduleDir: "/usr/lib/x86_64-linux-gnu/asterisk/modules",
  });
  assert.deepEqual(Object.keys(files).sort(), [
    "asterisk.conf",
    "chan_websocket.conf",
    "extensions.conf",
    "http.conf",
    "logger.conf",
    "modules.conf",
    "websocket_client.conf",
  ]);
  assert.match(files["asterisk.conf"], /astetcdir => \/etc\/tom-asterisk\/t1/);
  assert.match(files["asterisk.conf"], /astrundir => \/run\/tom-asterisk\/t1/);
  assert.match(files["modules.conf"], /^autoload = no$/m);
  for (
    const m of [...REQUIRED_MODULES, "res_sorcery_config.so", "res_sorcery_memory.so", "res_sorcery_astdb.so"]
  ) {
    assert.ok(MODULES.includes(m), m);
    assert.match(files["modules.conf"], new RegExp(`^load = ${m.replace(".", "\\.")}$`, "m"));
  }
  assert.match(files["http.conf"], /enabled = no/);
  assert.match(files["extensions.conf"], /\[tom\][\s\S]*\[tom-caller\]/);
  assert.throws(() => asteriskConfigFiles({ ...TOM, name: "../x", moduleDir: "/m" }), RangeError);
});

Deno.test("the chroot lives in ASTERISK_CHROOT, else beside the engines", () => {
  assert.equal(defaultAsteriskDir("/cache/engines", () => undefined), "/cache/engines/asterisk-chroot");
  assert.equal(
    defaultAsteriskDir("/cache/engines", (k) => (k === "ASTERISK_CHROOT" ? "/srv/ast" : undefined)),
    "/srv/ast",
  );
});

Deno.test("a provisioned chroot is found from its stamp without any work; a partial one is not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom-ast-" });
  try {
    assert.equal(await asteriskProvisioned(dir), undefined);
    const mods = "/usr/lib/x86_64-linux-gnu/asterisk/modules";
    await Deno.mkdir(join(dir, mods), { recursive: true });
    await Deno.mkdir(join(dir, "usr/sbin"), { recursive: true });
    await Deno.writeTextFile(join(dir, "usr/sbin/asterisk"), "");
    for (const m of REQUIRED_MODULES) await Deno.writeTextFile(join(dir, mods, m), "");
    assert.equal(await findModuleDir(dir), mods);
    assert.equal(await asteriskProvisioned(dir), undefined, "no stamp yet");
    const stamp = { dir, version: "Asterisk 22.10.1", moduleDir: mods, buildSeconds: 70, bytes: 1 };
    await Deno.writeTextFile(join(dir, ".tom-asterisk.json"), JSON.stringify(stamp));
    const events: string[] = [];
    const found = await provisionAsterisk({ dir, onProgress: (e) => events.push(formatAsteriskProgress(e)) });
    assert.equal(found.version, "Asterisk 22.10.1");
    assert.equal(found.buildSeconds, 0);
    assert.equal(events.length, 4);
    assert.ok(events.every((e) => e.includes("cached")));
    await Deno.remove(join(dir, mods, "chan_websocket.so"));
    assert.equal(await asteriskProvisioned(dir), undefined, "a module went missing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "a failing step is named in the error, with the log file",
  // debootstrap runs only as root; against a closed port it fails within a second.
  ignore: Deno.uid() !== 0,
  async fn() {
    const parent = await Deno.makeTempDir({ prefix: "tom-ast-" });
    try {
      const dir = join(parent, "chroot");
      const err = await provisionAsterisk({ dir, mirror: "http://127.0.0.1:9/debian" }).catch((e) => e);
      assert.ok(err instanceof AsteriskProvisionError, String(err));
      assert.equal(err.step, "debootstrap");
      assert.match(err.message, /^Asterisk provisioning failed at step "debootstrap": debootstrap exited/);
      assert.equal(err.logFile, `${dir}.log`);
      assert.ok((await Deno.stat(err.logFile)).size > 0);
      assert.equal(await asteriskProvisioned(dir), undefined);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test("WAV: the caller's sound round-trips; a data chunk still being written is read to the end", () => {
  const pcm = callerSound(CALLER_TONE, 8000);
  assert.equal(pcm.length, 8000 * 4);
  assert.equal(pcm[0], 0);
  assert.ok(Math.max(...pcm.subarray(12000, 20000)) > 8000);
  const wav = encodeWav(pcm, 8000);
  const back = readWav(wav);
  assert.equal(back.sampleRate, 8000);
  assert.equal(back.channels.length, 1);
  assert.deepEqual(Array.from(back.channels[0], Math.round), Array.from(pcm));
  const open = wav.slice();
  new DataView(open.buffer).setUint32(40, 0, true);
  assert.equal(readWav(open).channels[0].length, pcm.length);
  assert.throws(() => readWav(new Uint8Array(20)), /RIFF/);
});
