/**
 * The Prometheus endpoint: off by default, behind METRICS_TOKEN when on, counters that move as a couple plays, and
 * nothing in it that names a session, a person or what they wrote.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { REDIS_URL } from "../support/env.ts";
import { createTestSession, playToEnd, redisTestPrefix, startTestServer, storeVariants } from "../support/server.ts";

const TOKEN = "metrics-token-for-tests-0123456789";
const variants = await storeVariants();
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

async function scrape(url: string, token = TOKEN): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.text() };
}

/** The value of one sample line (`name{labels} value`), or 0 when absent. */
function sample(body: string, name: string, labels = ""): number {
  const line = body.split("\n").find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ""} `));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("GET /metrics", () => {
  it("is off without METRICS_TOKEN, and refuses a wrong or missing token when on", async () => {
    const off = await startTestServer();
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
    const on = await startTestServer({ metricsToken: TOKEN });
    expect((await fetch(`${on.url}/metrics`)).status).toBe(401);
    expect((await scrape(on.url, "not-the-token-at-all-000")).status).toBe(401);
    const ok = await scrape(on.url);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("# TYPE attune_commands_total counter");
    expect(ok.body).toContain("nodejs_eventloop_lag_seconds");
  });

  it.each(variants)(
    "counts commands, refusals, store round trips and sockets during play ($name)",
    async ({ options }) => {
      const server = await startTestServer({ ...options(), metricsToken: TOKEN });
      const created = await createTestSession(server.url, {
        mode: "guided",
        channel: "typed",
        agenda: ["intentional-dialogue"],
        names: { a: "Maya", b: "Jordan" },
      });
      const a = await Participant.join(created.links.a);
      const b = await Participant.join(created.links.b);
      open.push(a, b);
      await Promise.all([a.waitFor((v) => v.presence.b), b.waitFor((v) => v.presence.a)]);
      const before = (await scrape(server.url)).body;
      expect(sample(before, "attune_connected_sockets")).toBe(2);

      const start = await a.send({ type: "start-exercise" });
      if (!start.ok) throw new Error(start.error.code);
      const secret = "a very private sentence for the metrics test";
      const refused = await a.send({ type: "post", text: secret });
      expect(refused.ok).toBe(false);
      const moves = await playToEnd(a, b);
      const after = (await scrape(server.url)).body;

      const applied = (body: string) =>
        body
          .split("\n")
          .filter((l) => l.startsWith("attune_commands_total{") && l.includes('code="OK"'))
          .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
      expect(applied(after) - applied(before)).toBe(moves.length + 1);
      expect(sample(after, "attune_commands_total", 'type="post",code="WRONG_STEP"')).toBe(1);
      expect(sample(after, "attune_command_duration_seconds_count", 'result="applied"')).toBeGreaterThanOrEqual(
        moves.length + 1,
      );
      expect(sample(after, "attune_store_call_duration_seconds_count", 'op="update",result="ok"')).toBeGreaterThan(
        sample(before, "attune_store_call_duration_seconds_count", 'op="update",result="ok"') + moves.length,
      );
      expect(sample(after, "attune_served_sessions")).toBe(1);
      // Nothing that names the session, its people, their links or their words.
      for (const leak of [created.id, "Maya", "Jordan", secret, created.links.a.split("/").pop()!]) {
        expect(after).not.toContain(leak);
      }
    },
  );

  it.runIf(variants.some((v) => v.name === "redis"))(
    "counts one fan-out message per applied command between two processes",
    async () => {
      const prefix = redisTestPrefix();
      const one = await startTestServer({ redisUrl: REDIS_URL, redisPrefix: prefix, metricsToken: TOKEN });
      const two = await startTestServer({ redisUrl: REDIS_URL, redisPrefix: prefix, metricsToken: TOKEN });
      const created = await createTestSession(one.url, { mode: "guided", channel: "typed", agenda: ["check-in"] });
      const a = await Participant.join(created.links.a);
      const b = await Participant.join(`${two.url}${new URL(created.links.b).pathname}`);
      open.push(a, b);
      await Promise.all([a.waitFor((v) => v.presence.b), b.waitFor((v) => v.presence.a)]);
      const fanouts = async () =>
        sample((await scrape(one.url)).body, "attune_fanout_messages_total") +
        sample((await scrape(two.url)).body, "attune_fanout_messages_total");
      const before = await fanouts();
      const start = await a.send({ type: "start-exercise" });
      if (!start.ok) throw new Error(start.error.code);
      const moves = await playToEnd(a, b);
      expect((await fanouts()) - before).toBe(moves.length + 1);
    },
  );
});
