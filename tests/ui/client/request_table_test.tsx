/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The one table of "Anliegen" (the server's inbox and the island's new rows): head, the urgent class,
// German kind with "(dringend)", the missing caller, the shortened summary, and the page's date format
// (Europe/Berlin, no seconds) whichever side renders it.
import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { dateTime, RequestTable, type RequestTableTexts } from "../../../ui/client/mod.ts";
import { dateTime as serverDateTime, T } from "../../../ui/mod.ts";

const TEXTS: RequestTableTexts = {
  created: T.requests.created,
  kind: T.requests.kind,
  caller: T.requests.caller,
  summary: T.requests.summary,
  status: T.requests.status,
  urgent: T.requests.urgent,
  none: T.app.none,
  kinds: T.requests.kinds,
  statuses: T.requests.statuses,
};
const AT = Date.UTC(2026, 0, 1, 8, 5, 42);

Deno.test("the requests table: head, urgent rows, German kinds and statuses, one date format", () => {
  const html = renderToString(
    <RequestTable
      testId="requests-new"
      texts={TEXTS}
      rows={[
        {
          id: "a",
          kind: "emergency",
          urgency: "normal",
          createdAt: AT,
          callerName: "Nora",
          summary: "Atemnot",
          status: "open",
        },
        {
          id: "b/c",
          kind: "callback",
          urgency: "urgent",
          createdAt: null,
          callerName: "",
          summary: "x".repeat(121),
          status: "in_progress",
        },
      ]}
    />,
  );
  assert.match(html, /^<table data-testid="requests-new"><thead><tr><th scope="col">Eingegangen<\/th>/);
  assert.match(
    html,
    /<tr data-request="a" class="urgent"><td><a href="\/requests\/a">01\.01\.2026, 09:05<\/a><\/td><td>Notfall<\/td><td>Nora<\/td><td>Atemnot<\/td><td>offen<\/td><\/tr>/,
  );
  assert.match(html, /<tr data-request="b\/c" class="urgent"><td><a href="\/requests\/b%2Fc">–<\/a>/);
  assert.match(html, /<td>Rückruf<strong> \(dringend\)<\/strong><\/td><td>–<\/td>/);
  assert.match(html, new RegExp(`<td>${"x".repeat(120)}…</td><td>in Bearbeitung</td>`));
});

Deno.test("a normal request has no urgent class; the server's dateTime is the islands' dateTime", () => {
  const html = renderToString(
    <RequestTable
      testId="requests"
      texts={TEXTS}
      rows={[{
        id: "n",
        kind: "message",
        urgency: "normal",
        createdAt: AT,
        callerName: "Otto",
        summary: "kurz",
        status: "done",
      }]}
    />,
  );
  assert.match(html, /<tr data-request="n"><td>/);
  assert.ok(!html.includes("dringend"));
  assert.equal(serverDateTime, dateTime);
  assert.equal(dateTime(Date.UTC(2026, 6, 1, 8, 5)), "01.07.2026, 10:05", "summer time in Berlin");
  assert.equal(dateTime(Number.NaN), "–");
});
