/**
 * Attune on a real Redis Cluster of three masters that the suite starts itself: two processes serve one session
 * (partner A on one, B on the other) through the cluster — store and Streams adapter — and a restart of the shard
 * that holds the session mid-play loses no acknowledged command.
 */
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { type LocalCluster, startRedisCluster } from "../../scripts/lib/redis-cluster.ts";
import type { CommandAck, SessionView } from "../../shared/protocol.ts";
import { clusterToolsAvailable, requireService } from "../support/env.ts";
import { createTestSession, playToEnd, startTestServer } from "../support/server.ts";

const runs = requireService("redis-server and redis-cli (Redis Cluster suite)", clusterToolsAvailable());
const PREFIX = "attune-test:cluster-mp:";

function via(server: { url: string }, link: string): string {
  return `${server.url}${new URL(link).pathname}`;
}

const both = (v: SessionView) => v.presence.a && v.presence.b;

describe.runIf(runs)("Attune on a Redis Cluster", { timeout: 90_000 }, () => {
  let cluster: LocalCluster;
  const open: Participant[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  });
  afterEach(() => {
    for (const p of open.splice(0)) p.close();
  });
  afterAll(async () => {
    await cluster?.dispose();
  });

  async function twoProcesses() {
    const options = { redisClusterNodes: cluster.urls, redisPrefix: PREFIX, commandRate: 1000 };
    const one = await startTestServer(options);
    const two = await startTestServer(options);
    const created = await createTestSession(one.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue", "stress-reducing"],
    });
    const a = await Participant.join(created.links.a);
    const b = await Participant.join(via(two, created.links.b));
    open.push(a, b);
    await Promise.all([a.waitFor(both), b.waitFor(both)]);
    return { one, two, created, a, b };
  }

  it("two processes play a whole intentional dialogue through the cluster", async () => {
    const { a, b } = await twoProcesses();
    const start = await a.send({ type: "start-exercise", exerciseId: "intentional-dialogue" });
    if (!start.ok) throw new Error(start.error.code);
    const moves = await playToEnd(a, b);
    expect(new Set(moves.map((m) => m.seat))).toEqual(new Set(["a", "b"]));
    await Promise.all([a.waitForVersion(b.version), b.waitForVersion(a.version)]);
    expect(a.view.completed.map((c) => c.exerciseId)).toEqual(["intentional-dialogue"]);
    expect(a.view.transcript).toEqual(b.view.transcript);
    // What each built from updates is exactly a fresh snapshot.
    const heldA = a.view;
    expect(await a.resync()).toEqual(heldA);
  });

  it("the shard holding the session restarts mid-play: every acknowledged command is kept, exactly once", async () => {
    const { created, a, b } = await twoProcesses();
    const start = await a.send({ type: "start-exercise", exerciseId: "stress-reducing" });
    if (!start.ok) throw new Error(start.error.code);
    await Promise.all([a.waitForVersion(start.version), b.waitForVersion(start.version)]);

    // Which master holds the session's keys (they all share one slot).
    let holder = -1;
    for (const [i, url] of cluster.urls.entries()) {
      const admin = createClient({ url });
      admin.on("error", () => {});
      await admin.connect();
      // A master that does not own the slot answers MOVED.
      const owns = await admin.exists(`${PREFIX}s:{${created.id}}`).catch(() => 0);
      if (owns === 1) holder = i;
      await admin.close();
    }
    expect(holder).toBeGreaterThanOrEqual(0);

    const acked: string[] = [];
    let stop = false;
    /** Posts until told to stop; a refusal (the shard is away) is retried with the same id until it lands. */
    const writer = async (p: Participant, who: string) => {
      for (let i = 0; !stop; i++) {
        const text = `${who} line ${i}`;
        const id = `${who}-${i}-cluster`;
        for (;;) {
          let ack: CommandAck | undefined;
          try {
            ack = await p.send({ type: "post", text }, { id, timeoutMs: 2_000, attempts: 1 });
          } catch {
            ack = undefined;
          }
          if (ack?.ok) {
            acked.push(text);
            break;
          }
          // INTERNAL and OUTCOME_UNKNOWN (the shard went away mid-write) are answered by sending the same id again
          if (ack && ack.error.code !== "INTERNAL" && ack.error.code !== "OUTCOME_UNKNOWN") throw new Error(`${who}: ${ack.error.code} ${ack.error.message}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    };
    const writing = Promise.all([writer(a, "a"), writer(b, "b")]);
    await new Promise((r) => setTimeout(r, 500));
    const beforeRestart = acked.length;
    await cluster.restart(holder);
    await new Promise((r) => setTimeout(r, 1_000));
    stop = true;
    await writing;
    expect(beforeRestart).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(beforeRestart);

    const fresh = await a.resync();
    const posted = fresh.transcript.filter((t) => t.kind === "post").map((t) => t.text ?? "");
    expect([...posted].sort()).toEqual([...acked].sort());
    expect(new Set(posted).size).toBe(posted.length);
    await b.waitForVersion(fresh.version);
    expect(b.view.transcript).toEqual(fresh.transcript);
  });
});
