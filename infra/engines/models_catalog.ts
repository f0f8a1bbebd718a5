/**
 * The model catalogue: which real models a practice can install for German telephone use, per profile,
 * with each file's source (pinned to an immutable revision where one is known), size, checksum, licence
 * and memory need. `tom models` (app/commands/models.ts) lists, pulls, verifies and selects them.
 *
 * The schema is open for what a later step adds: an entry of kind `tts-runtime` (the Piper release, one
 * entry per `arch`, unpacked into the engines directory: `unpack`) and `build` facts per entry. A practice's
 * own catalogue (`TOM_MODELS_CATALOG`, same schema) replaces entries of the same name and adds new ones.
 *
 * Checksums: every file of the built-in catalogue carries one; `tom models pull` refuses a file without.
 * - whisper.cpp ggml models: the SHA-1 table of whisper.cpp's own `models/README.md` (whisper.cpp 1.9.1, the
 *   tree provisioning unpacks); files at Hugging Face revision 5359861c739e955e79d9a303bcbc70fb988958b1.
 * - The LLM GGUFs and the Piper voice (Hugging Face LFS files) and the Piper release archives (GitHub
 *   assets): the hub's tree API and GitHub could not be reached from the network this catalogue was written
 *   on. Their SHA-256 and exact sizes are the values that several independent projects pin for the same
 *   file at the same revision (for each file at least three that agree on hash and size; a practice that
 *   can reach the hub can compare with `lfs.oid` of its tree API). Whatever the source, the checksum
 *   decides: a file that differs is deleted and the pull fails (model_pull.ts).
 *
 * The LLMs (both Apache-2.0: no user cap and no acceptable-use clause to pass on, unlike Llama 3.1's
 * community licence; both call tools through the Hermes-style `<tool_call>` JSON of their chat template that
 * llama-server's `--jinja` parses into OpenAI `tool_calls`; Qwen3's model cards list German among their 119
 * languages; neither is yet measured with TOM's own German dialogues, which needs the real weights):
 * - Qwen3-8B (Qwen's own GGUF, Q4_K_M, 4.7 GiB) for the GPU profiles: the stronger German of the two. It is a
 *   hybrid "thinking" model; TOM turns thinking off on every request (`enable_thinking: false`, llm.ts),
 *   since a caller cannot wait for a reasoning trace. VRAM: 4.7 GiB weights + 576 MiB KV cache per 4096-token
 *   slot (36 layers x 8 KV heads x 128 x 2 x f16) + compute buffers: about 5.7 GiB with one slot, so it fits
 *   the single-agent profile's 8 GiB next to whisper large-v3-turbo-q5_0 (about 0.9 GB).
 * - Qwen3-4B-Instruct-2507 (Q4_K_M, 2.3 GiB) for cpu-dev and small GPUs: non-thinking by design, half the
 *   weights, so about twice the tokens per second on a CPU (memory bandwidth bound).
 * Qwen2.5-7B-Instruct (the earlier choice) has no checksum from any source at hand and left the catalogue.
 *
 * @module
 */
import { basename } from "node:path";
import { z } from "zod";

/** The profiles (TOM_PROFILE). */
export const PROFILES = ["realtime", "single-agent", "cpu-dev"] as const;
/** A profile name. */
export type Profile = typeof PROFILES[number];

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`), `expected ${n} hex digits`);

/** An expected checksum of one file. */
export const ChecksumSchema = z.discriminatedUnion("algorithm", [
  z.object({ algorithm: z.literal("sha1"), value: hex(40) }),
  z.object({ algorithm: z.literal("sha256"), value: hex(64) }),
]);
/** An expected checksum. */
export type Checksum = z.infer<typeof ChecksumSchema>;

/** A file name inside the models (or engines) directory: no directories, no dot files. */
const fileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, "expected a plain file name");

/** One file of an entry. */
export const ModelFileSchema = z.object({
  /** Name under `<enginesDir>/models` (and under a mirror). */
  file: fileName,
  /** Where it comes from, pinned to an immutable revision where `revision` is set. */
  url: z.url({ protocol: /^https?$/ }),
  /** The revision (commit) the URL is pinned to; null: the source has no pinned revision (see checksum). */
  revision: z.string().min(1).nullable(),
  /** Size in bytes (the free-disk check and the progress bar; the checksum decides). */
  bytes: z.number().int().positive(),
  /** True when `bytes` is an estimate (no primary source for the exact size was at hand). */
  bytesApprox: z.boolean().optional(),
  /** Expected checksum; null: unknown here, `pull` refuses the file. */
  checksum: ChecksumSchema.nullable(),
  /** Where the checksum (or the lack of one) comes from. */
  checksumSource: z.string().min(1),
});
/** One file of an entry. */
export type ModelFile = z.infer<typeof ModelFileSchema>;

/** One catalogue entry: a model (or, later, a runtime) with its files. */
export const ModelEntrySchema = z.object({
  /** What `tom models pull NAME` takes. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,79}$/, "expected a lower-case name"),
  /** The role: speech to text, language model, voice; `tts-runtime` is the Piper program (per arch). */
  kind: z.enum(["stt", "llm", "tts", "tts-runtime"]),
  title: z.string().min(1),
  licence: z.string().min(1),
  /** Memory the loaded model needs (MiB), on the CPU and on the GPU. */
  ramMiB: z.number().int().nonnegative(),
  vramMiB: z.number().int().nonnegative(),
  /** Only for this CPU architecture (runtimes); absent: any. */
  arch: z.enum(["x86_64", "aarch64"]).optional(),
  /** Unpack the first file into the engines directory (runtimes); absent: keep as is. */
  unpack: z.enum(["tar.gz"]).optional(),
  /** Engine build facts (GPU builds) a later step fills in; free-form, not interpreted here. */
  build: z.record(z.string(), z.string()).optional(),
  notes: z.string().optional(),
  files: z.array(ModelFileSchema).min(1),
});
/** One catalogue entry. */
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

/** A catalogue: entries and each profile's default set (entry names). */
export const CatalogueSchema = z.object({
  version: z.literal(1),
  entries: z.array(ModelEntrySchema),
  profiles: z.partialRecord(z.enum(PROFILES), z.array(z.string())).default({}),
});
/** A catalogue. */
export type Catalogue = z.infer<typeof CatalogueSchema>;

/** The Hugging Face revision of ggerganov/whisper.cpp whose files the SHA-1s below describe. */
const WHISPER_REV = "5359861c739e955e79d9a303bcbc70fb988958b1";
const WHISPER_SHA_SOURCE = "whisper.cpp 1.9.1 models/README.md (SHA-1 table)";

function whisperFile(file: string, bytes: number, sha1: string): ModelFile {
  return {
    file,
    url: `https://huggingface.co/ggerganov/whisper.cpp/resolve/${WHISPER_REV}/${file}`,
    revision: WHISPER_REV,
    bytes,
    checksum: { algorithm: "sha1", value: sha1 },
    checksumSource: WHISPER_SHA_SOURCE,
  };
}

/** Where the SHA-256 of a hub or release file comes from (see the module comment). */
const PINNED_ELSEWHERE =
  "SHA-256 and size as pinned for this file at this revision by independent projects " +
  "(at least three agreeing; the hub's own metadata was not reachable when this catalogue was written)";

/** The catalogue shipped with TOM. */
export const BUILTIN_CATALOGUE: Catalogue = {
  version: 1,
  entries: [
    {
      name: "whisper-large-v3-turbo-q5_0",
      kind: "stt",
      title: "Whisper large-v3-turbo (q5_0), mehrsprachig",
      licence: "MIT",
      ramMiB: 1000,
      vramMiB: 900,
      notes: "GPU profiles: the best German accuracy per second of the whisper family",
      files: [
        whisperFile("ggml-large-v3-turbo-q5_0.bin", 574_041_195, "e050f7970618a659205450ad97eb95a18d69c9ee"),
      ],
    },
    {
      name: "whisper-small",
      kind: "stt",
      title: "Whisper small, mehrsprachig",
      licence: "MIT",
      ramMiB: 850,
      vramMiB: 0,
      notes: "CPU: usable German at about real time on 4 cores",
      files: [whisperFile("ggml-small.bin", 487_601_967, "55356645c2b361a969dfd0ef2c5a50d530afd8d5")],
    },
    {
      name: "whisper-base",
      kind: "stt",
      title: "Whisper base, mehrsprachig",
      licence: "MIT",
      ramMiB: 390,
      vramMiB: 0,
      notes: "CPU: fast, weaker German; for small boxes and development",
      files: [whisperFile("ggml-base.bin", 147_951_465, "465707469ff3a37a2b9b8d8f89f2f99de7299dac")],
    },
    {
      name: "qwen3-8b-q4_k_m",
      kind: "llm",
      title: "Qwen3-8B (GGUF Q4_K_M), Denken abgeschaltet",
      licence: "Apache-2.0",
      ramMiB: 6200,
      vramMiB: 5700,
      notes:
        "GPU profiles: German, tool calling via --jinja; VRAM with one 4096-token slot, +576 MiB per slot",
      files: [{
        file: "Qwen3-8B-Q4_K_M.gguf",
        url:
          "https://huggingface.co/Qwen/Qwen3-8B-GGUF/resolve/7c41481f57cb95916b40956ab2f0b139b296d974/Qwen3-8B-Q4_K_M.gguf",
        revision: "7c41481f57cb95916b40956ab2f0b139b296d974",
        bytes: 5_027_783_488,
        checksum: {
          algorithm: "sha256",
          value: "d98cdcbd03e17ce47681435b5150e34c1417f50b5c0019dd560e4882c5745785",
        },
        checksumSource: PINNED_ELSEWHERE,
      }],
    },
    {
      name: "qwen3-4b-instruct-2507-q4_k_m",
      kind: "llm",
      title: "Qwen3-4B-Instruct-2507 (GGUF Q4_K_M)",
      licence: "Apache-2.0",
      ramMiB: 3600,
      vramMiB: 3300,
      notes:
        "CPU and small GPUs: non-thinking, twice as fast as the 8B; VRAM with one 4096-token slot, +576 MiB per slot",
      files: [{
        file: "Qwen3-4B-Instruct-2507-Q4_K_M.gguf",
        url:
          "https://huggingface.co/unsloth/Qwen3-4B-Instruct-2507-GGUF/resolve/a06e946bb6b655725eafa393f4a9745d460374c9/Qwen3-4B-Instruct-2507-Q4_K_M.gguf",
        revision: "a06e946bb6b655725eafa393f4a9745d460374c9",
        bytes: 2_497_281_120,
        checksum: {
          algorithm: "sha256",
          value: "3605803b982cb64aead44f6c1b2ae36e3acdb41d8e46c8a94c6533bc4c67e597",
        },
        checksumSource: PINNED_ELSEWHERE,
      }],
    },
    {
      name: "piper-de-thorsten-medium",
      kind: "tts",
      title: "Piper-Stimme Thorsten (Deutsch, medium)",
      licence: "CC0-1.0 (Thorsten-Voice dataset; MODEL_CARD beside the voice at the source)",
      ramMiB: 200,
      vramMiB: 0,
      files: [
        {
          file: "de_DE-thorsten-medium.onnx",
          url:
            "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/de/de_DE/thorsten/medium/de_DE-thorsten-medium.onnx",
          revision: "v1.0.0 (tag)",
          bytes: 63_201_294,
          checksum: {
            algorithm: "sha256",
            value: "7e64762d8e5118bb578f2eea6207e1a35a8e0c30595010b666f983fc87bb7819",
          },
          checksumSource: PINNED_ELSEWHERE,
        },
        {
          file: "de_DE-thorsten-medium.onnx.json",
          url:
            "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/de/de_DE/thorsten/medium/de_DE-thorsten-medium.onnx.json",
          revision: "v1.0.0 (tag)",
          bytes: 4_819,
          checksum: {
            algorithm: "sha256",
            value: "974adee790533adb273a1ac88f49027d2a1b8f0f2cf4905954a4791e79264e85",
          },
          checksumSource: PINNED_ELSEWHERE,
        },
      ],
    },
    ...(["x86_64", "aarch64"] as const).map((arch): ModelEntry => ({
      name: `piper-linux-${arch}`,
      kind: "tts-runtime",
      title: `Piper 2023.11.14-2 (Programm, Linux ${arch})`,
      licence: "MIT (Piper); bundles espeak-ng (GPL-3.0) and onnxruntime (MIT)",
      ramMiB: 100,
      vramMiB: 0,
      arch,
      unpack: "tar.gz",
      notes: "unpacked into <enginesDir>/runtimes/; TOM_TTS_KIND=piper uses it, espeak-ng stays the fallback",
      files: [{
        file: `piper_linux_${arch}.tar.gz`,
        url: `https://github.com/rhasspy/piper/releases/download/2023.11.14-2/piper_linux_${arch}.tar.gz`,
        revision: "2023.11.14-2 (release tag)",
        bytes: arch === "x86_64" ? 26_460_462 : 26_004_717,
        checksum: {
          algorithm: "sha256",
          value: arch === "x86_64"
            ? "a50cb45f355b7af1f6d758c1b360717877ba0a398cc8cbe6d2a7a3a26e225992"
            : "fea0fd2d87c54dbc7078d0f878289f404bd4d6eea6e7444a77835d1537ab88eb",
        },
        checksumSource:
          "SHA-256 and size as pinned for this release asset by independent projects (at least " +
          "three agreeing, one of them a distribution package); GitHub lists no checksum for this release",
      }],
    })),
  ],
  profiles: {
    "realtime": ["whisper-large-v3-turbo-q5_0", "qwen3-8b-q4_k_m", "piper-de-thorsten-medium"],
    "single-agent": ["whisper-large-v3-turbo-q5_0", "qwen3-8b-q4_k_m", "piper-de-thorsten-medium"],
    "cpu-dev": ["whisper-small", "qwen3-4b-instruct-2507-q4_k_m", "piper-de-thorsten-medium"],
  },
};

/** A catalogue file that cannot be used. */
export class CatalogueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogueError";
  }
}

/** Parse and validate a catalogue (a practice's own file). */
export function parseCatalogue(text: string, source: string): Catalogue {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CatalogueError(
      `Modellkatalog ${source}: kein gültiges JSON (${e instanceof Error ? e.message : e})`,
    );
  }
  const r = CatalogueSchema.safeParse(json);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join(".") || "(Wurzel)"}: ${i.message}`).join("; ");
    throw new CatalogueError(`Modellkatalog ${source} ist ungültig: ${why}`);
  }
  return r.data;
}

/**
 * The catalogue in force: the built-in one, with a practice's own file (`models.catalog`) merged over it
 * (its entries replace those of the same name; its profiles replace the built-in defaults).
 */
export function loadCatalogue(practiceFile = ""): Catalogue {
  if (practiceFile === "") return BUILTIN_CATALOGUE;
  let text: string;
  try {
    text = Deno.readTextFileSync(practiceFile);
  } catch (e) {
    throw new CatalogueError(
      `Modellkatalog ${practiceFile} (TOM_MODELS_CATALOG) nicht lesbar: ${
        e instanceof Error ? e.message : e
      }`,
    );
  }
  const own = parseCatalogue(text, practiceFile);
  const names = new Set(own.entries.map((e) => e.name));
  return {
    version: 1,
    entries: [...BUILTIN_CATALOGUE.entries.filter((e) => !names.has(e.name)), ...own.entries],
    profiles: { ...BUILTIN_CATALOGUE.profiles, ...own.profiles },
  };
}

/**
 * The catalogue's VRAM need (MiB) of a model file by its name: 0 for a file no entry names, or when the
 * practice's catalogue cannot be read (`tom models` reports that).
 */
export function catalogueVramMiB(practiceFile: string): (modelPath: string) => number {
  let cat: Catalogue;
  try {
    cat = loadCatalogue(practiceFile);
  } catch {
    return () => 0;
  }
  return (path) => cat.entries.find((e) => e.files.some((f) => f.file === basename(path)))?.vramMiB ?? 0;
}

/** The entry called `name`, or undefined. */
export function findEntry(catalogue: Catalogue, name: string): ModelEntry | undefined {
  return catalogue.entries.find((e) => e.name === name);
}

/**
 * The profile's default entries (names the catalogue does not hold are left out); when they include a voice,
 * the catalogue's Piper program for this Linux machine's architecture follows it (a voice cannot speak without it).
 */
export function profileEntries(
  catalogue: Catalogue,
  profile: Profile,
  machine: { os: string; arch: string } = Deno.build,
): ModelEntry[] {
  const out = (catalogue.profiles[profile] ?? []).map((n) => findEntry(catalogue, n))
    .filter((e): e is ModelEntry => e !== undefined);
  // The catalogue's Piper programs are Linux builds: elsewhere (a developer's Mac) the voice stays unused and
  // espeak-ng speaks.
  const runtime = machine.os !== "linux"
    ? undefined
    : catalogue.entries.find((e) => e.kind === "tts-runtime" && e.arch === machine.arch);
  if (runtime && out.some((e) => e.kind === "tts") && !out.includes(runtime)) out.push(runtime);
  return out;
}
