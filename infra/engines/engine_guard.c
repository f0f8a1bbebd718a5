/*
 * tom-engine-guard: the only way `tom serve` may start whisper-server and llama-server (issue 15, item 4).
 *
 * Deno's --allow-run cannot restrict arguments, and both servers can reach the network or run programs on
 * their own: llama-server downloads with -mu/--model-url, -hf (HF_ENDPOINT), LLAMA_ARG_* variables, and
 * starts any program as an MCP server (--mcp-servers-json) or a tool (--tools exec_shell_command);
 * whisper-server --convert runs ffmpeg through a shell. So the served process may run this guard instead
 * (infra/permissions.ts), which:
 * - runs only `<its own directory>/llama-server` or `<its own directory>/whisper-server`, named by the first
 *   argument (never a path from the caller);
 * - passes only the options TOM builds (infra/engines/specs.ts) with checked values: a model file path
 *   (no URL), a loopback host, numbers, a language and an alias; anything else ends it with exit code 64;
 * - removes the variables the engines read as options or download endpoints (LLAMA_ARG_*, HF_*,
 *   MODEL_ENDPOINT, LLAMA_CACHE) before exec.
 * Built by `deno task engines` (infra/engines/provision.ts) with the system C compiler.
 */
#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

enum value { NONE, PATH, HOST, NUMBER, WORD, LAYERS };
struct option { const char *name; enum value value; };

static const struct option LLAMA[] = {
  {"-m", PATH}, {"--host", HOST}, {"--port", NUMBER}, {"-t", NUMBER}, {"-c", NUMBER},
  {"--alias", WORD}, {"--jinja", NONE}, {"--parallel", NUMBER},
  {"-ngl", LAYERS}, {"-lv", NUMBER}, {NULL, NONE},
};
static const struct option WHISPER[] = {
  {"-m", PATH}, {"--host", HOST}, {"--port", NUMBER}, {"-l", WORD}, {"-t", NUMBER},
  {"-ng", NONE}, {NULL, NONE},
};

static int refuse(const char *why, const char *what) {
  fprintf(stderr, "tom-engine-guard: refused: %s: %s\n", why, what);
  return 64;
}

static int valid(enum value v, const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 4096 || s[0] == '-') return 0;
  switch (v) {
    case PATH: /* a file, never a URL (a model download) */
      return strstr(s, "://") == NULL;
    case HOST:
      return strcmp(s, "127.0.0.1") == 0 || strcmp(s, "::1") == 0 || strcmp(s, "localhost") == 0 ||
             strncmp(s, "127.", 4) == 0;
    case NUMBER:
      for (size_t i = 0; i < n; i++) if (!isdigit((unsigned char)s[i])) return 0;
      return n <= 9;
    case LAYERS: /* GPU layers: a number, auto or all */
      if (strcmp(s, "auto") == 0 || strcmp(s, "all") == 0) return 1;
      for (size_t i = 0; i < n; i++) if (!isdigit((unsigned char)s[i])) return 0;
      return n <= 3;
    case WORD: /* an alias or a language: printable, no URL */
      for (size_t i = 0; i < n; i++) if (!isprint((unsigned char)s[i])) return 0;
      return strstr(s, "://") == NULL;
    default:
      return 1;
  }
}

static int dangerous(const char *entry) {
  return strncmp(entry, "LLAMA_ARG_", 10) == 0 || strncmp(entry, "HF_", 3) == 0 ||
         strncmp(entry, "MODEL_ENDPOINT=", 15) == 0 || strncmp(entry, "LLAMA_CACHE=", 12) == 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return refuse("usage", "tom-engine-guard llama-server|whisper-server OPTIONS");
  const struct option *allowed;
  if (strcmp(argv[1], "llama-server") == 0) allowed = LLAMA;
  else if (strcmp(argv[1], "whisper-server") == 0) allowed = WHISPER;
  else return refuse("not an engine this guard starts", argv[1]);
  for (int i = 2; i < argc; i++) {
    const struct option *o = allowed;
    while (o->name && strcmp(o->name, argv[i]) != 0) o++;
    if (!o->name) return refuse("option not built by TOM", argv[i]);
    if (o->value == NONE) continue;
    if (i + 1 >= argc) return refuse("option without a value", argv[i]);
    if (!valid(o->value, argv[i + 1])) return refuse("value not allowed", argv[i + 1]);
    i++;
  }
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return refuse("cannot find its own directory", "/proc/self/exe");
  self[len] = '\0';
  char program[PATH_MAX];
  if (snprintf(program, sizeof program, "%s/%s", dirname(self), argv[1]) >= (int)sizeof program) {
    return refuse("path too long", argv[1]);
  }
  size_t kept = 0;
  for (char **e = environ; *e; e++) if (!dangerous(*e)) environ[kept++] = *e;
  environ[kept] = NULL;
  argv[1] = program;
  execv(program, argv + 1);
  perror("tom-engine-guard: exec");
  return 127;
}
