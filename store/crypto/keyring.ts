/**
 * The transcript keyring: AES-256-GCM keys kept in files, with rotation.
 *
 * The current key lives in the key file (`ui.transcriptKeyFile`, default
 * `<dataDir>/secrets/transcripts.key`): 32 random bytes, base64, mode 0600. Rotation moves it into
 * `<keyFile>.retired/<keyId>.key` and writes a new one; retired keys only decrypt, and are deleted once
 * no transcript row uses them any more. A key id is derived from the key (SHA-256 with a label, 16 hex
 * characters), so every row names the key that decrypts it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";

const KEY_BYTES = 32;
const IV_BYTES = 12;

/** The id of a raw key: stable, short, and useless for recovering the key. */
export function keyIdOf(raw: Uint8Array): string {
  return "k" + createHash("sha256").update("tom-transcript-key-id\0").update(raw).digest("hex").slice(0, 16);
}

function parseKeyFile(text: string, file: string): Uint8Array {
  const raw = new Uint8Array(Buffer.from(text.trim(), "base64"));
  if (raw.byteLength !== KEY_BYTES) {
    throw new Error(
      `Cannot use transcript key ${file}: expected ${KEY_BYTES} bytes of base64, got ${raw.length}`,
    );
  }
  return raw;
}

function writeSecretFile(file: string, raw: Uint8Array): void {
  Deno.mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  Deno.writeTextFileSync(tmp, Buffer.from(raw).toString("base64") + "\n", { mode: 0o600 });
  Deno.renameSync(tmp, file);
}

async function importKey(raw: Uint8Array): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

/** A sealed value: what the transcripts table stores. */
export interface Sealed {
  ciphertext: Uint8Array;
  iv: Uint8Array;
  keyId: string;
}

/** AES-256-GCM keys from a key file: one current key that encrypts, retired keys that only decrypt. */
export class TranscriptKeyring {
  readonly file: string;
  #current: { id: string; key: CryptoKey };
  #retired = new Map<string, CryptoKey>();

  private constructor(file: string, current: { id: string; key: CryptoKey }) {
    this.file = file;
    this.#current = current;
  }

  /** Directory of the retired keys. */
  get retiredDir(): string {
    return join(dirname(this.file), `${basename(this.file)}.retired`);
  }

  /**
   * Load the keyring from `file` (creating a new random key there when it does not exist) and the
   * retired keys beside it.
   *
   * @throws {Error} when a key file is not 32 bytes of base64.
   */
  static async open(file: string): Promise<TranscriptKeyring> {
    let raw: Uint8Array;
    try {
      raw = parseKeyFile(Deno.readTextFileSync(file), file);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      raw = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
      writeSecretFile(file, raw);
    }
    const ring = new TranscriptKeyring(file, { id: keyIdOf(raw), key: await importKey(raw) });
    try {
      for (const entry of Deno.readDirSync(ring.retiredDir)) {
        if (!entry.isFile || !entry.name.endsWith(".key")) continue;
        const path = join(ring.retiredDir, entry.name);
        const old = parseKeyFile(Deno.readTextFileSync(path), path);
        ring.#retired.set(keyIdOf(old), await importKey(old));
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return ring;
  }

  /** The id of the key new values are encrypted with. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /** Ids of the retired keys (decrypt only). */
  get retiredKeyIds(): string[] {
    return [...this.#retired.keys()];
  }

  /** Encrypt `plaintext` bound to `aad` with the current key and a fresh random IV. */
  async seal(plaintext: Uint8Array, aad: Uint8Array): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: aad as Uint8Array<ArrayBuffer> },
      this.#current.key,
      plaintext as Uint8Array<ArrayBuffer>,
    );
    return { ciphertext: new Uint8Array(ct), iv, keyId: this.#current.id };
  }

  /**
   * Decrypt a sealed value.
   *
   * @throws {Error} when the key is unknown or the value was altered (or bound to other `aad`).
   */
  async open(sealed: Sealed, aad: Uint8Array): Promise<Uint8Array> {
    const key = sealed.keyId === this.#current.id ? this.#current.key : this.#retired.get(sealed.keyId);
    if (!key) throw new Error(`Cannot decrypt: key ${sealed.keyId} is not in the keyring`);
    try {
      const pt = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: sealed.iv as Uint8Array<ArrayBuffer>,
          additionalData: aad as Uint8Array<ArrayBuffer>,
        },
        key,
        sealed.ciphertext as Uint8Array<ArrayBuffer>,
      );
      return new Uint8Array(pt);
    } catch {
      throw new Error(`Cannot decrypt: value sealed with ${sealed.keyId} failed authentication`);
    }
  }

  /**
   * Retire the current key (it keeps decrypting) and make a new random key current.
   *
   * @returns the new key id.
   */
  async rotate(): Promise<string> {
    const oldRaw = parseKeyFile(Deno.readTextFileSync(this.file), this.file);
    const oldId = keyIdOf(oldRaw);
    writeSecretFile(join(this.retiredDir, `${oldId}.key`), oldRaw);
    const raw = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
    writeSecretFile(this.file, raw);
    this.#retired.set(oldId, this.#current.key);
    this.#current = { id: keyIdOf(raw), key: await importKey(raw) };
    return this.#current.id;
  }

  /** Delete a retired key (call only when no stored value uses it any more). */
  dropRetired(keyId: string): void {
    if (!this.#retired.has(keyId)) return;
    this.#retired.delete(keyId);
    try {
      Deno.removeSync(join(this.retiredDir, `${keyId}.key`));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}
