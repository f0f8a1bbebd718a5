// GET /api/people (search, paging), POST /api/people (create).
import { z } from "zod";
import { createPerson, StoreConflictError } from "../../../store/mod.ts";
import { type ApiDoc, body, json, PageQuery, query } from "../../../ui/mod.ts";
import { personJson } from "../../../ui/mod.ts";
import { searchPeople } from "../../../ui/mod.ts";
import { PersonInput } from "../../../ui/mod.ts";
import { type Handlers, HttpError } from "../../../ui/mod.ts";
import { T } from "../../../ui/mod.ts";

const ListQuery = PageQuery.extend({ q: z.string().max(200).default("") });

export const doc: ApiDoc = {
  GET: {
    summary: "Personen des Kontos (Suche nach Name oder Nummer)",
    query: ListQuery,
    returns: "{ people: Person[] }",
  },
  POST: { summary: "Person anlegen", body: PersonInput, returns: "201 { person }; 409 bei doppelter Nummer" },
};

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    const q = query(ctx, ListQuery);
    const people = searchPeople(ctx.deps.store, account.id, q.q, q.offset + q.limit).slice(q.offset);
    ctx.audit("person.list", "person", null, { count: people.length, api: true });
    return json({ people: people.map(personJson) });
  },
  POST(ctx) {
    const { account } = ctx.need();
    const input = body(ctx, PersonInput);
    try {
      const p = createPerson(ctx.deps.store, account.id, { ...input, notes: input.notes ?? null });
      ctx.audit("person.create", "person", p.id, { api: true });
      return json({ person: personJson(p) }, 201);
    } catch (e) {
      if (e instanceof StoreConflictError) throw new HttpError(409, T.people.errDuplicate);
      throw e;
    }
  },
};
