/**
 * A rolling restart behind nginx loses nothing: while several couples play (headless participants through nginx,
 * half starting on long-polling like browsers, half on websockets), each node is stopped gracefully (SIGTERM) and
 * started again in turn. Every acknowledged command is in the final state exactly once, every client reconnects
 * by itself, and no partner sees a refusal or a notice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextMove } from "../../client/headless/bot.ts";
import { Participant } from "../../client/headless/participant.ts";
import type { SessionView } from "../../shared/protocol.ts";
import { REDIS_URL, redisAvailable, requireService } from "../support/env.ts";
import { type AttuneCluster, nginxAvailable, startAttuneCluster } from "../support/nginx.ts";
import { createTestSession, redisTestPrefix } from "../support/server.ts";
import { buildClient } from "../support/browser.ts";

const runs = requireService("Redis", await redisAvailable()) && requireService("nginx", nginxAvailable());
const COUPLES = 4;
/** Generous waits: a partner may be between nodes while its node restarts. */
const WAIT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const both = (v: SessionView) => v.presence.a && v.presence.b;

interface Couple {
  id: string;
  a: Participant;
  b: Participant;
  /** Texts of the acknowledged `say` commands, in order. */
  said: string[];
  acked: number;
  problems: string[];
  /** How often each seat's socket was dropped. */
  disconnects: { a: number; b: number };
}

/**
 * Plays moves until `stop()`: the seat whose move it is sends it, and the next move waits until both partners
 * have seen the acknowledged version. "Not quite" at every check keeps the dialogue going round.
 */
async function play(couple: Couple, stopped: () => boolean): Promise<void> {
  const { a, b } = couple;
  for (let n = 0; !stopped(); n++) {
    const mover = [a, b].find((p) => nextMove(p.view) !== null);
    if (!mover) {
      couple.problems.push(`nobody can move at ${a.view.exercise?.step.id ?? a.view.phase}`);
      return;
    }
    const text = `${couple.id} ${mover.seat} move ${n}`;
    const command = nextMove(mover.view, {
      textFor: () => text,
      choose: (step) => (step.options?.some((o) => o.id === "not-quite") ? "not-quite" : step.options![0]!.id),
    })!;
    let ack: Awaited<ReturnType<Participant["send"]>>;
    try {
      ack = await mover.send(command, { attempts: 6 });
    } catch (err) {
      couple.problems.push(`${mover.seat} ${command.type}: ${(err as Error).message}`);
      return;
    }
    if (!ack.ok) {
      couple.problems.push(`${mover.seat} ${command.type} refused: ${ack.error.code} ${ack.error.message}`);
      return;
    }
    couple.acked++;
    if (command.type === "say") couple.said.push(text);
    try {
      await Promise.all([a.waitForVersion(ack.version, WAIT_MS), b.waitForVersion(ack.version, WAIT_MS)]);
    } catch (err) {
      couple.problems.push((err as Error).message);
      return;
    }
    await sleep(40);
  }
}

describe.runIf(runs)("rolling restart behind nginx", { timeout: 120_000 }, () => {
  let cluster: AttuneCluster;
  const couples: Couple[] = [];
  beforeAll(async () => {
    buildClient();
    cluster = await startAttuneCluster({
      REDIS_URL,
      REDIS_PREFIX: redisTestPrefix("attune-rolling"),
      COMMANDS_PER_10S: "1000",
      LOG_LEVEL: "warn",
    });
  }, 90_000);
  afterAll(async () => {
    for (const c of couples) {
      c.a.close();
      c.b.close();
    }
    await cluster?.stop();
  });

  it("restarts each node in turn while couples play: nothing acknowledged is lost, everyone resumes", async () => {
    const { nginx } = cluster;
    for (let i = 0; i < COUPLES; i++) {
      const created = await createTestSession(nginx.url, {
        mode: "guided",
        channel: "typed",
        agenda: ["intentional-dialogue"],
      });
      // Half start like a browser (long-polling, then the upgrade), half on the websocket straight away.
      const transports = i % 2 === 0 ? ["polling", "websocket"] : ["websocket"];
      const a = await Participant.join(created.links.a, { transports });
      const b = await Participant.join(created.links.b, { transports });
      const couple: Couple = { id: `c${i}`, a, b, said: [], acked: 0, problems: [], disconnects: { a: 0, b: 0 } };
      for (const p of [a, b]) {
        p.on("notice", (notice) => couple.problems.push(`${p.seat} notice ${notice.code}`));
        p.on("disconnect", () => couple.disconnects[p.seat as "a" | "b"]++);
      }
      couples.push(couple);
      await Promise.all([a.waitFor(both), b.waitFor(both)]);
      const start = await a.send({ type: "start-exercise" });
      if (!start.ok) throw new Error(`start refused: ${start.error.code}`);
      await Promise.all([a.waitForVersion(start.version), b.waitForVersion(start.version)]);
    }

    let stop = false;
    const playing = couples.map((c) => play(c, () => stop));
    await sleep(1500);
    for (let node = 0; node < cluster.nodes.length; node++) {
      const exit = await cluster.restart(node);
      expect(exit.code).toBe(0);
      // Play on for a while with the restarted node back in rotation.
      await sleep(1500);
    }
    stop = true;
    await Promise.all(playing);

    for (const c of couples) {
      expect(c.problems, c.id).toEqual([]);
      expect(c.acked, c.id).toBeGreaterThan(10);
      // Every partner was dropped at least once (its node restarted) and came back by itself.
      for (const p of [c.a, c.b]) {
        expect(c.disconnects[p.seat as "a" | "b"], `${c.id} ${p.seat}`).toBeGreaterThanOrEqual(1);
        expect(p.connected, `${c.id} ${p.seat}`).toBe(true);
      }
      // Both partners agree on the state, and it holds every acknowledged text exactly once.
      const [va, vb] = await Promise.all([c.a.resync(), c.b.resync()]);
      expect(va.version).toBe(vb.version);
      const texts = va.transcript.map((t) => t.text);
      expect(vb.transcript.map((t) => t.text)).toEqual(texts);
      for (const text of c.said)
        expect(
          texts.filter((t) => t === text),
          `${c.id}: ${text}`,
        ).toHaveLength(1);
    }
  });
});
