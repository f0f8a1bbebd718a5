// What staff may change on a request (status, assignee, notes): one zod schema with German messages for
// `PATCH /api/requests/:id` and the form posts of the "Anliegen" page, and the JSON form of a request.
import { z } from "zod";
import {
  getUser,
  REQUEST_STATUSES,
  type RequestPatch,
  type RequestRecord,
  type Store,
  updateRequest,
} from "../store/mod.ts";
import type { TranscriptKeyring } from "../store/crypto/mod.ts";
import { fill, T } from "./texts_de.ts";
import { HttpError } from "./types.ts";

/** Body of `PATCH /api/requests/:id`: at least one of status, assignee (null unassigns), notes. */
export const RequestPatchSchema = z.strictObject({
  status: z.enum(REQUEST_STATUSES, { error: T.requests.errStatus }).optional(),
  assigneeUserId: z.string({ error: T.requests.errAssignee }).min(1, { error: T.requests.errAssignee })
    .max(100, { error: T.requests.errAssignee }).nullable().optional(),
  notes: z.string({ error: T.requests.errNotes }).max(4000, { error: T.requests.errNotes }).optional(),
}, {
  error: (iss) =>
    iss.code === "unrecognized_keys"
      ? fill(T.requests.errUnknown, { field: iss.keys.join(", ") })
      : T.api.invalid,
}).refine((p) => p.status !== undefined || p.assigneeUserId !== undefined || p.notes !== undefined, {
  error: T.requests.errEmpty,
});

/**
 * Validate a change and apply it, scoped to the account.
 *
 * @returns the changed request, or undefined when it is not in this account.
 * @throws {HttpError} 400 with German messages (detail: [{ path, message }]) on an invalid change or an
 * assignee who is not a user of this account.
 */
export async function patchRequest(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  id: string,
  input: unknown,
): Promise<{ request: RequestRecord; changed: string[] } | undefined> {
  const r = RequestPatchSchema.safeParse(input);
  if (!r.success) {
    throw new HttpError(
      400,
      T.api.invalid,
      r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  const patch: RequestPatch = r.data;
  const assignee = patch.assigneeUserId;
  if (typeof assignee === "string" && !getUser(store, accountId, assignee)) {
    throw new HttpError(400, T.api.invalid, [{ path: "assigneeUserId", message: T.requests.errAssignee }]);
  }
  const request = await updateRequest(store, keyring, accountId, id, patch);
  if (!request) return undefined;
  // The audit row names what changed, never the notes themselves.
  const changed = (["status", "assigneeUserId", "notes"] as const).filter((k) => patch[k] !== undefined);
  return { request, changed };
}

/** A request as the API returns it (ISO times; no account id). */
export function requestJson(r: RequestRecord): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const { accountId: _a, createdAt, updatedAt, doneAt, ...rest } = r;
  return { ...rest, createdAt: iso(createdAt), updatedAt: iso(updatedAt), doneAt: iso(doneAt) };
}
