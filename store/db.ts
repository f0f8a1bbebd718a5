// The connection: pragmas, statement cache, transactions, the write queue, clean close.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { createHmac } from "node:crypto";
import { dirname, join } from "node:path";
import { TranscriptKeyring } from "./crypto/keyring.ts";
import { migrate } from "./migrations.ts";
import { type JobResult, WriteQueue } from "./write_queue.ts";

/** Options of {@linkcode openStore}. */
export interface StoreOptions {
  /** Apply pending migrations while opening (default true). */
  migrate?: boolean;
  /** How long a writer waits for another process's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
  /**
   * `FULL` (default) fsyncs the WAL at every commit: acknowledged writes survive a power cut or kernel
   * crash, not only a killed process. `NORMAL` survives `kill -9` too (a commit has been write()n to the
   * WAL, which the OS keeps), but may lose the last commits on power loss.
   */
  synchronous?: "FULL" | "NORMAL";
  /** Clock in unix ms (default Date.now); passed in so tests are exact. */
  clock?: () => number;
  /** Id source (default crypto.randomUUID). */
  newId?: () => string;
  /** Most writes per transaction in {@linkcode Store.write} (default 500). */
  maxBatch?: number;
  /** How long a queued write waits for company, in ms (default 0: next timer tick). */
  maxDelayMs?: number;
  /**
   * The key file that seals personal columns (default `<database folder>/secrets/transcripts.key`; an
   * in-memory store uses a key that lives only in the process until {@linkcode Store.useKeyFile}).
   */
  keyFile?: string;
}

/**
 * One SQLite connection. node:sqlite is synchronous, so within this process every statement and every
 * {@linkcode Store.transaction} runs to completion before any other JavaScript: writes from concurrent
 * calls are serialised by the event loop. Across processes, BEGIN IMMEDIATE plus busy_timeout make the
 * second writer wait instead of failing.
 */
export class Store {
  /** Path of the database file, or ":memory:". */
  readonly path: string;
  /** The raw connection; meant for migrations, doctor and tests. Tenant data goes through the modules. */
  readonly db: DatabaseSync;
  /** Versions applied while opening. */
  readonly appliedMigrations: readonly number[];
  #statements = new Map<string, StatementSync>();
  #depth = 0;
  #closed = false;
  #salt: string | undefined;
  #keyring: TranscriptKeyring | undefined;
  readonly #keyFile: string | undefined;
  readonly #clock: () => number;
  readonly #newId: () => string;
  readonly #queue: WriteQueue;

  /** Wraps an open, configured connection and migrates it; use {@linkcode openStore} instead. */
  constructor(path: string, db: DatabaseSync, opts: StoreOptions = {}) {
    this.path = path;
    this.db = db;
    this.#clock = opts.clock ?? Date.now;
    this.#newId = opts.newId ?? (() => crypto.randomUUID());
    this.#keyFile = opts.keyFile;
    this.#queue = new WriteQueue((fns) => this.#runBatch(fns), opts);
    this.appliedMigrations = opts.migrate === false ? [] : migrate(db, { clock: this.#clock });
  }

  /** The current time in unix ms, from the configured clock. */
  now(): number {
    return this.#clock();
  }

  /** A new row id, from the configured id source. */
  newId(): string {
    return this.#newId();
  }

  /** True while a transaction of this connection is open. */
  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  /** A prepared statement, cached per connection. */
  prepare(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * Runs `fn` in a transaction: BEGIN IMMEDIATE (takes the write lock up front, so it cannot deadlock
   * on a later upgrade), COMMIT on return, ROLLBACK when it throws. Nested calls become savepoints, so an
   * inner failure undoes only the inner work. `fn` must be synchronous: a transaction held across an
   * await would block every other writer, so a returned promise is refused and rolled back.
   */
  transaction<T>(fn: () => T): T {
    this.#assertOpen();
    const depth = this.#depth;
    const savepoint = `sp_${depth}`;
    this.db.exec(depth === 0 ? "BEGIN IMMEDIATE" : `SAVEPOINT ${savepoint}`);
    this.#depth = depth + 1;
    let result: T;
    try {
      result = fn();
      if (isThenable(result)) {
        Promise.resolve(result).catch(() => {});
        throw new TypeError(
          "Cannot run an async function in Store.transaction: it would hold the lock across await",
        );
      }
    } catch (err) {
      this.#depth = depth;
      if (this.db.isTransaction) {
        this.db.exec(depth === 0 ? "ROLLBACK" : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
      }
      throw err;
    }
    this.#depth = depth;
    try {
      this.db.exec(depth === 0 ? "COMMIT" : `RELEASE ${savepoint}`);
    } catch (err) {
      if (depth === 0 && this.db.isTransaction) this.db.exec("ROLLBACK");
      throw err;
    }
    return result;
  }

  /**
   * Queues a synchronous write; many queued writes share one transaction (one fsync). Resolves with
   * `fn`'s result once that transaction has committed: a resolved write is an acknowledged write.
   */
  write<T>(fn: () => T): Promise<T> {
    this.#assertOpen();
    return this.#queue.enqueue(fn);
  }

  /** Resolves when every write queued so far has been committed or rejected. */
  flush(): Promise<void> {
    return this.#queue.drain();
  }

  /**
   * The keyring that seals personal columns (and transcripts and requests), opened on first use from the
   * `keyFile` option, the default beside the database, or in memory for ":memory:".
   */
  get keyring(): TranscriptKeyring {
    this.#keyring ??= this.#keyFile
      ? TranscriptKeyring.openSync(this.#keyFile)
      : this.path === ":memory:"
      ? TranscriptKeyring.ephemeral()
      : TranscriptKeyring.openSync(join(dirname(this.path), "secrets", "transcripts.key"));
    return this.#keyring;
  }

  /**
   * Use the key file `file` (the configured one): returns the one keyring of this store, so a rotation
   * seals every table with the new key. A process-only key already used by an in-memory store keeps
   * decrypting (it is adopted); another key file already in use is refused.
   *
   * @throws {Error} when the store already seals with a different key file.
   */
  useKeyFile(file: string): TranscriptKeyring {
    const have = this.#keyring ?? (this.#keyFile ? this.keyring : undefined);
    if (have && have.file === file) return have;
    if (have && have.file !== ":memory:") {
      throw new Error(`Cannot use key file ${file}: the store ${this.path} seals with ${have.file}`);
    }
    const ring = TranscriptKeyring.openSync(file);
    if (have) ring.adopt(have);
    this.#keyring = ring;
    return ring;
  }

  /** Salted SHA-256 of a phone number: for lookups and logs, which must never show the number. */
  phoneHash(e164: string): string {
    this.#salt ??= (this.prepare("SELECT value FROM store_meta WHERE key = 'phone_hash_salt'").get() as
      | { value: string }
      | undefined)?.value;
    if (!this.#salt) throw new Error("Cannot hash phone number: the store is not migrated");
    return createHmac("sha256", this.#salt).update(e164).digest("hex");
  }

  /** Writes queued work, checkpoints the WAL into the database file and closes. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    if (this.#depth > 0) throw new Error("Cannot close the store inside a transaction");
    this.#queue.flushNow();
    this.#closed = true;
    this.#statements.clear();
    try {
      if (this.path !== ":memory:") {
        this.db.exec("PRAGMA optimize");
        this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      }
    } finally {
      this.db.close();
    }
  }

  #runBatch(fns: (() => unknown)[]): JobResult[] {
    return this.transaction(() =>
      fns.map((fn): JobResult => {
        try {
          return { ok: true, value: this.transaction(fn) };
        } catch (error) {
          return { ok: false, error };
        }
      })
    );
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`Cannot use the store: ${this.path} is closed`);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/**
 * Opens (creating it and its directory if needed, mode 0600) and migrates the database at `path`;
 * ":memory:" gives a private in-memory database for tests.
 */
export function openStore(path: string, opts: StoreOptions = {}): Store {
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new RangeError(
      `Cannot open store: busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`,
    );
  }
  const synchronous = opts.synchronous ?? "FULL";
  if (synchronous !== "FULL" && synchronous !== "NORMAL") {
    throw new TypeError(`Cannot open store: synchronous must be FULL or NORMAL, got ${String(synchronous)}`);
  }
  if (path !== ":memory:") prepareFile(path);
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: busyTimeoutMs });
  try {
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    const mode = (db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string }).journal_mode;
    if (path !== ":memory:" && mode !== "wal") throw new Error(`journal_mode is ${mode}, not wal`);
    // ON: every cell and every page freed by an UPDATE or DELETE is zeroed, so an old value (an earlier
    // memory, a retired transcript) does not linger in a free page until an erasure; FAST left freed pages
    // as they were. Costs no measurable time (tests/bench/erasure_bench.ts: DELETE ON vs FAST).
    db.exec(`PRAGMA foreign_keys = ON; PRAGMA synchronous = ${synchronous}; PRAGMA secure_delete = ON`);
    return new Store(path, db, opts);
  } catch (err) {
    db.close();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot open store ${path}: ${reason}`, { cause: err });
  }
}

function prepareFile(path: string): void {
  Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    Deno.openSync(path, { createNew: true, write: true, mode: 0o600 }).close();
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  // SQLite gives the -wal and -shm files the database file's mode.
  if (Deno.build.os !== "windows") Deno.chmodSync(path, 0o600);
}
