// Private helpers of the store modules: typed statement calls, validation, JSON columns.
import type { SQLInputValue, StatementSync } from "node:sqlite";
import type { JsonObject, PageOptions } from "./types.ts";

// node:sqlite returns rows with a null prototype; callers get plain objects.

/** Runs a statement that returns at most one row, typed as `T`. */
export function one<T>(stmt: StatementSync, ...params: SQLInputValue[]): T | undefined {
  const row = stmt.get(...params);
  return row === undefined ? undefined : { ...row } as T;
}

/** Runs a statement that returns rows, typed as `T`. */
export function many<T>(stmt: StatementSync, ...params: SQLInputValue[]): T[] {
  return stmt.all(...params).map((row) => ({ ...row }) as T);
}

/** Runs a write statement and returns the number of changed rows. */
export function run(stmt: StatementSync, ...params: SQLInputValue[]): number {
  return Number(stmt.run(...params).changes);
}

/** Maps a boolean onto SQLite's 0/1. */
export function bit(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}

/** `[limit, offset]` from page options: limit 1..1000 (default 100), offset >= 0. */
export function page(opts: PageOptions | undefined): [number, number] {
  const limit = Math.min(Math.max(Math.trunc(opts?.limit ?? 100), 1), 1000);
  const offset = Math.max(Math.trunc(opts?.offset ?? 0), 0);
  return [limit, offset];
}

/** Serialises a JSON object column; throws if `value` is not a plain object. */
export function jsonText(what: string, field: string, value: JsonObject): string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${what}: ${field} must be a JSON object`);
  }
  return JSON.stringify(value);
}

/** Parses a JSON object column written by {@linkcode jsonText}. */
export function parseJson(text: string): JsonObject {
  return JSON.parse(text) as JsonObject;
}

/** Trimmed non-empty text of at most `max` characters. */
export function requireText(what: string, field: string, value: unknown, max = 200): string {
  if (typeof value !== "string" || value.trim().length === 0 || value.trim().length > max) {
    throw new TypeError(`${what}: ${field} must be a non-empty string of at most ${max} characters`);
  }
  return value.trim();
}

/** One of the allowed string values. */
export function requireOneOf<T extends string>(
  what: string,
  field: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(`${what}: ${field} must be one of ${allowed.join(", ")}, got ${String(value)}`);
  }
  return value as T;
}

/** An integer in `[min, max]`. */
export function requireInt(what: string, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what}: ${field} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** A finite number in `[min, max]`. */
export function requireNumber(what: string, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${what}: ${field} must be a number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

const E164 = /^\+[1-9][0-9]{6,14}$/;

/**
 * An E.164 phone number (`+`, then 7 to 15 digits, no leading zero). The message never repeats the
 * number itself: phone numbers must not reach logs.
 */
export function requireE164(what: string, value: unknown): string {
  if (typeof value !== "string" || !E164.test(value)) {
    const shape = typeof value === "string" ? `${value.length} characters` : typeof value;
    throw new TypeError(`${what}: phone_e164 must be E.164 ("+" and 7 to 15 digits), got ${shape}`);
  }
  return value;
}

/** True when `err` is SQLite's "<kind> constraint failed" error. */
export function isConstraint(err: unknown, kind: "UNIQUE" | "FOREIGN KEY" | "CHECK"): boolean {
  return err instanceof Error && err.message.startsWith(`${kind} constraint failed`);
}
