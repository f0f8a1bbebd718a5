import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { h } from "preact";
import { Island, ISLANDS } from "../../routes/_islands.ts";
import { collectIslands } from "../../ui/island.tsx";
import { buildIslands } from "../../ui/islands_build.ts";
import { ISLANDS_CACHE } from "../ui/_harness.ts";
import { ROOT } from "../_helpers.ts";

Deno.test("the island registry names exactly the files in islands/", () => {
  const files = [...Deno.readDirSync(`${ROOT}/islands`)].filter((e) => e.name.endsWith(".tsx")).map((e) =>
    e.name.slice(0, -4)
  ).sort();
  assert.deepEqual(Object.keys(ISLANDS).sort(), files);
});

Deno.test("an island renders on the server inside a marker with its JSON props and is recorded", () => {
  const props = {
    id: "t",
    title: "Stimmung",
    points: [{ label: "Mo 1.1.", score: 0.5, calls: 2, description: "Mo 1.1.: +0,50, 2 Anrufe" }],
    emptyText: "leer",
    tableCaption: "Tabelle",
    dayHeader: "Tag",
    scoreHeader: "Wert",
    callsHeader: "Anrufe",
  };
  const { result, islands } = collectIslands(() =>
    renderToString(h(Island, { name: "SentimentChart", props }))
  );
  assert.deepEqual(islands, ["SentimentChart"]);
  assert.match(result, /^<div data-island="SentimentChart" data-props="\{&quot;id&quot;:&quot;t&quot;/);
  assert.match(result, /aria-label="Mo 1.1.: \+0,50, 2 Anrufe"/);
});

Deno.test("props cannot break out of the marker attribute", () => {
  const evil = '"><script>alert(1)</script>';
  const html = renderToString(h(Island, {
    name: "LiveCalls",
    props: {
      eventsUrl: "/x",
      calls: [{ id: "1", who: evil, status: "s", since: "t" }],
      texts: {
        none: "",
        connecting: "",
        connected: "",
        disconnected: "",
        events: "",
        call: "",
        alerts: "",
        emergency: "",
        transfer: "",
        transferFailed: "",
        reasons: {},
        caller: { unknown: "", number_match: "", placed: "", verified: "" },
      },
    },
  }));
  assert.ok(!html.includes("<script>"));
});

Deno.test("deno bundle builds one module per island and a shared Preact chunk, cached by input hash", async () => {
  const m = await buildIslands({ root: ROOT, cacheDir: ISLANDS_CACHE });
  assert.deepEqual(Object.keys(m.entries).sort(), [
    "LiveCalls",
    "NewRequests",
    "RequestBadge",
    "SentimentChart",
    "TestCall",
    "TransferNotices",
    "pcm_capture-worklet",
  ]);
  assert.match(m.outputHash, /^[0-9a-f]{16}$/);
  assert.equal(m.imports.SentimentChart.length, 1, "the shared chunk");
  assert.deepEqual(m.imports["pcm_capture-worklet"], []);
  const again = await buildIslands({ root: ROOT, cacheDir: ISLANDS_CACHE });
  assert.equal(again.outputHash, m.outputHash);
});
