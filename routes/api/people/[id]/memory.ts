// GET and PUT (correct) the person's memory; DELETE forgets it.
import { z } from "zod";
import {
  deleteMemory,
  getMemory,
  getPerson,
  type JsonObject,
  saveMemory,
  StoreConflictError,
} from "../../../../store/mod.ts";
import { type ApiDoc, body, found, json } from "../../../../ui/mod.ts";
import { type Handlers, HttpError } from "../../../../ui/mod.ts";
import { T } from "../../../../ui/mod.ts";

const MemoryPut = z.object({ memory: z.record(z.string(), z.json()), version: z.number().int().min(0) });

export const doc: ApiDoc = {
  GET: { summary: "Gedächtnis der Person", returns: "{ memory, version }" },
  PUT: {
    summary: "Gedächtnis korrigieren (version = gelesene Version; 409 wenn veraltet)",
    body: MemoryPut,
    returns: "{ memory, version }",
  },
  DELETE: { summary: "Gedächtnis löschen", returns: "{ deleted }" },
};

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    const p = found(getPerson(ctx.deps.store, account.id, ctx.params.id));
    const m = getMemory(ctx.deps.store, account.id, p.id);
    ctx.audit("person.view", "person", p.id, { memory: true, api: true });
    return json({ memory: m?.memory ?? {}, version: m?.version ?? 0 });
  },
  PUT(ctx) {
    const { account } = ctx.need();
    const p = found(getPerson(ctx.deps.store, account.id, ctx.params.id));
    const b = body(ctx, MemoryPut);
    try {
      const m = saveMemory(ctx.deps.store, account.id, p.id, b.memory as JsonObject, b.version);
      ctx.audit("memory.update", "person", p.id, { api: true });
      return json({ memory: m.memory, version: m.version });
    } catch (e) {
      if (e instanceof StoreConflictError) throw new HttpError(409, T.person.memoryConflict);
      if (e instanceof RangeError || e instanceof TypeError) throw new HttpError(400, T.api.invalid);
      throw e;
    }
  },
  DELETE(ctx) {
    const { account } = ctx.need();
    const p = found(getPerson(ctx.deps.store, account.id, ctx.params.id));
    const deleted = deleteMemory(ctx.deps.store, account.id, p.id);
    ctx.audit("memory.delete", "person", p.id, { api: true });
    return json({ deleted });
  },
};
