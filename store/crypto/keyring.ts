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
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const enc = new TextEncoder();

/**
 * The additional authenticated data of a sealed value: a label naming what it is (with a format version)
 * and the parts it is bound to (account, row id, ...), NUL-separated. Every sealed value of the store
 * (transcripts, requests, personal columns) is bound through this one function.
 */
export function aadOf(label: string, ...parts: (string | number)[]): Uint8Array {
  return enc.encode([label, ...parts].join("\0"));
}

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

/** A sealed value: what the transcripts table stores. */
export interface Sealed {
  ciphertext: Uint8Array;
  iv: Uint8Array;
  keyId: string;
}

/**
 * AES-256-GCM keys from a key file: one current key that encrypts, retired keys that only decrypt.
 * Sealing is synchronous (node:crypto), so the store's modules seal and open inside their transactions;
 * the ciphertext is WebCrypto's layout (ciphertext followed by the 16-byte tag).
 */
export class TranscriptKeyring {
  /** The key file, or ":memory:" for a keyring that lives only in this process. */
  readonly file: string;
  #current: { id: string; key: Uint8Array };
  #retired = new Map<string, Uint8Array>();

  private constructor(file: string, current: { id: string; key: Uint8Array }) {
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
  static open(file: string): Promise<TranscriptKeyring> {
    try {
      return Promise.resolve(TranscriptKeyring.openSync(file));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** {@linkcode TranscriptKeyring.open}, synchronously. */
  static openSync(file: string): TranscriptKeyring {
    let raw: Uint8Array;
    try {
      raw = parseKeyFile(Deno.readTextFileSync(file), file);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      raw = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
      writeSecretFile(file, raw);
    }
    const ring = new TranscriptKeyring(file, { id: keyIdOf(raw), key: raw });
    try {
      for (const entry of Deno.readDirSync(ring.retiredDir)) {
        if (!entry.isFile || !entry.name.endsWith(".key")) continue;
        const path = join(ring.retiredDir, entry.name);
        const old = parseKeyFile(Deno.readTextFileSync(path), path);
        ring.#retired.set(keyIdOf(old), old);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return ring;
  }

  /** A keyring with one random key that is never written anywhere (an in-memory store's). */
  static ephemeral(): TranscriptKeyring {
    const raw = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
    return new TranscriptKeyring(":memory:", { id: keyIdOf(raw), key: raw });
  }

  /** Let this keyring also decrypt what `other` sealed (in memory only; an in-memory store's keys). */
  adopt(other: TranscriptKeyring): void {
    for (const [id, key] of [[other.#current.id, other.#current.key] as const, ...other.#retired]) {
      if (id !== this.#current.id) this.#retired.set(id, key);
    }
  }

  /** The id of the key new values are encrypted with. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /** Ids of the retired keys (decrypt only). */
  get retiredKeyIds(): string[] {
    return [...this.#retired.keys()];
  }

  /** {@linkcode TranscriptKeyring.sealSync} as a promise (the transcript and request modules). */
  seal(plaintext: Uint8Array, aad: Uint8Array): Promise<Sealed> {
    return Promise.resolve(this.sealSync(plaintext, aad));
  }

  /** {@linkcode TranscriptKeyring.unsealSync} as a promise (rejects where it throws). */
  open(sealed: Sealed, aad: Uint8Array): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.unsealSync(sealed, aad));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Encrypt `plaintext` bound to `aad` with the current key and a fresh random IV. */
  sealSync(plaintext: Uint8Array, aad: Uint8Array): Sealed {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const cipher = createCipheriv("aes-256-gcm", this.#current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { ciphertext: new Uint8Array(ct), iv, keyId: this.#current.id };
  }

  /**
   * Decrypt a sealed value.
   *
   * @throws {Error} when the key is unknown or the value was altered (or bound to other `aad`).
   */
  unsealSync(sealed: Sealed, aad: Uint8Array): Uint8Array {
    const key = sealed.keyId === this.#current.id ? this.#current.key : this.#retired.get(sealed.keyId);
    if (!key) throw new Error(`Cannot decrypt: key ${sealed.keyId} is not in the keyring`);
    try {
      const data = sealed.ciphertext;
      if (data.byteLength < TAG_BYTES) throw new Error("too short");
      const decipher = createDecipheriv("aes-256-gcm", key, sealed.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(data.subarray(data.byteLength - TAG_BYTES));
      return new Uint8Array(
        Buffer.concat([decipher.update(data.subarray(0, data.byteLength - TAG_BYTES)), decipher.final()]),
      );
    } catch {
      throw new Error(`Cannot decrypt: value sealed with ${sealed.keyId} failed authentication`);
    }
  }

  /**
   * Retire the current key (it keeps decrypting) and make a new random key current.
   *
   * @returns the new key id.
   */
  rotate(): Promise<string> {
    if (this.file === ":memory:") {
      this.#retired.set(this.#current.id, this.#current.key);
      const fresh = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
      this.#current = { id: keyIdOf(fresh), key: fresh };
      return Promise.resolve(this.#current.id);
    }
    const oldRaw = parseKeyFile(Deno.readTextFileSync(this.file), this.file);
    const oldId = keyIdOf(oldRaw);
    writeSecretFile(join(this.retiredDir, `${oldId}.key`), oldRaw);
    const raw = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
    writeSecretFile(this.file, raw);
    this.#retired.set(oldId, this.#current.key);
    this.#current = { id: keyIdOf(raw), key: raw };
    return Promise.resolve(this.#current.id);
  }

  /** Delete a retired key (call only when no stored value uses it any more). */
  dropRetired(keyId: string): void {
    if (!this.#retired.has(keyId)) return;
    this.#retired.delete(keyId);
    if (this.file === ":memory:") return;
    try {
      Deno.removeSync(join(this.retiredDir, `${keyId}.key`));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}
