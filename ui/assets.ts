/**
 * Static assets of the UI: the stylesheet and the island bundles, each under a content-hashed URL
 * served with `Cache-Control: immutable`. Bundles are built in the background at mount (cached by input
 * hash, see islands_build.ts); pages wait for the first build before rendering their script tags.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Logger } from "../infra/mod.ts";
import { buildIslands, type IslandManifest } from "./islands_build.ts";
import { join } from "./_path.ts";
import { STYLES } from "./styles.ts";

/** Options of {@linkcode IslandAssets}. */
export interface AssetOptions {
  root: string;
  cacheDir: string;
  log: Logger;
  /** Replace the builder (tests). */
  build?: (opts: { root: string; cacheDir: string }) => Promise<IslandManifest>;
  /**
   * A finished build (`deno run -A ui/islands_build.ts --out DIR`), used when bundling here is not
   * possible: in a compiled binary, or when the process may not run `deno`.
   */
  prebuiltDir?: string;
}

function readManifest(dir: string): IslandManifest | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(join(dir, "manifest.json"))) as IslandManifest;
  } catch {
    return undefined;
  }
}

const CSS_HASH = createHash("sha256").update(STYLES).digest("hex").slice(0, 12);

/** Stylesheet and island bundles. */
export class IslandAssets {
  readonly cssUrl = `/ui/s/${CSS_HASH}/app.css`;
  #opts: AssetOptions;
  #ready: Promise<void> | undefined;
  #manifest: IslandManifest | undefined;
  #files = new Map<string, Uint8Array>();
  #error: string | undefined;

  constructor(opts: AssetOptions) {
    this.#opts = opts;
  }

  /** Start (once) and await the island build; never rejects: a failure leaves pages without scripts. */
  ready(): Promise<void> {
    this.#ready ??= (async () => {
      const started = performance.now();
      try {
        let m: IslandManifest;
        let dir: string;
        try {
          m = await (this.#opts.build ?? buildIslands)({
            root: this.#opts.root,
            cacheDir: this.#opts.cacheDir,
          });
          dir = join(this.#opts.cacheDir, m.inputHash);
        } catch (e) {
          const pre = this.#opts.prebuiltDir ? readManifest(this.#opts.prebuiltDir) : undefined;
          if (!pre || !this.#opts.prebuiltDir) throw e;
          this.#opts.log.info("ui islands: using the prebuilt bundles", { dir: this.#opts.prebuiltDir });
          [m, dir] = [pre, this.#opts.prebuiltDir];
        }
        for (const f of Object.keys(m.sizes)) this.#files.set(f, Deno.readFileSync(join(dir, f)));
        this.#manifest = m;
        this.#opts.log.info("ui islands ready", {
          hash: m.outputHash,
          entries: Object.keys(m.entries).length,
          ms: Math.round(performance.now() - started),
        });
      } catch (e) {
        this.#error = e instanceof Error ? e.message : String(e);
        this.#opts.log.error("ui islands could not be bundled; pages work without their scripts", {
          error: this.#error,
        });
      }
    })();
    return this.#ready;
  }

  /** The finished build, if any. */
  get manifest(): IslandManifest | undefined {
    return this.#manifest;
  }

  /** Why the build failed, if it did. */
  get error(): string | undefined {
    return this.#error;
  }

  /** URL of one entry's module, or undefined without a build. */
  url(entry: string): string | undefined {
    const m = this.#manifest;
    const file = m?.entries[entry];
    return m && file ? `/ui/i/${m.outputHash}/${file}` : undefined;
  }

  /** Module scripts and preloads for the islands a page used. */
  scripts(entries: string[]): { modules: string[]; preloads: string[] } {
    const m = this.#manifest;
    if (!m) return { modules: [], preloads: [] };
    const modules = entries.flatMap((e) => (m.entries[e] ? [`/ui/i/${m.outputHash}/${m.entries[e]}`] : []));
    const chunks = new Set(entries.flatMap((e) => m.imports[e] ?? []));
    return { modules, preloads: [...chunks].map((c) => `/ui/i/${m.outputHash}/${c}`) };
  }

  /** Bytes of JavaScript a page with these islands loads (entries plus shared chunks). */
  jsBytes(entries: string[]): number {
    const m = this.#manifest;
    if (!m) return 0;
    const files = new Set(
      entries.flatMap((e) => (m.entries[e] ? [m.entries[e], ...(m.imports[e] ?? [])] : [])),
    );
    return [...files].reduce((n, f) => n + (m.sizes[f] ?? 0), 0);
  }

  /** Answer `/ui/...` asset requests; undefined for unknown paths. */
  serve(path: string): Response | undefined {
    const immutable = {
      "Cache-Control": "public, max-age=31536000, immutable",
      "X-Content-Type-Options": "nosniff",
    };
    if (path === this.cssUrl) {
      return new Response(STYLES, { headers: { ...immutable, "Content-Type": "text/css; charset=utf-8" } });
    }
    const m = /^\/ui\/i\/([0-9a-f]{16})\/([A-Za-z0-9_.-]+\.js)$/.exec(path);
    if (!m || m[1] !== this.#manifest?.outputHash) return undefined;
    const body = this.#files.get(m[2]);
    if (!body) return undefined;
    return new Response(body as Uint8Array<ArrayBuffer>, {
      headers: { ...immutable, "Content-Type": "text/javascript; charset=utf-8" },
    });
  }
}
