// GET and POST /api/schedules: scheduled companion calls.
import { z } from "zod";
import { type ApiDoc, body, found, json } from "../../../ui/mod.ts";
import { listSchedules } from "../../../store/mod.ts";
import { createSchedule } from "../../../ui/mod.ts";
import type { Handlers } from "../../../ui/mod.ts";

const ScheduleInput = z.object({
  personId: z.string().min(1).max(100),
  weekdays: z.array(z.number().int().min(0).max(6)).min(1).max(7).describe("0 = Montag … 6 = Sonntag"),
  windowStart: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/),
  windowEnd: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/),
}).refine((s) => s.windowStart < s.windowEnd, {
  message: "windowStart must be before windowEnd",
  path: ["windowEnd"],
});

export const doc: ApiDoc = {
  GET: { summary: "Geplante Anrufe", returns: "{ schedules }" },
  POST: { summary: "Anruf planen", body: ScheduleInput, returns: "201 { schedule }" },
};

const days = (mask: number) => [0, 1, 2, 3, 4, 5, 6].filter((d) => (mask & (1 << d)) !== 0);

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    const list = listSchedules(ctx.deps.store, account.id);
    return json({ schedules: list.map(({ accountId: _a, ...s }) => ({ ...s, weekdays: days(s.weekdays) })) });
  },
  POST(ctx) {
    const { account } = ctx.need();
    const b = body(ctx, ScheduleInput);
    const weekdays = b.weekdays.reduce((m, d) => m | (1 << d), 0);
    const s = found(createSchedule(ctx.deps.store, account.id, { ...b, weekdays }));
    ctx.audit("schedule.create", "person", s.personId, { schedule: s.id, api: true });
    const { accountId: _a, ...rest } = s;
    return json({ schedule: { ...rest, weekdays: days(s.weekdays) } }, 201);
  },
};
