// Export of everything stored about a person as JSON (GDPR Art. 15), streamed and uncapped; audited.
import { personExportResponse } from "../../../ui/mod.ts";
import type { Handlers } from "../../../ui/mod.ts";

export const handler: Handlers = {
  GET(ctx) {
    return personExportResponse(ctx, "json");
  },
};
