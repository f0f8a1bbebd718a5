/**
 * The erasure log: which people were erased (GDPR Art. 17), so an erasure can be applied again to a
 * database restored from a backup taken before it. One JSON line per erasure in `erasures.jsonl` beside
 * the database — a file, not a table, because a restore replaces tom.db (and secrets/) but leaves the rest
 * of the data directory alone. A line holds only ids and the time, no personal data, so the log may be
 * kept as long as the oldest backup. It is written (and fsynced) before the rows are deleted: a crash in
 * between erases the person at the next start instead of forgetting the erasure.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { z } from "zod";

/** One erasure: whom, in which account, when (unix ms). */
export interface ErasureEntry {
  accountId: string;
  personId: string;
  at: number;
}

const EntrySchema = z.object({
  accountId: z.string().min(1).max(100),
  personId: z.string().min(1).max(100),
  at: z.number().int().min(0),
});

/** The log file of the database at `dbPath`; undefined for an in-memory database. */
export function erasureLogPath(dbPath: string): string | undefined {
  return dbPath === ":memory:" ? undefined : join(dirname(dbPath), "erasures.jsonl");
}

/** Append one entry and fsync it (the file is created 0600). */
export function appendErasure(dbPath: string, entry: ErasureEntry): void {
  const path = erasureLogPath(dbPath);
  if (!path) return;
  const file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
  try {
    file.writeSync(new TextEncoder().encode(JSON.stringify(EntrySchema.parse(entry)) + "\n"));
    file.syncSync();
  } finally {
    file.close();
  }
}

/**
 * Every entry of the log, oldest first (none when there is no log).
 *
 * @throws {Error} naming the line when a line is not an erasure entry.
 */
export function readErasures(dbPath: string): ErasureEntry[] {
  const path = erasureLogPath(dbPath);
  if (!path) return [];
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const lines = text.split("\n");
  return lines.flatMap((line, i) => {
    if (line.trim() === "") return [];
    // A last line cut short by a crash while appending: the erasure it began was not carried out.
    if (i === lines.length - 1 && !line.endsWith("}")) return [];
    const parsed = EntrySchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`Cannot read erasure log ${path}: line ${i + 1} is not an entry`);
    return [parsed.data];
  });
}
