// Corrections of a person's memory from the person page: update, delete or add one entry, or forget all.
import {
  deleteMemory,
  getMemory,
  getPerson,
  type Json,
  saveMemory,
  StoreConflictError,
} from "../../../store/mod.ts";
import { found } from "../../../ui/mod.ts";
import { MEMORY_LISTS } from "../../../ui/mod.ts";
import { type Handlers, HttpError } from "../../../ui/mod.ts";
import { T } from "../../../ui/mod.ts";

export const handler: Handlers = {
  POST(ctx) {
    const { account } = ctx.need();
    const store = ctx.deps.store;
    const person = found(getPerson(store, account.id, ctx.params.id));
    const f = ctx.form;
    const op = f.get("op");
    if (op === "clear") {
      deleteMemory(store, account.id, person.id);
      ctx.audit("memory.delete", "person", person.id);
      return ctx.redirect(`/people/${person.id}?ok=deleted#memory-h`);
    }
    const category = f.get("category") ?? "";
    if (!MEMORY_LISTS.includes(category)) throw new HttpError(400, T.api.invalid);
    const current = getMemory(store, account.id, person.id);
    const version = Number(f.get("version") ?? "0");
    const memory = structuredClone(current?.memory ?? {});
    const list: Json[] = Array.isArray(memory[category]) ? [...(memory[category] as Json[])] : [];
    const index = Number(f.get("index") ?? "-1");
    const text = (f.get("text") ?? "").trim().slice(0, 500);
    if (op === "add" && text) list.push(text);
    else if (op === "update" && Number.isInteger(index) && index >= 0 && index < list.length && text) {
      list[index] = text;
    } else if (op === "delete" && Number.isInteger(index) && index >= 0 && index < list.length) {
      list.splice(index, 1);
    } else throw new HttpError(400, T.api.invalid);
    memory[category] = list;
    try {
      saveMemory(store, account.id, person.id, memory, version);
    } catch (e) {
      if (e instanceof StoreConflictError) throw new HttpError(409, T.person.memoryConflict);
      throw e;
    }
    ctx.audit("memory.update", "person", person.id, { op, category });
    return ctx.redirect(`/people/${person.id}?ok=saved#memory-h`);
  },
};
