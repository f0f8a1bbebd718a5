// Export of everything stored about a person with the recordings of their calls, as a ZIP (GDPR Art. 15):
// person.json and recordings/<callId>.wav, streamed; audited.
import { personExportResponse } from "../../../ui/mod.ts";
import type { Handlers } from "../../../ui/mod.ts";

export const handler: Handlers = {
  GET(ctx) {
    return personExportResponse(ctx, "zip");
  },
};
