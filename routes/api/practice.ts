// GET /api/practice (everyone of the account), PUT /api/practice (administrators): the practice knowledge.
import { defaultPractice, getPractice, PracticeSchema, putPractice } from "../../store/mod.ts";
import { type ApiDoc, json, practiceChanges, practiceIssues } from "../../ui/mod.ts";
import { type Handlers, HttpError } from "../../ui/mod.ts";
import { T } from "../../ui/mod.ts";

export const doc: ApiDoc = {
  GET: {
    summary: "Praxisangaben (Öffnungszeiten, Schließzeiten, Team, Leistungen, FAQ, Weiterleitung)",
    returns: "{ practice }; ohne gespeicherte Angaben die Voreinstellung",
  },
  PUT: {
    summary: "Praxisangaben ersetzen",
    body: PracticeSchema,
    returns: "{ practice }; 400 mit einer deutschen Meldung je Pfad (detail: [{ path, code, message }])",
    admin: true,
  },
};

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    return json({ practice: getPractice(ctx.deps.store, account.id) ?? defaultPractice(account.name) });
  },
  PUT(ctx) {
    const { account, user } = ctx.need();
    if (user.role !== "admin") throw new HttpError(403, T.api.forbidden);
    const r = PracticeSchema.safeParse(ctx.json ?? {});
    if (!r.success) throw new HttpError(400, T.api.invalid, practiceIssues(r.error));
    const before = getPractice(ctx.deps.store, account.id) ?? defaultPractice(account.name);
    putPractice(ctx.deps.store, account.id, r.data, user.id);
    ctx.audit("practice.update", "account", account.id, {
      changed: practiceChanges(before, r.data),
      api: true,
    });
    return json({ practice: r.data });
  },
};
