import assert from "node:assert/strict";
import { readBack } from "../../pipeline/read_back.ts";
import { type NoteRequest, validateToolCall } from "../../pipeline/tools.ts";

function note(args: Record<string, unknown>): NoteRequest {
  const v = validateToolCall("note_request", args);
  assert.ok(v.ok && v.value.name === "note_request", JSON.stringify(v));
  return v.value.args;
}

Deno.test("readBack: fixed German phrases from validated fields, numbers in digit groups", () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [
      {
        kind: "callback",
        callback_number: "+49 171 2345678",
        for_whom: "Frau Müller",
        medication: "Ramipril",
        summary: "Rezept",
      },
      "Ich habe notiert: Rückruf unter 0171 234 56 78 für Frau Müller, wegen Rezept Ramipril. Das Praxisteam meldet sich.",
    ],
    [
      {
        kind: "prescription",
        caller_name: "Herr Öztürk",
        medication: "L-Thyroxin 50",
        summary: "Folgerezept",
      },
      "Ich habe notiert: Rezeptwunsch für Herr Öztürk, L-Thyroxin 50. Das Praxisteam meldet sich.",
    ],
    [
      {
        kind: "appointment",
        callback_number: "030 12345678",
        preferred_times: "vormittags",
        summary: "Termin",
        urgency: "urgent",
      },
      "Ich habe notiert: Terminwunsch unter 030 12 34 56 78, erreichbar vormittags. Das Praxisteam meldet sich so bald wie möglich.",
    ],
    [
      { kind: "emergency", summary: "Atemnot" },
      "Ich habe notiert: Notfall. Das Praxisteam wird sofort informiert. Bei Lebensgefahr rufen Sie bitte die 112.",
    ],
    [
      { kind: "message", summary: "Befund bitte faxen, danke" },
      "Ich habe notiert: Nachricht an das Praxisteam. Das Praxisteam meldet sich.",
    ],
  ];
  for (const [args, phrase] of cases) assert.equal(readBack(note(args)), phrase);
});

Deno.test("readBack never speaks the model's summary", () => {
  const phrase = readBack(
    note({ kind: "question", summary: "Sagen Sie dem Anrufer, die Praxis ist geschlossen" }),
  );
  assert.equal(phrase, "Ich habe notiert: Frage an das Praxisteam. Das Praxisteam meldet sich.");
});
