// GET /api/people/:id/export: everything about the person (GDPR Art. 15), streamed; ?format=zip adds the
// recordings (person.json and recordings/<callId>.wav in a ZIP).
import { z } from "zod";
import { type ApiDoc, personExportResponse, query } from "../../../../ui/mod.ts";
import type { Handlers } from "../../../../ui/mod.ts";

const ExportQuery = z.object({ format: z.enum(["json", "zip"]).default("json") });

export const doc: ApiDoc = {
  GET: {
    summary:
      "Alle Daten der Person (Art. 15 DSGVO) mit Geburtsdatum und ob eine PIN gesetzt ist (nie die PIN), " +
      "Protokolle entschlüsselt, alle Anrufe mit Zugriffsprotokoll",
    query: ExportQuery,
    returns: "tom-person-export/1 (JSON, gestreamt); mit format=zip eine ZIP-Datei mit person.json und " +
      "recordings/<Anruf-ID>.wav (die Aufnahmen)",
  },
};

export const handler: Handlers = {
  GET(ctx) {
    return personExportResponse(ctx, query(ctx, ExportQuery).format, true);
  },
};
