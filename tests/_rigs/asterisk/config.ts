/**
 * Asterisk configuration for TOM: the dialplan that hands calls to TOM over AudioSocket and over
 * chan_websocket, the `websocket_client.conf` entry pointing at `WS /ws/asterisk`, and the minimal
 * module set. Used by the test rig ({@linkcode asteriskConfigFiles} writes one instance's files) and as
 * the reference for deployment (infra/deploy).
 *
 * Every setting here was checked against Asterisk 22.10.1 (Debian sid) by tests/e2e/asterisk_test.ts.
 *
 * @module
 */

/** The ways a call can reach TOM, as extensions of the `tom` context. */
export const ROUTES = {
  /** `AudioSocket()` application: slin 8 kHz, kind 0x10. */
  audiosocket: "audiosocket",
  /** `Dial(AudioSocket/...)` with `c(slin16)`: slin 16 kHz, kind 0x12. */
  audiosocket16: "audiosocket16",
  /** `Dial(WebSocket/tom/c(ulaw))`: mu-law, plain-text control messages. */
  websocket: "websocket",
  /** `Dial(WebSocket/tom/c(slin16)f(json)n)`: slin 16 kHz, JSON control, TOM sends ANSWER. */
  websocket16: "websocket16",
} as const;
/** One route. */
export type Route = typeof ROUTES[keyof typeof ROUTES];

/** The `tom` extension a transfer nobody answered comes back to TOM by (over AudioSocket, `TOM_RETURN`). */
export const RETURN_EXTEN = "tom-return";

/** The context a warm transfer's answered staff leg runs (`asterisk.warmContext`, shipped `tom-warm`). */
export const WARM_CONTEXT = "tom-warm";

/** Where the `tom` context sends a call TOM could not take (the practice's people). */
export const FALLBACK_CONTEXT = "tom-fallback";
/** A `Dial(AudioSocket/...)` call TOM ended sooner than this (ms) was refused: it falls back. */
export const FALLBACK_UNDER_MS = 1500;
/** The test phone the rig's `tom-fallback` rings (one of {@linkcode TEST_PHONES}: it answers, plays its tone). */
export const FALLBACK_PHONE = "21";

/** Modules loaded (`autoload = no`): what the routes and the test caller need, nothing that listens. */
export const MODULES: readonly string[] = [
  // Sorcery back ends: other modules fail to load without them once autoload is off.
  "res_sorcery_config.so",
  "res_sorcery_memory.so",
  "res_sorcery_astdb.so",
  "res_sorcery_realtime.so",
  "res_timing_timerfd.so",
  "pbx_config.so",
  "func_uuid.so",
  "func_callerid.so", // the test callers' numbers (callerIdDialplan)
  "app_dial.so",
  "app_exec.so",
  "bridge_simple.so",
  "app_audiosocket.so",
  "chan_audiosocket.so",
  "res_audiosocket.so",
  "res_http_websocket.so",
  "res_websocket_client.so",
  "chan_websocket.so",
  "codec_ulaw.so",
  "codec_alaw.so",
  "codec_a_mu.so",
  "codec_resample.so",
  "format_wav.so",
  "format_pcm.so",
  "format_sln.so",
  // The test caller and the CLI's `channel originate`.
  "app_playback.so",
  "app_senddtmf.so",
  "app_mixmonitor.so",
  "app_record.so",
  "res_clioriginate.so",
];

/** Where TOM listens, as Asterisk must reach it. */
export interface TomEndpoints {
  /** AudioSocket `host:port` (TOM's `audiosocket.host`/`audiosocket.port`). */
  audioSocket: { host: string; port: number };
  /** TOM's HTTP listener, for `ws://host:port/ws/asterisk`. */
  http: { host: string; port: number };
}

/** The `tom` context: one extension per route. */
export function tomDialplan(tom: TomEndpoints): string {
  const as = hostPort(tom.audioSocket);
  return [
    "[tom]",
    "; Calls into TOM. Send a call here with Goto(tom,audiosocket,1) (or another route) after it arrives.",
    "; AudioSocket does not answer by itself: Answer() first.",
    // Fail-open (checked on Asterisk 22 by tests/e2e/asterisk_failopen_test.ts): what TOM cannot take goes
    // to `tom-fallback`; a call TOM ended with its goodbye hangs up.
    `exten => ${ROUTES.audiosocket},1,Answer()`,
    ` same => n,TryExec(AudioSocket(\${UUID()},${as}))`,
    ` same => n,GotoIf($["\${TRYSTATUS}" != "SUCCESS"]?${FALLBACK_CONTEXT},s,1)`,
    " same => n,Hangup()",
    `exten => ${ROUTES.audiosocket16},1,Answer()`,
    ` same => n,Dial(AudioSocket/${as}/\${UUID()}/c(slin16),,g)`,
    ` same => n,GotoIf($["\${DIALSTATUS}" != "ANSWER" | 0\${ANSWEREDTIME_MS} < ${FALLBACK_UNDER_MS}]?${FALLBACK_CONTEXT},s,1)`,
    " same => n,Hangup()",
    "; chan_websocket connects to the websocket_client.conf entry [tom].",
    `exten => ${ROUTES.websocket},1,Answer()`,
    " same => n,Dial(WebSocket/tom/c(ulaw))",
    ` same => n,Goto(${FALLBACK_CONTEXT},s,1)`,
    `exten => ${ROUTES.websocket16},1,Answer()`,
    " same => n,Dial(WebSocket/tom/c(slin16)f(json)n)",
    ` same => n,Goto(${FALLBACK_CONTEXT},s,1)`,
    "; The way back from tom-transfer (TOM_RETURN: the id TOM set on the caller's channel before the Redirect).",
    `exten => ${RETURN_EXTEN},1,TryExec(AudioSocket(\${TOM_RETURN},${as}))`,
    ` same => n,GotoIf($["\${TRYSTATUS}" != "SUCCESS"]?${FALLBACK_CONTEXT},s,1)`,
    " same => n,Hangup()",
    "",
  ].join("\n");
}

/**
 * The `tom-warm` context, as infra/deploy/asterisk/extensions.conf ships it: the staff leg TOM originated
 * (ami_warm.ts) connects to TOM's AudioSocket with its warm id, hears the briefing, and then pulls the
 * caller into a bridge with itself. A leg TOM could not brief (TOM full or down) still gets the caller.
 */
export function warmDialplan(tom: TomEndpoints): string {
  return [
    `[${WARM_CONTEXT}]`,
    `exten => s,1,TryExec(AudioSocket(\${TOM_WARM_ID},${hostPort(tom.audioSocket)}))`,
    " same => n,Bridge(${TOM_CALLER_CHANNEL})",
    " same => n,Hangup()",
    "",
  ].join("\n");
}

/** `websocket_client.conf`: the connection chan_websocket opens per call. */
export function websocketClientConf(tom: TomEndpoints): string {
  return [
    "[tom]",
    "type = websocket_client",
    "connection_type = per_call_config",
    `uri = ws://${hostPort(tom.http)}/ws/asterisk`,
    "protocols = media",
    "connection_timeout = 2000",
    "reconnect_interval = 500",
    "reconnect_attempts = 2",
    "",
  ].join("\n");
}

/** What the test caller does. */
export interface CallerScript {
  /** Directory (inside the chroot) for the recordings `<key>-heard.wav` and `<key>-said.wav`. */
  spoolDir: string;
  /**
   * Sound file (inside the chroot, without extension) the caller plays: silence while TOM greets, the
   * test tone, silence while TOM echoes it. One file, not `Wait()`: a caller that sends no frames while
   * it waits makes MixMonitor drop what it hears (its two directions get out of step), and real phones
   * send frames all the time.
   */
  sound: string;
  /** DTMF sent at the end (default "12#": the echo answerer hangs up on #). */
  digits?: string;
  /**
   * Sound file (inside the chroot, without extension) of 1 s of silence. With it, the caller does not send
   * `digits` after its sound: it plays this silence, once a second, until the test cues the keys for its
   * call key (`AsteriskInstance.cue`, the global variable `TOM_CUE_<key>`), sends them, and goes on playing
   * silence until the call ends or the test cues other keys (each wait at most {@linkcode CUE_LIMIT_S}
   * seconds). For a caller that keys something in when TOM asks for it, however long TOM takes to ask.
   */
  cuePause?: string;
  /**
   * With `cuePause`: a sound file (inside the chroot, without extension) played once after each cued keys,
   * e.g. the caller's sound again: a caller who says something after keying (the identity check).
   */
  afterKeys?: string;
  /**
   * MixMonitor options besides r() and t() (default "n"). Without `n` MixMonitor keeps the heard and said
   * files in step by inserting silence whenever a frame comes late, which lengthens and splits what TOM
   * sent whenever the box is busy; with it, the heard file is exactly the frames the caller received.
   */
  mixMonitorOptions?: string;
}

/** The file (`<key><suffix>` in the spool directory) MixMonitor's post-process creates once a call's recordings are closed. */
export const CLOSED_SUFFIX = ".closed";

/** How many seconds a cued caller waits for its cue, and then for the end of the call. */
export const CUE_LIMIT_S = 240;

/**
 * The `tom-caller` context: a caller that records what it hears (`r()`) and says (`t()`), plays its
 * sound (silence, tone, silence), sends DTMF (at once, or when cued). The extension is the call's key.
 */
export function callerDialplan(s: CallerScript): string {
  const file = (suffix: string) => `${s.spoolDir}/\${EXTEN}${suffix}.wav`;
  const keys = s.cuePause === undefined
    ? [` same => n,SendDTMF(${s.digits ?? "12#"})`, " same => n,Wait(2)"]
    : [
      // Set(), GotoIf() and $[...] are built into Asterisk; a global variable is read when the channel has none.
      // `sent`: the keys of the last cue; a new cue (other keys) is sent too.
      " same => n,Set(waited=0)",
      ` same => n(cue),GotoIf($["\${TOM_CUE_\${EXTEN}}" != "\${sent}"]?keys)`,
      " same => n,Set(waited=$[${waited} + 1])",
      ` same => n,GotoIf($[\${waited} > ${CUE_LIMIT_S}]?end)`,
      ` same => n,Playback(${s.cuePause})`,
      " same => n,Goto(cue)",
      " same => n(keys),Set(sent=${TOM_CUE_${EXTEN}})",
      " same => n,SendDTMF(${sent})",
      ...(s.afterKeys === undefined ? [] : [` same => n,Playback(${s.afterKeys})`]),
      " same => n,Set(waited=0)",
      " same => n,Goto(cue)",
    ];
  return [
    "[tom-caller]",
    "exten => _X.,1,Answer()",
    // The third argument runs once MixMonitor has closed the files (app_mixmonitor.c: after the file
    // streams are closed): until then up to 32 KiB of what was recorded sits in Asterisk's write buffer.
    ` same => n,MixMonitor(${file("-mix")},${s.mixMonitorOptions ?? "n"}r(${file("-heard")})t(${
      file("-said")
    }),/bin/touch ${s.spoolDir}/\${EXTEN}${CLOSED_SUFFIX})`,
    ` same => n,Playback(${s.sound})`,
    ...keys,
    ` same => n${s.cuePause === undefined ? "" : "(end)"},Hangup()`,
    "",
    ...callerIdDialplan(),
  ].join("\n");
}

/** The context of test calls that present a caller number (`AsteriskInstance.originate(..., number)`). */
export const CALLER_ID_CONTEXT = "tom-cid";

/**
 * Test callers are Local channels without a caller number. `Local/<route>*<number>@tom-cid` sets the number
 * (CALLERID(num), func_callerid) on the channel that goes on to TOM's route in `[tom]`, which stays as
 * shipped: `${EXTEN:n}` is core substring syntax, Goto keeps the same channel.
 */
function callerIdDialplan(): string[] {
  return [
    `[${CALLER_ID_CONTEXT}]`,
    ...Object.values(ROUTES).flatMap((r) => [
      `exten => _${r}*X.,1,Set(CALLERID(num)=\${EXTEN:${r.length + 1}})`,
      ` same => n,Goto(tom,${r},1)`,
    ]),
    "",
  ];
}

/** A manager.conf user for TOM's transfers (AMI, loopback only). */
export interface ManagerUser {
  port: number;
  user: string;
  secret: string;
}

/**
 * `manager.conf`: AMI on loopback only, one user that may do what TOM's transfers need and nothing else
 * (`Status`, `Getvar`, `Setvar`, `Redirect`, `Hangup` and the call events: `read = call`, `write = call`; a warm
 * transfer's `Originate`: `write = originate`). The shipped
 * infra/deploy/asterisk/manager.conf holds the same lines.
 */
export function managerConf(m: ManagerUser): string {
  return [
    "[general]",
    "enabled = yes",
    `port = ${m.port}`,
    "bindaddr = 127.0.0.1",
    "displayconnects = no",
    "",
    `[${m.user}]`,
    `secret = ${m.secret}`,
    "deny = 0.0.0.0/0.0.0.0",
    "permit = 127.0.0.1/255.255.255.255",
    "read = call",
    "write = call,originate",
    "",
  ].join("\n");
}

/** The test's transfer targets, as extensions of `tom-phones` (what `tom-transfer` dials). */
export const TEST_PHONES = {
  /** Answers, plays `<sounds>/target` (the target's tone), hangs up. */
  answers: "21",
  /** Busy(). */
  busy: "22",
  /** Rings and never answers (the Dial in `tom-transfer` gives up after {@linkcode TEST_DIAL_S}). */
  noAnswer: "23",
  /** Congestion(). */
  unreachable: "24",
  /**
   * A staff member for warm transfers: answers, records what it hears (`<spool>/staff-heard.wav`), plays the
   * target's tone over and over (about 10 s) and hangs up.
   */
  staff: "25",
} as const;

/** Seconds the test `tom-transfer` rings a target. */
export const TEST_DIAL_S = 4;

/**
 * The transfer context AMI `Redirect` sends a caller to (`asterisk.transferContext`) and the fallback
 * context of calls TOM could not take: the shipped ones dial the practice's phones; these dial the test
 * phones (`tom-phones`) as Local channels.
 */
export function transferDialplan(sounds: string, spool = "/tmp"): string {
  return [
    "[tom-transfer]",
    `exten => _X.,1,Dial(Local/\${EXTEN}@tom-phones,${TEST_DIAL_S})`,
    // A warm transfer's leg (TOM_WARM_ID) whose Dial() failed ends here: the caller is still with TOM.
    // With the dial's cause (HANGUPCAUSE: 19 no answer, 17 busy, 34 congestion), which TOM reads from Hangup.
    ' same => n,ExecIf($["${TOM_WARM_ID}" != ""]?Hangup(${HANGUPCAUSE}))',
    ` same => n,GotoIf($["\${TOM_RETURN}" != ""]?tom,${RETURN_EXTEN},1)`,
    " same => n,Hangup()",
    "",
    `[${FALLBACK_CONTEXT}]`,
    `exten => s,1,Dial(Local/${FALLBACK_PHONE}@tom-phones,${TEST_DIAL_S})`,
    " same => n,Hangup()",
    "",
    "[tom-phones]",
    `exten => ${TEST_PHONES.answers},1,Answer()`,
    ` same => n,Playback(${sounds}/target)`,
    " same => n,Hangup()",
    `exten => ${TEST_PHONES.busy},1,Busy(10)`,
    `exten => ${TEST_PHONES.noAnswer},1,Ringing()`,
    " same => n,Wait(30)",
    `exten => ${TEST_PHONES.unreachable},1,Congestion(10)`,
    `exten => ${TEST_PHONES.staff},1,Answer()`,
    ` same => n,MixMonitor(${spool}/staff-heard.wav,r(${spool}/staff-heard-r.wav),/bin/touch ${spool}/staff${CLOSED_SUFFIX})`,
    " same => n,Set(i=0)",
    ` same => n(tone),Playback(${sounds}/target)`,
    " same => n,Set(i=$[${i} + 1])",
    " same => n,GotoIf($[${i} < 5]?tone)",
    " same => n,Hangup()",
    "",
  ].join("\n");
}

/** Paths of one Asterisk instance inside the chroot. */
export interface InstancePaths {
  etc: string;
  run: string;
  log: string;
  spool: string;
  sounds: string;
}

/** The instance's directories inside the chroot (separate per instance, so several can run at once). */
export function instancePaths(name: string): InstancePaths {
  return {
    etc: `/etc/tom-asterisk/${name}`,
    run: `/run/tom-asterisk/${name}`,
    log: `/var/log/asterisk/tom-${name}`,
    spool: `/var/spool/asterisk/tom-${name}`,
    sounds: `/var/lib/asterisk/tom-${name}`,
  };
}

/** Options of {@linkcode asteriskConfigFiles}. */
export interface InstanceConfig extends TomEndpoints {
  /** Instance name (letters, digits, `-`). */
  name: string;
  /** The modules directory inside the chroot (see `findModuleDir`). */
  moduleDir: string;
  /** The test caller's script (default: sound `<sounds>/caller`, recordings in `<spool>`). */
  caller?: Partial<CallerScript>;
  /** Enable AMI with this user (default: no manager.conf, AMI off). */
  manager?: ManagerUser;
}

/**
 * Every configuration file of one instance, by file name (written to `instancePaths(name).etc`).
 *
 * @throws {RangeError} on an instance name that is not a plain word
 */
export function asteriskConfigFiles(c: InstanceConfig): Record<string, string> {
  if (!/^[A-Za-z0-9-]{1,40}$/.test(c.name)) {
    throw new RangeError(`Cannot name an instance ${JSON.stringify(c.name)}`);
  }
  const p = instancePaths(c.name);
  return {
    "asterisk.conf": [
      "[directories]",
      `astetcdir => ${p.etc}`,
      `astmoddir => ${c.moduleDir}`,
      "astvarlibdir => /var/lib/asterisk",
      `astdbdir => ${p.run}`,
      "astkeydir => /var/lib/asterisk",
      "astdatadir => /usr/share/asterisk",
      "astagidir => /usr/share/asterisk/agi-bin",
      "astspooldir => /var/spool/asterisk",
      `astrundir => ${p.run}`,
      `astlogdir => ${p.log}`,
      "astsbindir => /usr/sbin",
      "",
      "[options]",
      "nocolor = yes",
      "",
    ].join("\n"),
    "modules.conf": ["[modules]", "autoload = no", ...MODULES.map((m) => `load = ${m}`), ""].join("\n"),
    "logger.conf": [
      "[general]",
      "[logfiles]",
      "console => notice,warning,error",
      "messages.log => notice,warning,error,verbose(3)",
      "",
    ].join("\n"),
    "extensions.conf": [
      "[general]",
      "static = yes",
      "writeprotect = yes",
      "",
      tomDialplan(c),
      callerDialplan({ spoolDir: p.spool, sound: `${p.sounds}/caller`, ...c.caller }),
      warmDialplan(c),
      transferDialplan(p.sounds, p.spool),
    ].join("\n"),
    ...(c.manager ? { "manager.conf": managerConf(c.manager) } : {}),
    "websocket_client.conf": websocketClientConf(c),
    "chan_websocket.conf": ["[global]", "control_message_format = plain-text", ""].join("\n"),
    "http.conf": ["[general]", "enabled = no", ""].join("\n"),
  };
}

function hostPort(a: { host: string; port: number }): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
