/**
 * The model catalogue: which real models a practice can install for German telephone use, per profile,
 * with each file's source (pinned to an immutable revision where one is known), size, checksum, licence
 * and memory need. `tom models` (app/commands/models.ts) lists, pulls, verifies and selects them.
 *
 * The schema is open for what a later step adds: an entry of kind `tts-runtime` (the Piper release, one
 * entry per `arch`, unpacked into the engines directory: `unpack`) and `build` facts per entry. A practice's
 * own catalogue (`TOM_MODELS_CATALOG`, same schema) replaces entries of the same name and adds new ones.
 *
 * Checksums are taken only from a primary source, named in `checksumSource`:
 * - whisper.cpp ggml models: the SHA-1 table of whisper.cpp's own `models/README.md` (whisper.cpp 1.9.1, the
 *   tree provisioning unpacks); files at Hugging Face revision 5359861c739e955e79d9a303bcbc70fb988958b1.
 * - The LLM GGUF and the Piper voice: the hub's file metadata could not be read from this network, so their
 *   entries carry NO checksum (`checksumSource: "unverified: ..."`) and `tom models pull` refuses them until
 *   the practice's catalogue names the SHA-256 the hub's tree API lists for that file at the pinned revision.
 *
 * The LLM: Qwen2.5-7B-Instruct (GGUF Q4_K_M, 4.7 GB). German: Qwen2.5's model card lists German among its
 * 29+ supported languages, and among open 7-8B models it is one of the more fluent in German (not yet measured
 * with TOM's own dialogues: that needs the real weights on a GPU box).
 * Tool calling: its chat template carries Hermes-style `<tool_call>` JSON that llama-server's `--jinja` parses
 * into OpenAI `tool_calls`. Licence: Apache-2.0 (no user cap, no acceptable-use clause to pass on, unlike Llama
 * 3.1's community licence). VRAM at Q4_K_M (estimated: weights plus KV cache): about 5.5 GB with an 8k context,
 * so it fits the single-agent profile's 8 GiB next to whisper large-v3-turbo-q5_0 (about 0.9 GB), and the
 * realtime profile's 12 GiB leaves room for parallel slots. Larger German-strong choices (Mistral-Nemo 12B, 7.5 GB) would not fit 8 GiB.
 *
 * @module
 */
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

const UNVERIFIED = "unverified: the hub's file metadata could not be read from the network this " +
  "catalogue was written on; set the SHA-256 of the hub's tree API in TOM_MODELS_CATALOG";

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
      name: "qwen2.5-7b-instruct-q4_k_m",
      kind: "llm",
      title: "Qwen2.5-7B-Instruct (GGUF Q4_K_M)",
      licence: "Apache-2.0",
      ramMiB: 6000,
      vramMiB: 5600,
      notes: "German, tool calling via --jinja; see the comment at the top of models_catalog.ts",
      files: [{
        file: "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        url:
          "https://huggingface.co/bartowski/Qwen2.5-7B-Instruct-GGUF/resolve/main/Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        revision: null,
        bytes: 4_683_074_000,
        bytesApprox: true,
        checksum: null,
        checksumSource: UNVERIFIED,
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
          bytesApprox: true,
          checksum: null,
          checksumSource: UNVERIFIED,
        },
        {
          file: "de_DE-thorsten-medium.onnx.json",
          url:
            "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/de/de_DE/thorsten/medium/de_DE-thorsten-medium.onnx.json",
          revision: "v1.0.0 (tag)",
          bytes: 5_000,
          bytesApprox: true,
          checksum: null,
          checksumSource: UNVERIFIED,
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
        bytes: arch === "x86_64" ? 25_000_000 : 23_000_000,
        bytesApprox: true,
        checksum: null,
        checksumSource: "unverified: GitHub lists no checksum for this release and the file could not be " +
          "downloaded from the network this catalogue was written on; set its SHA-256 in TOM_MODELS_CATALOG",
      }],
    })),
  ],
  profiles: {
    "realtime": ["whisper-large-v3-turbo-q5_0", "qwen2.5-7b-instruct-q4_k_m", "piper-de-thorsten-medium"],
    "single-agent": ["whisper-large-v3-turbo-q5_0", "qwen2.5-7b-instruct-q4_k_m", "piper-de-thorsten-medium"],
    "cpu-dev": ["whisper-small", "qwen2.5-7b-instruct-q4_k_m", "piper-de-thorsten-medium"],
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

/** The entry called `name`, or undefined. */
export function findEntry(catalogue: Catalogue, name: string): ModelEntry | undefined {
  return catalogue.entries.find((e) => e.name === name);
}

/** The profile's default entries (names the catalogue does not hold are left out). */
export function profileEntries(catalogue: Catalogue, profile: Profile): ModelEntry[] {
  return (catalogue.profiles[profile] ?? []).map((n) => findEntry(catalogue, n))
    .filter((e): e is ModelEntry => e !== undefined);
}
