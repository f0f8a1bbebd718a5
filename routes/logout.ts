// Logout (POST only, with CSRF token): ends the session and its cookie.
import { endSession } from "../ui/mod.ts";
import type { Handlers, RouteConfig } from "../ui/mod.ts";

export const config: RouteConfig = { auth: "public" };

export const handler: Handlers = {
  POST(ctx) {
    if (ctx.auth) ctx.audit("session.logout", "user", ctx.auth.user.id);
    endSession(ctx);
    return ctx.redirect("/login?ok=loggedOut");
  },
};
