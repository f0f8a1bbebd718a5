/**
 * `tom`: the command line of the TOM appliance. It parses the arguments and the configuration and hands each
 * subcommand to app/ (app/serve.ts for `tom serve`, app/commands/ for the rest), loaded lazily so a small
 * command does not load the appliance. The wiring itself lives in app/.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Config, CONFIG_KEYS, ConfigError, envName, loadConfig, VERSION } from "./infra/mod.ts";

/** Exit codes. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

interface Command {
  summary: string;
  usage: string;
  details: string;
  options: OptionSpec;
  /** Positional arguments allowed after the command (subcommands). */
  positionals?: boolean;
  run(
    values: Record<string, string | boolean | undefined>,
    config: Config,
    positionals: string[],
  ): Promise<number>;
}

const COMMON: OptionSpec = { config: { type: "string" }, help: { type: "boolean", short: "h" } };

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: "Run the appliance: HTTP API, gateways, engines (default)",
    usage: "tom serve [--config FILE]",
    details: "Starts the configured engines, applies pending migrations and serves HTTP on TOM_HTTP_HOST:" +
      "TOM_HTTP_PORT\n(default 127.0.0.1:8080): /healthz, /readyz, /metrics. SIGTERM or SIGINT drains calls, " +
      "stops the engines\nand closes the database.",
    options: {},
    async run(_v, config) {
      const { serve } = await import("./app/serve.ts");
      return await serve(config);
    },
  },
  migrate: {
    summary: "Apply pending database migrations",
    usage: "tom migrate [--config FILE] [--status]",
    details: "Applies every pending migration, each in one transaction. Running it again applies nothing.\n" +
      "--status only shows the current and pending versions.",
    options: { status: { type: "boolean" } },
    async run(v, config) {
      const { migrateMain } = await import("./app/commands/migrate.ts");
      return await migrateMain(config, { statusOnly: v.status === true });
    },
  },
  doctor: {
    summary: "Check hardware, engines and models; exit 0 when the profile's gate passes",
    usage: "tom doctor [--config FILE] [--json]",
    details: "Reports CPU, RAM, disk, GPU/VRAM and each engine (found, healthy, model present), and the\n" +
      "readiness gates realtime-ready, single-agent-ready and cpu-dev. Exit 0 when the gate of TOM_PROFILE " +
      "passes,\n1 otherwise.",
    options: { json: { type: "boolean" } },
    async run(v, config) {
      const { doctorMain } = await import("./app/commands/doctor.ts");
      return await doctorMain(config, { json: v.json === true });
    },
  },
  probe: {
    summary: "Place synthetic calls and measure every stage and the voice-to-voice latency",
    usage:
      "tom probe [--json] [--turns N] [--calls C] [--stagger MS] [--url URL] [--out FILE] [--audiosocket] " +
      "[--budget-p50 MS] [--budget-p95 MS]",
    details:
      "Calls a running TOM (default http://TOM_HTTP_HOST:TOM_HTTP_PORT) through the browser protocol,\n" +
      "speaks German utterances synthesized with espeak-ng, measures every stage and the voice-to-voice\n" +
      "latency (caller's last sample to TOM's first sample), prints p50/p95 and exits 1 when a budget is\n" +
      "missed (defaults 600 ms p50, 900 ms p95). --json prints the report as JSON; --out writes it to FILE.\n" +
      "--calls C --stagger MS: C calls arriving spread evenly over MS ms (a real line); the capacity\n" +
      "bench (tests/bench/capacity_bench.ts) finds how many calls keep p95 within budget (TOM_MAX_CALLS).",
    options: {
      json: { type: "boolean" },
      turns: { type: "string" },
      calls: { type: "string" },
      stagger: { type: "string" },
      url: { type: "string" },
      out: { type: "string" },
      "budget-p50": { type: "string" },
      "budget-p95": { type: "string" },
      "answer-timeout": { type: "string" },
      audiosocket: { type: "boolean" },
    },
    async run(v, config) {
      const { probeMain } = await import("./app/commands/probe.ts");
      return await probeMain(config, {
        json: v.json === true,
        turns: v.turns as string | undefined,
        calls: v.calls as string | undefined,
        stagger: v.stagger as string | undefined,
        url: v.url as string | undefined,
        out: v.out as string | undefined,
        budgetP50: v["budget-p50"] as string | undefined,
        budgetP95: v["budget-p95"] as string | undefined,
        answerTimeout: v["answer-timeout"] as string | undefined,
        audiosocket: v.audiosocket === true,
      });
    },
  },
  rl: {
    summary: "The learning loop: `tom rl report` shows each policy variant's pulls, reward and guard state",
    usage: "tom rl report [--json] [--config FILE]",
    details: "Per variant and context: pulls, mean reward, 95% credible interval, traffic share and guard\n" +
      "state (new, uncertain, established, blacklisted).",
    options: { json: { type: "boolean" } },
    positionals: true,
    async run(v, config, positionals) {
      if (positionals.length !== 1 || positionals[0] !== "report") {
        console.error("tom rl: expected the subcommand report\n\nUsage: tom rl report [--json]");
        return EXIT.usage;
      }
      const { rlReportMain } = await import("./app/commands/rl.ts");
      return await rlReportMain(config, { json: v.json === true });
    },
  },
  qc: {
    summary: "Check a WAV file's audio quality (a call recording): level, clipping, DC offset, SNR",
    usage: "tom qc FILE.wav [--json]",
    details: "Per channel (recordings: left = caller, right = TOM): RMS, clipping ratio, DC offset and an\n" +
      "SNR estimate, against RMS 300-9000, clipping < 0.1 %, |DC offset| < 200, SNR > 20 dB. Exit 0 when\n" +
      "every check passes, 1 when one fails (named in the output), 2 when the file cannot be read as WAV.",
    options: { json: { type: "boolean" } },
    positionals: true,
    async run(v, _config, positionals) {
      if (positionals.length !== 1) {
        console.error("tom qc: expected one WAV file\n\nUsage: tom qc FILE.wav [--json]");
        return EXIT.usage;
      }
      const { qcMain } = await import("./app/commands/qc.ts");
      return await qcMain({ file: positionals[0], json: v.json === true });
    },
  },
  token: {
    summary: "Mint a gateway JWT for one call",
    usage: "tom token --call-id ID [--ttl SECONDS] [--sub SUBJECT] [--config FILE]",
    details: "Prints a JWT for WS /ws/stream/ID signed with the appliance's key (HS256 by default).\n" +
      "--ttl is 1..3600 seconds (default 300). For RS256/ES256/EdDSA pass --private-key FILE.pem --alg ALG.",
    options: {
      "call-id": { type: "string" },
      ttl: { type: "string" },
      sub: { type: "string" },
      "private-key": { type: "string" },
      alg: { type: "string" },
    },
    async run(v, config) {
      const { tokenMain } = await import("./app/commands/token.ts");
      return await tokenMain(config, {
        callId: v["call-id"] as string | undefined,
        ttl: v.ttl as string | undefined,
        sub: v.sub as string | undefined,
        privateKeyFile: v["private-key"] as string | undefined,
        alg: v.alg as string | undefined,
      });
    },
  },
  selfcheck: {
    summary: "Ask the running appliance whether it is ready (GET /readyz): one line, exit 0 or 1",
    usage: "tom selfcheck [--url URL] [--timeout MS] [--config FILE]",
    details:
      "Asks http://TOM_HTTP_HOST:TOM_HTTP_PORT/readyz (loopback when TOM listens on all addresses) and\n" +
      "prints one line: ready, or the reasons it is not. Exit 0 when ready, 1 when not ready or unreachable.\n" +
      "Cheap enough to run every minute (tom-selfcheck.timer). --timeout is in ms (default 5000).",
    options: { url: { type: "string" }, timeout: { type: "string" } },
    async run(v, config) {
      const { selfcheckMain } = await import("./app/commands/selfcheck.ts");
      return await selfcheckMain(config, {
        url: v.url as string | undefined,
        timeout: v.timeout as string | undefined,
      });
    },
  },
  backup: {
    summary: "Back up the database and its keys while TOM runs, or verify a backup",
    usage: "tom backup --output DIR | --verify DIR [--config FILE]",
    details:
      "--output DIR writes tom.db (online snapshot), the secrets (0700/0600) and manifest.json (versions,\n" +
      "time, SHA-256 of every file) into DIR (new or empty). --verify DIR checks SHA-256s, PRAGMA integrity_check,\n" +
      "foreign keys, schema version and transcript keys. Exit 0 when done or good, 1 otherwise.",
    options: { output: { type: "string" }, verify: { type: "string" } },
    async run(v, config) {
      const { backupMain } = await import("./app/commands/backup.ts");
      return await backupMain(config, {
        output: v.output as string | undefined,
        verify: v.verify as string | undefined,
      });
    },
  },
  restore: {
    summary: "Put a verified backup in place of the database and secrets (TOM must be stopped)",
    usage: "tom restore DIR [--config FILE]",
    details:
      "Refuses while TOM runs (/healthz answers or a process has tom.db open) and when the backup fails\n" +
      "`tom backup --verify`. Replaced files are kept as *.before-restore-<time>.",
    options: {},
    positionals: true,
    async run(_v, config, positionals) {
      const { restoreMain } = await import("./app/commands/backup.ts");
      return await restoreMain(config, positionals);
    },
  },
  models: {
    summary: "Real models: list, download with checksum (resumable), verify, choose",
    usage: "tom models list [--json] | pull [NAME...|--profile P] | verify [NAME...] | use NAME",
    details:
      "list: the catalogue with what is installed and in use. pull: downloads NAME (or the profile's\n" +
      "defaults) into TOM_ENGINES_DIR/models, resuming a .part file, checking the catalogue's checksum.\n" +
      "verify: checks installed files. use: selects NAME for the empty TOM_*_MODEL setting (restart TOM).\n" +
      "TOM_MODELS_MIRROR (URL or directory) replaces the sources; TOM_MODELS_CATALOG adds a practice catalogue.",
    options: { json: { type: "boolean" }, profile: { type: "string" } },
    positionals: true,
    async run(v, config, positionals) {
      const { modelsMain } = await import("./app/commands/models.ts");
      return await modelsMain(config, positionals, {
        json: v.json === true,
        profile: v.profile as string | undefined,
        reloadConfig: () => loadConfig({ file: v.config as string | undefined }),
      });
    },
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`);
  return `TOM ${VERSION}: on-premise AI telephone assistant

Usage: tom [COMMAND] [OPTIONS]

Commands:
${lines.join("\n")}

Options:
  --config FILE   JSON configuration file (or TOM_CONFIG)
  -h, --help      Show help (also: tom COMMAND --help)
  --version       Print the version

Configuration keys (environment variables):
${wrap(CONFIG_KEYS.map(envName).join(", "), 96, "  ")}
`;
}

function wrap(text: string, width: number, indent: string): string {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if ((line + " " + word).length > width) {
      out.push(indent + line.trim());
      line = "";
    }
    line += " " + word;
  }
  if (line.trim()) out.push(indent + line.trim());
  return out.join("\n");
}

function commandHelp(name: string, c: Command): string {
  return `tom ${name}: ${c.summary}\n\nUsage: ${c.usage}\n\n${c.details}\n`;
}

/** Run the CLI with these arguments; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  if (args[0] === "--version") {
    console.log(VERSION);
    return EXIT.ok;
  }
  const first = args[0];
  const name = first === undefined || first.startsWith("-") ? "serve" : first;
  const command = COMMANDS[name];
  if (!command) {
    console.error(`tom: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  const rest = first === name ? args.slice(1) : args;
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: { ...COMMON, ...command.options },
      strict: true,
      allowPositionals: command.positionals === true,
    }));
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    console.error(`tom ${name}: ${why}\n\n${commandHelp(name, command)}`);
    return EXIT.usage;
  }
  if (values.help) {
    console.log(first === undefined || first.startsWith("-") ? usage() : commandHelp(name, command));
    return EXIT.ok;
  }
  let config: Config;
  try {
    config = loadConfig({ file: values.config as string | undefined });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`tom: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
  return await command.run(values, config, positionals);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
