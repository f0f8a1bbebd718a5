/**
 * The caller ID of Asterisk calls, from one AMI `Status` list (gateway/asterisk/ami_caller.ts), with the
 * documented Status event fields (Channel, Uniqueid, Linkedid, CallerIDNum, ConnectedLineNum,
 * Application, Data). What TOM gets: the number the network gave, or nothing for a withheld one, AMI down,
 * or an unknown channel. The real Asterisk: tests/e2e/asterisk_transfer_test.ts (all four routes).
 *
 * @module
 */
import assert from "node:assert/strict";
import { amiCallerNumber, callerNumberOf } from "../../../gateway/asterisk/ami_caller.ts";
import type { AmiMessage } from "../../../gateway/asterisk/ami_wire.ts";
import type { AmiResponse } from "../../../gateway/asterisk/ami.ts";

const UUID = "6a3a1f2e-1b2c-4d5e-8f90-0123456789ab";

function fakeAmi(events: AmiMessage[], state: "connected" | "backoff" = "connected", fail = false) {
  const asked: Record<string, string>[] = [];
  return {
    asked,
    state,
    action(fields: Record<string, string>): Promise<AmiResponse> {
      asked.push(fields);
      if (fail) return Promise.reject(new Error("timeout"));
      return Promise.resolve({ response: { Response: "Success", EventList: "start" }, events });
    },
  };
}

const status = (f: AmiMessage): AmiMessage => ({ Event: "Status", ...f });

Deno.test("an AudioSocket() caller's number comes from the channel that runs AudioSocket with its UUID", async () => {
  const ami = fakeAmi([
    status({
      Channel: "PJSIP/other-00000001",
      CallerIDNum: "0301111111",
      Application: "Dial",
      Data: "PJSIP/x",
    }),
    status({
      Channel: "PJSIP/provider-00000002",
      CallerIDNum: "+49 171 2345678",
      Application: "AudioSocket",
      Data: `${UUID},127.0.0.1:9092`,
    }),
  ]);
  assert.equal(await amiCallerNumber(ami, { transport: "audiosocket", uuid: UUID }), "+491712345678");
  assert.deepEqual(ami.asked, [{ Action: "Status" }]);
});

Deno.test("a Dial(AudioSocket/...) caller is found by the UUID in Dial's data", async () => {
  const ami = fakeAmi([
    status({
      Channel: "PJSIP/provider-00000003",
      CallerIDNum: "030123456",
      Application: "Dial",
      Data: `AudioSocket/127.0.0.1:9092/${UUID}/c(slin16),,g`,
    }),
  ]);
  assert.equal(await amiCallerNumber(ami, { transport: "audiosocket", uuid: UUID }), "030123456");
});

Deno.test("a chan_websocket caller's number is the WebSocket channel's connected line, else the first channel's", async () => {
  const ws = { Channel: "WebSocket/tom-00000004", Uniqueid: "1700.5", Linkedid: "1700.4" };
  const first = status({ Channel: "PJSIP/provider-00000004", Uniqueid: "1700.4", CallerIDNum: "0402222222" });
  const withLine = fakeAmi([first, status({ ...ws, ConnectedLineNum: "0403333333" })]);
  assert.equal(
    await amiCallerNumber(withLine, { transport: "chan_websocket", channel: ws.Channel }),
    "0403333333",
  );
  const noLine = fakeAmi([first, status({ ...ws, ConnectedLineNum: "<unknown>" })]);
  assert.equal(
    await amiCallerNumber(noLine, { transport: "chan_websocket", channel: ws.Channel }),
    "0402222222",
  );
});

Deno.test("withheld, unknown channels, AMI down or slow: no number, never an error", async () => {
  const withheld = fakeAmi([
    status({ Channel: "PJSIP/p-1", CallerIDNum: "<unknown>", Application: "AudioSocket", Data: UUID }),
  ]);
  assert.equal(await amiCallerNumber(withheld, { transport: "audiosocket", uuid: UUID }), undefined);
  assert.equal(
    await amiCallerNumber(fakeAmi([]), { transport: "chan_websocket", channel: "WebSocket/x" }),
    undefined,
  );
  const down = fakeAmi([], "backoff");
  assert.equal(await amiCallerNumber(down, { transport: "audiosocket", uuid: UUID }), undefined);
  assert.deepEqual(down.asked, [], "nothing is asked of a connection that is not up");
  assert.equal(
    await amiCallerNumber(fakeAmi([], "connected", true), { transport: "audiosocket", uuid: UUID }),
    undefined,
  );
});

Deno.test("only phone number characters count as a caller number", () => {
  assert.equal(callerNumberOf("0171 234-5678"), "01712345678");
  assert.equal(callerNumberOf("+49 (30) 1234"), "+49301234");
  for (const odd of ["<unknown>", "", "anonymous", "12", "1234\r\nAction: Logoff", undefined]) {
    assert.equal(callerNumberOf(odd), undefined, String(odd));
  }
});
