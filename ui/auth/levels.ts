// The two administrator levels: the appliance administrator (box-wide parts, declared by a route's
// `config.appliance`) and account administrators (role "admin" in their account). The router checks them.
import type { AuthState, RouteConfig } from "../types.ts";

/** Whether the asker acts as the appliance administrator: a logged-in session (an API token never does). */
export function isApplianceAdmin(auth: AuthState | undefined): boolean {
  return auth?.via === "session" && auth.user.role === "admin" && auth.user.applianceAdmin;
}

/** Whether this request (method, and the form's `op` where the route declares box-wide ops) is box-wide. */
export function isBoxWide(config: RouteConfig | undefined, method: string, op: string | null): boolean {
  const box = config?.appliance;
  if (box === undefined) return false;
  if (box === true) return true;
  return (box.methods ?? []).some((m) => m === method) || (op !== null && (box.ops ?? []).includes(op));
}
