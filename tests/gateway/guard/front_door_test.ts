import assert from "node:assert/strict";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { loadConfig } from "../../../infra/config.ts";
import { createLogger } from "../../../infra/log.ts";
import {
  assertGatewayConfig,
  canonicalIp,
  createGuard,
  gatewayConfigProblems,
  isLoopbackHost,
  isLoopbackIp,
  parseCidr,
  parseIp,
  TokenBucket,
} from "../../../gateway/guard/mod.ts";
import { inCidr } from "../../../gateway/guard/ip.ts";
import { textSizeFor } from "../../../gateway/guard/bucket.ts";

function guardWith(env: Record<string, string> = {}, now?: () => number) {
  const config = loadConfig({ env, cwd: "/tmp" });
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ salt: "s", sink: (l) => lines.push(JSON.parse(l)) });
  const meter = new MeterProvider().getMeter("t");
  return { guard: createGuard(config, meter, log, now ? { now } : {}), lines, config };
}

Deno.test("IP parsing: IPv4, IPv6, IPv4-mapped IPv6, brackets and zones", () => {
  assert.equal(canonicalIp("127.0.0.1"), "127.0.0.1");
  assert.equal(canonicalIp("::ffff:127.0.0.1"), "127.0.0.1");
  assert.equal(canonicalIp("::FFFF:7f00:1"), "127.0.0.1");
  assert.equal(canonicalIp("[::1]"), "0:0:0:0:0:0:0:1");
  assert.equal(canonicalIp("fe80::1%eth0"), "fe80:0:0:0:0:0:0:1");
  for (
    const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", ":::", "1::2::3", "g::1", "1.2.3.4/8"]
  ) {
    assert.equal(parseIp(bad), undefined, bad);
  }
  assert.ok(isLoopbackIp("127.8.9.10") && isLoopbackIp("::1") && isLoopbackIp("::ffff:127.0.0.1"));
  assert.ok(!isLoopbackIp("10.0.0.1") && !isLoopbackIp("::") && !isLoopbackIp("0.0.0.0"));
  assert.ok(isLoopbackHost("localhost") && isLoopbackHost("127.0.0.1") && isLoopbackHost("[::1]"));
  assert.ok(!isLoopbackHost("0.0.0.0") && !isLoopbackHost("::") && !isLoopbackHost("tom.praxis.example"));
});

Deno.test("CIDR ranges match their own addresses, in both IPv4 spellings", () => {
  const lan = parseCidr("192.168.10.0/23");
  assert.ok(inCidr(parseIp("192.168.11.200") as Uint8Array, lan));
  assert.ok(inCidr(parseIp("::ffff:192.168.10.1") as Uint8Array, lan));
  assert.ok(!inCidr(parseIp("192.168.12.1") as Uint8Array, lan));
  const v6 = parseCidr("fd00::/8");
  assert.ok(inCidr(parseIp("fd12:3456::1") as Uint8Array, v6));
  assert.ok(!inCidr(parseIp("fe80::1") as Uint8Array, v6));
  assert.ok(inCidr(parseIp("8.8.8.8") as Uint8Array, parseCidr("0.0.0.0/0")));
  assert.throws(() => parseCidr("10.0.0.0/33"), /prefix .* must be 0-32/);
  assert.throws(() => parseCidr("::/129"), /must be 0-128/);
  assert.throws(() => parseCidr("10.0.0.0/8/8"), /Cannot parse address range/);
});

Deno.test("telephony transports accept only configured peers; browsers are not peer-checked", () => {
  const { guard, lines } = guardWith();
  assert.ok(guard.checkPeer("127.0.0.1", "freeswitch"));
  assert.ok(guard.checkPeer("::ffff:127.0.0.1", "twilio"));
  assert.ok(guard.checkPeer("::1", "audiosocket"));
  assert.ok(!guard.checkPeer("192.168.1.20", "freeswitch"));
  assert.ok(!guard.checkPeer(undefined, "chan_websocket"));
  assert.ok(guard.checkPeer("203.0.113.9", "browser"));
  const lan = guardWith({ TOM_GATEWAY_TELEPHONY_PEERS: "10.1.0.0/16,2001:db8::5" }).guard;
  assert.ok(lan.checkPeer("10.1.200.3", "freeswitch") && lan.checkPeer("2001:db8::5", "audiosocket"));
  assert.ok(!lan.checkPeer("127.0.0.1", "freeswitch"), "loopback is not implied once peers are configured");
  // Refusals are logged with a peer label, never the address.
  assert.ok(lines.some((l) => l.reason === "peer" && /^private:[0-9a-f]{10}$/.test(String(l.peer))));
  assert.ok(!JSON.stringify(lines).includes("192.168.1.20"));
});

Deno.test("a connection slot per address: the cap, release once, telephony counted apart", () => {
  const { guard } = guardWith({ TOM_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: "2" });
  const a = guard.connectionSlot("10.0.0.1", "browser");
  const b = guard.connectionSlot("::ffff:10.0.0.1", "browser");
  assert.ok(a && b);
  assert.equal(guard.connectionSlot("10.0.0.1", "browser"), undefined);
  assert.ok(guard.connectionSlot("10.0.0.2", "browser"), "another address has its own slots");
  assert.ok(guard.connectionSlot("10.0.0.1", "freeswitch"), "telephony has its own, larger cap");
  a();
  a(); // a second release gives nothing back twice
  const c = guard.connectionSlot("10.0.0.1", "browser");
  assert.ok(c);
  assert.equal(guard.connectionSlot("10.0.0.1", "browser"), undefined);
  assert.equal(guard.limits.telephonyConnectionsPerAddress, 1000);
});

Deno.test("token bucket: 120 messages at once, the 121st refused, refilled at 120 per second", () => {
  let t = 0;
  const { guard } = guardWith({}, () => t);
  const lim = guard.socketLimiter("browser");
  for (let i = 0; i < 120; i++) assert.equal(lim.admit(640), "ok", `message ${i + 1}`);
  assert.equal(lim.admit(640), "rate");
  t += 500; // half a second: 60 tokens back
  for (let i = 0; i < 60; i++) assert.equal(lim.admit(640), "ok");
  assert.equal(lim.admit(640), "rate");
  t += 20; // one 20 ms frame interval: 2.4 tokens
  assert.equal(lim.admit(640), "ok");
  assert.equal(lim.admit(640), "ok");
  assert.equal(lim.admit(640), "rate");
  // 50 frames a second forever is fine.
  for (let i = 0; i < 5000; i++) {
    t += 20;
    assert.equal(lim.admit(640), "ok");
  }
  assert.equal(lim.admit(65_537), "size");
  assert.equal(lim.maxBytes, 65_536);
  assert.throws(() => new TokenBucket(0), RangeError);
});

Deno.test("text size is measured in UTF-8 bytes, exactly only near the limit", () => {
  assert.equal(textSizeFor("abc", 100), 9); // a bound: 3 bytes a character at most
  assert.equal(textSizeFor("x".repeat(200), 100), 200);
  assert.equal(textSizeFor("€".repeat(40), 100), 120);
  assert.equal(textSizeFor("a".repeat(40), 100), 40);
});

Deno.test("Origin: none, own origin and allowed origins pass; foreign, null and non-http origins do not", () => {
  const { guard } = guardWith({ TOM_GATEWAY_ALLOWED_ORIGINS: "https://praxis.example,http://10.0.0.5:8080" });
  assert.ok(guard.checkOrigin(undefined, "127.0.0.1:8080"));
  assert.ok(guard.checkOrigin("", "127.0.0.1:8080"));
  assert.ok(guard.checkOrigin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  assert.ok(guard.checkOrigin("https://tom.local", "TOM.local:443"), "default ports and case normalised");
  assert.ok(guard.checkOrigin("https://praxis.example", "127.0.0.1:8080"));
  assert.ok(guard.checkOrigin("https://PRAXIS.example:443", "127.0.0.1:8080"));
  assert.ok(guard.checkOrigin("http://10.0.0.5:8080", "tom:8080"));
  assert.ok(!guard.checkOrigin("https://evil.example", "127.0.0.1:8080"));
  assert.ok(!guard.checkOrigin("https://praxis.example.evil.example", "127.0.0.1:8080"));
  assert.ok(!guard.checkOrigin("http://praxis.example", "127.0.0.1:8080"), "scheme is part of the origin");
  assert.ok(!guard.checkOrigin("null", "127.0.0.1:8080"));
  assert.ok(!guard.checkOrigin("file://", "127.0.0.1:8080"));
  assert.ok(!guard.checkOrigin("http://127.0.0.1:8081", "127.0.0.1:8080"));
  assert.ok(!guard.checkOrigin("http://127.0.0.1:8080", undefined));
});

Deno.test("unsafe gateway configuration is a start-up error naming the key", () => {
  const bypass = loadConfig({ env: { TOM_GATEWAY_DEV_BYPASS: "1", TOM_HTTP_HOST: "0.0.0.0" }, cwd: "/tmp" });
  assert.match(gatewayConfigProblems(bypass)[0], /^gateway.devBypass \(TOM_GATEWAY_DEV_BYPASS\)/);
  assert.throws(() => assertGatewayConfig(bypass), (e: Error) => e.name === "ConfigError");
  const loopback = loadConfig({ env: { TOM_GATEWAY_DEV_BYPASS: "1", TOM_HTTP_HOST: "::1" }, cwd: "/tmp" });
  assert.deepEqual(gatewayConfigProblems(loopback), []);
  const badPeer = loadConfig({ env: { TOM_GATEWAY_TELEPHONY_PEERS: "10.0.0.0/40" }, cwd: "/tmp" });
  assert.match(
    gatewayConfigProblems(badPeer)[0],
    /telephonyPeers .*"10.0.0.0\/40" is not an IP address or CIDR/,
  );
});
