// Helpers of the JSON API routes: responses, zod validation, and the documentation each route exports.
import { z } from "zod";
import { HttpError, type RouteContext } from "./types.ts";
import { T } from "./texts_de.ts";

/** One documented method of an API route. */
export interface ApiMethodDoc {
  summary: string;
  /** Request body (JSON) schema. */
  body?: z.ZodType;
  /** Query parameters schema. */
  query?: z.ZodType;
  /** What comes back, in words. */
  returns: string;
  /** Administrators only. */
  admin?: boolean;
}

/** What an API route module exports as `doc`. */
export type ApiDoc = Partial<Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", ApiMethodDoc>>;

/** A JSON response. */
export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * Validate the JSON body against a schema.
 *
 * @throws {HttpError} 400 with the issues (paths and messages, never the values).
 */
export function body<S extends z.ZodType>(ctx: RouteContext, schema: S): z.infer<S> {
  const r = schema.safeParse(ctx.json ?? {});
  if (!r.success) {
    throw new HttpError(
      400,
      T.api.invalid,
      r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return r.data;
}

/** Validate query parameters against a schema (values are strings). */
export function query<S extends z.ZodType>(ctx: RouteContext, schema: S): z.infer<S> {
  const r = schema.safeParse(Object.fromEntries(ctx.url.searchParams));
  if (!r.success) {
    throw new HttpError(
      400,
      T.api.invalid,
      r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return r.data;
}

/** 404 unless found. */
export function found<T>(value: T | undefined | null): T {
  if (value === undefined || value === null) throw new HttpError(404, T.api.notFound);
  return value;
}

/** Paging query parameters. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
