/**
 * The Asterisk files in infra/deploy/asterisk, loaded into the real Asterisk 22 of the end-to-end tests
 * (the Debian sid chroot, infra/asterisk/provision.ts; same harness as tests/e2e/asterisk_test.ts):
 * they load without a warning, `dialplan show tom` is the dialplan the gateway's end-to-end test checks
 * (tests/_rigs/asterisk/config.ts), every application they use exists, and a call on each route reaches TOM
 * over the transport it names and ends. Negative controls: a syntax slip and a misspelt application.
 *
 * TOM's default addresses in the shipped files (127.0.0.1:9092, 127.0.0.1:8080) are replaced by the test
 * gateway's free ports; nothing else is changed. The test caller context (`tom-caller`, config.ts) is
 * appended to the shipped extensions.conf so that calls can be placed.
 *
 * Skipped, with the reason printed, only when the chroot cannot be built; in CI (`CI=true`) that fails.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { AsteriskChroot } from "../../infra/asterisk/provision.ts";
import { asteriskChroot } from "../_rigs/asterisk/chroot.ts";
import { AsteriskInstance } from "../_rigs/asterisk/instance.ts";
import { callerDialplan, managerConf, MODULES, type Route, ROUTES } from "../_rigs/asterisk/config.ts";
import { ConfigSchema } from "../../infra/config.ts";
import type { Answerer } from "../../gateway/call/contract.ts";
import { echoAnswerer } from "../../gateway/call/echo.ts";
import {
  ASTERISK_WS_PATH,
  ASTERISK_WS_PROTOCOL,
  mountAsteriskWebSocket,
} from "../../gateway/asterisk/websocket.ts";
import { type AudioSocketServer, startAudioSocketServer } from "../../gateway/asterisk/audiosocket.ts";
import { startGateway } from "../gateway/server_harness.ts";
import { ROOT } from "../_helpers.ts";

const CI = Deno.env.get("CI") === "true";
const DIR = join(ROOT, "infra/deploy/asterisk");
const DEFAULTS = ConfigSchema.parse({});
const AS_DEFAULT = `${DEFAULTS.audiosocket.host}:${DEFAULTS.audiosocket.port}`;
const HTTP_DEFAULT = `${DEFAULTS.http.host}:${DEFAULTS.http.port}`;
/** Modules only the test caller needs (tests/_rigs/asterisk/config.ts); a deployment does not. */
const TEST_CALLER_MODULES = new Set([
  "app_playback.so",
  "app_senddtmf.so",
  "app_mixmonitor.so",
  "app_record.so",
  "res_clioriginate.so",
  "func_callerid.so", // test calls with a caller number (tom-cid); real callers bring their own
]);

const { chroot, unavailable } = await asteriskChroot("the Asterisk deployment files test");

/** The shipped files with TOM's default addresses pointed at the test gateway. */
async function shippedFiles(audioSocket: string, http: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of ["extensions.conf", "websocket_client.conf", "chan_websocket.conf"]) {
    out[name] = (await Deno.readTextFile(join(DIR, name))).replaceAll(AS_DEFAULT, audioSocket).replaceAll(
      HTTP_DEFAULT,
      http,
    );
  }
  return out;
}

/** `dialplan show <context>` without the source line numbers (files differ in their comments). */
async function showContext(asterisk: AsteriskInstance, context: string): Promise<string> {
  return (await asterisk.cli(`dialplan show ${context}`)).replace(/\s*\[[\w.]+:\d+\]/g, "").trim();
}

/** Write configuration files into the running instance and reload what reads them; returns new log lines. */
async function load(asterisk: AsteriskInstance, files: Record<string, string>): Promise<string[]> {
  const mark = asterisk.output.length;
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(asterisk.chroot, asterisk.paths.etc, name), text);
  }
  assert.match(await asterisk.cli("dialplan reload"), /Dialplan reloaded/);
  assert.match(await asterisk.cli("module reload res_websocket_client.so"), /reloaded successfully/);
  assert.match(await asterisk.cli("module reload chan_websocket.so"), /reloaded successfully/);
  await asterisk.cli("core show uptime"); // a round trip after the reloads: their log lines are out
  return asterisk.output.slice(mark).split("\n").filter((l) => /\b(WARNING|ERROR)\[/.test(l));
}

/** Applications used in a `dialplan show` text that this Asterisk does not have. */
async function unknownApplications(asterisk: AsteriskInstance, shown: string): Promise<string[]> {
  const apps = new Set([...shown.matchAll(/\d+\. (\w+)\(/g)].map((m) => m[1]));
  assert.ok(apps.size > 0, `no applications in:\n${shown}`);
  const unknown: string[] = [];
  for (const app of apps) {
    const out = await asterisk.cli(`core show application ${app}`);
    if (!out.includes(`-= Info about Application '${app}' =-`)) unknown.push(app);
  }
  return unknown;
}

Deno.test({
  name:
    "the shipped Asterisk files load into a real Asterisk 22 cleanly and carry calls to TOM on every route",
  ignore: unavailable !== undefined && !CI,
  sanitizeResources: false,
  async fn(t) {
    assert.ok(chroot, `the Asterisk chroot could not be built: ${unavailable}`);
    const started: { transport: string; stopped: Promise<void> }[] = [];
    const echo = echoAnswerer();
    const answer: Answerer = (ctx) => {
      const inner = echo(ctx);
      let done = () => {};
      started.push({ transport: ctx.transport, stopped: new Promise((r) => (done = r)) });
      return {
        handle(e) {
          if (e.type === "stop") done();
          inner.handle(e);
        },
      };
    };
    let audioSocket: AudioSocketServer | undefined;
    const gw = await startGateway({
      answer,
      transports: [
        (app, deps, guard) => mountAsteriskWebSocket(app, deps, guard),
        async (_app, deps, guard) => (audioSocket = await startAudioSocketServer(deps, guard, { port: 0 })),
      ],
    });
    const as = `127.0.0.1:${(audioSocket as AudioSocketServer).addr.port}`;
    const asterisk = await AsteriskInstance.start({
      chroot: chroot as AsteriskChroot,
      audioSocket: { host: "127.0.0.1", port: (audioSocket as AudioSocketServer).addr.port },
      http: { host: "127.0.0.1", port: gw.port },
    }).catch(async (e) => {
      await gw.close();
      throw e;
    });
    try {
      // The reference: the dialplan tests/_rigs/asterisk/config.ts generates, which asterisk_test.ts verifies.
      const reference = await showContext(asterisk, "tom");
      const files = await shippedFiles(as, `127.0.0.1:${gw.port}`);
      const caller = callerDialplan({
        spoolDir: asterisk.paths.spool,
        sound: `${asterisk.paths.sounds}/caller`,
      });

      await t.step("the shipped files hold TOM's default addresses, path and subprotocol", async () => {
        const ext = await Deno.readTextFile(join(DIR, "extensions.conf"));
        const ws = await Deno.readTextFile(join(DIR, "websocket_client.conf"));
        assert.match(ext, new RegExp(`AudioSocket\\(\\$\\{UUID\\(\\)\\},${AS_DEFAULT}\\)`));
        assert.match(ws, new RegExp(`^uri = ws://${HTTP_DEFAULT}${ASTERISK_WS_PATH}$`, "m"));
        assert.match(ws, new RegExp(`^protocols = ${ASTERISK_WS_PROTOCOL}$`, "m"));
        const readme = await Deno.readTextFile(join(DIR, "README.md"));
        const missingModules = MODULES.filter((m) => !TEST_CALLER_MODULES.has(m) && !readme.includes(m));
        assert.deepEqual(missingModules, [], "README.md must list every module the routes need");
      });

      await t.step(
        "they load without a warning and `dialplan show tom` is the verified dialplan",
        async () => {
          const problems = await load(asterisk, {
            ...files,
            "extensions.conf": files["extensions.conf"] + "\n" + caller,
          });
          assert.deepEqual(problems, []);
          const shown = await showContext(asterisk, "tom");
          assert.equal(shown, reference);
          assert.match(shown, /-= 5 extensions \(17 priorities\) in 1 context\. =-/);
          const inbound = await showContext(asterisk, "tom-inbound");
          assert.match(inbound, /'_X\.' =>\s+1\. Goto\(tom,audiosocket16,1\)/);
          assert.match(inbound, /'_\+X\.' =>\s+1\. Goto\(tom,audiosocket16,1\)/);
          assert.deepEqual(await unknownApplications(asterisk, shown + "\n" + inbound), []);
        },
      );

      await t.step("the transfer context and manager.conf are what TOM's AMI transfers need", async () => {
        // Loaded by the step before. VoiceMail needs app_voicemail, which a box without voicemail lacks.
        const transfer = await showContext(asterisk, "tom-transfer");
        for (const pattern of ["_X.", "_0X.", "_+X.", "_vmX."]) {
          assert.ok(transfer.includes(`'${pattern}' =>`), pattern);
        }
        assert.deepEqual(await unknownApplications(asterisk, transfer), ["VoiceMail"]);
        // A Dial() nobody answers goes back to TOM when TOM set its return id (TOM_RETURN).
        assert.equal(transfer.split('GotoIf($["${TOM_RETURN}" != ""]?tom,tom-return,1)').length - 1, 3);
        const manager = (await Deno.readTextFile(join(DIR, "manager.conf"))).split("\n").filter((l) =>
          !l.startsWith(";")
        ).join("\n").trim();
        assert.equal(manager, managerConf({ port: 5038, user: "tom", secret: "CHANGE-ME" }).trim());
      });

      const routes: [Route, string][] = [
        [ROUTES.audiosocket, "audiosocket"],
        [ROUTES.audiosocket16, "audiosocket"],
        [ROUTES.websocket, "chan_websocket"],
        [ROUTES.websocket16, "chan_websocket"],
      ];
      for (const [i, [route, transport]] of routes.entries()) {
        await t.step(`a call on ${route} reaches TOM over ${transport} and ends`, async () => {
          const before = started.length;
          await asterisk.originate(route, String(2001 + i));
          const deadline = Date.now() + 15_000;
          while (started.length === before && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 50));
          }
          const call = started[before];
          assert.ok(call, `TOM saw no call on ${route}:\n${asterisk.output.slice(-2000)}`);
          assert.equal(call.transport, transport);
          await Promise.race([
            call.stopped,
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error(`the ${route} call did not end`)), 20_000)
            ),
          ]);
          await asterisk.waitIdle(10_000);
        });
      }

      await t.step(
        "negative controls: a syntax slip is logged, a misspelt application is found, a wrong URI reaches nobody",
        async () => {
          const slip = files["extensions.conf"].replace(
            "exten => websocket,1,Answer()",
            "exten => websocket,l,Answer()",
          );
          assert.notEqual(slip, files["extensions.conf"]);
          const problems = await load(asterisk, { "extensions.conf": slip + "\n" + caller });
          assert.ok(
            problems.some((l) => /Invalid priority\/label 'l' at line \d+ of extensions\.conf/.test(l)),
            problems.join("\n"),
          );
          const typo = files["extensions.conf"].replace(
            "exten => audiosocket,1,Answer()",
            "exten => audiosocket,1,Answr()",
          );
          assert.deepEqual(await load(asterisk, { "extensions.conf": typo + "\n" + caller }), []);
          assert.deepEqual(await unknownApplications(asterisk, await showContext(asterisk, "tom")), [
            "Answr",
          ]);
          // The reloaded websocket_client.conf is the one in force: pointed elsewhere, no call reaches TOM.
          const elsewhere = files["websocket_client.conf"].replace(`${ASTERISK_WS_PATH}\n`, "/ws/nowhere\n");
          assert.notEqual(elsewhere, files["websocket_client.conf"]);
          await load(asterisk, {
            "extensions.conf": files["extensions.conf"] + "\n" + caller,
            "websocket_client.conf": elsewhere,
          });
          const before = started.length;
          const mark = asterisk.output.length;
          await asterisk.originate(ROUTES.websocket, "2999");
          await asterisk.waitIdle(15_000);
          assert.equal(
            started.length,
            before,
            "a call reached TOM through a websocket_client.conf that points elsewhere",
          );
          assert.match(
            asterisk.output.slice(mark),
            /connection to ws:\/\/[\d.:]+\/ws\/nowhere failed.*URL not found/,
          );
        },
      );
    } finally {
      await asterisk.stop();
      await gw.close();
    }
  },
});
