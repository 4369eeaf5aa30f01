/**
 * A flapping partner. Two processes on one Redis; partner a on process 1 keeps posting; partner b on process 2
 * loses its transport every FLAP_PERIOD_MS once connected and reconnects by itself (a bad network). Counted:
 * versions the flap added through presence, updates partner a received, errors; afterwards b stays, then leaves
 * for good, and a must see each within a bound.
 */
import { type ChaosContext, chaosPrefix, type Scenario } from "../context.ts";
import { freshTranscript, Http, Ledger, outcomeOf, postText, round, seatCouple, sendOnce } from "../couple.ts";
import { sleep, startAttune, startRedis } from "../procs.ts";
import type { Report } from "../report.ts";

/** b's transport is dropped this long after each (re)connect. */
export const FLAP_PERIOD_MS = 300;
/** Issue 9: brief disconnects do not flip presence, so a flap adds at most this many presence versions. */
export const MAX_FLAP_PRESENCE_VERSIONS = 0;
/** Issue 9: once b is back for good, a sees b online within this (ms). */
export const PRESENCE_ONLINE_BOUND_MS = 3000;
/** Issue 9: once b has left for good, a sees b offline within this (ms; the grace period included). */
export const PRESENCE_OFFLINE_BOUND_MS = 10_000;
const POST_PERIOD_MS = 500;

export const flapScenario: Scenario = {
  id: "flap",
  title: "3. A flapping partner (reconnecting every 300 ms)",
  async run(ctx: ChaosContext, report: Report) {
    const flapMs = ctx.quick ? 5000 : 15_000;
    const redis = await startRedis(false);
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: chaosPrefix("flap"), COMMANDS_PER_10S: "1000" };
    const [p1, p2] = await Promise.all([startAttune("process 1", env), startAttune("process 2", env)]);
    const http = new Http();
    const ledger = new Ledger();
    try {
      const { a, b, id, links } = await seatCouple(http, p1.url, p2.url, { reconnection: true });
      await sleep(500);
      const v0 = a.version;
      let updates = 0;
      let presenceFlips = 0;
      let lastB = a.view.presence.b;
      a.socket.on("update", () => {
        updates++;
      });
      // The view after each applied update: a presence flip is a change of b's presence in it.
      a.on("view", (view) => {
        if (view.presence.b !== lastB) presenceFlips++;
        lastB = view.presence.b;
      });
      const errors: string[] = [];
      b.socket.on("connect_error", (err) => errors.push(`connect_error ${err.message}`));
      b.on("notice", (n) => errors.push(`notice ${n.code}`));

      let flapping = true;
      let reconnects = 0;
      const posts = (async () => {
        let n = 0;
        while (flapping) {
          const text = postText("flap", "a", n++);
          const outcome = outcomeOf(await sendOnce(a, { type: "post", text }, { timeoutMs: 10_000 }));
          ledger.add(id, "a", text, performance.now(), outcome);
          if (outcome.kind !== "ok") errors.push(`a post ${outcome.kind === "refused" ? outcome.code : "no ack"}`);
          await sleep(POST_PERIOD_MS);
        }
      })();
      const flapEnd = performance.now() + flapMs;
      while (performance.now() < flapEnd) {
        const up = performance.now() + 5000;
        while (!b.connected && performance.now() < up) await sleep(10);
        if (!b.connected) {
          errors.push("b did not reconnect within 5 s");
          continue;
        }
        // b says something on each connection it gets, as a live client would.
        const text = postText("flap", "b", reconnects);
        void sendOnce(b, { type: "post", text }, { timeoutMs: 5000 }).then((ack) =>
          ledger.add(id, "b", text, performance.now(), outcomeOf(ack)),
        );
        await sleep(FLAP_PERIOD_MS);
        b.socket.io.engine.close();
        reconnects++;
      }
      flapping = false;
      await posts;
      ctx.log(`flap: ${reconnects} reconnects of b in ${flapMs} ms`);

      // b is back for good: a must see b online.
      const backAt = performance.now();
      let onlineMs: number | undefined;
      try {
        await b.waitFor(() => b.connected, 5000);
        await a.waitFor((v) => v.presence.b, PRESENCE_ONLINE_BOUND_MS + 5000);
        onlineMs = performance.now() - backAt;
      } catch {
        // stays undefined: not shown online
      }
      await sleep(1500);
      const v1 = a.version;
      const flapVersions = v1 - v0;
      const updatesDuringFlap = updates;
      const flipsDuringFlap = presenceFlips;

      // b leaves for good.
      b.close();
      const leftAt = performance.now();
      let offlineMs: number | undefined;
      try {
        await a.waitFor((v) => !v.presence.b, PRESENCE_OFFLINE_BOUND_MS + 5000);
        offlineMs = performance.now() - leftAt;
      } catch {
        // not shown offline
      }
      a.close();
      const transcript = await freshTranscript(p1.url, links.a);
      const verdict = ledger.verify(new Map([[id, transcript]]));
      // In a talk step only posts and presence move the version: what the posts do not explain is presence.
      const acked = transcript.filter((t) => t.v > v0 && t.v <= v1).length;
      const presenceVersions = flapVersions - acked;
      const errorKinds = new Map<string, number>();
      for (const e of errors) errorKinds.set(e, (errorKinds.get(e) ?? 0) + 1);

      report.table(
        `Partner b flapping for ${flapMs / 1000} s, partner a posting every ${POST_PERIOD_MS} ms`,
        [
          "reconnects",
          "versions added",
          "by commands",
          "by presence",
          "presence flips seen by a",
          "updates a received",
          "errors",
        ],
        [[reconnects, flapVersions, acked, presenceVersions, flipsDuringFlap, updatesDuringFlap, errors.length]],
      );
      report.table(
        "Presence once the flap is over",
        ["b back for good: a sees online (ms)", "b gone for good: a sees offline (ms)"],
        [[onlineMs === undefined ? "never" : round(onlineMs), offlineMs === undefined ? "never" : round(offlineMs)]],
      );
      report.figures.flap = {
        flapMs,
        flapPeriodMs: FLAP_PERIOD_MS,
        reconnects,
        flapVersions,
        ackedCommands: acked,
        presenceVersions,
        presenceFlipsSeenByA: flipsDuringFlap,
        updatesReceivedByA: updatesDuringFlap,
        errors: Object.fromEntries(errorKinds),
        onlineMs: onlineMs === undefined ? null : round(onlineMs),
        offlineMs: offlineMs === undefined ? null : round(offlineMs),
        bounds: { MAX_FLAP_PRESENCE_VERSIONS, PRESENCE_ONLINE_BOUND_MS, PRESENCE_OFFLINE_BOUND_MS },
        ...verdict,
      };
      report.invariant(
        "acked commands lost",
        verdict.ackedLost + verdict.duplicateVersions === 0,
        `${verdict.ackedLost} of ${verdict.ok} acked`,
      );
      report.invariant("applied twice", verdict.appliedTwice === 0, `${verdict.appliedTwice}`);
      report.invariant("refused-but-applied", verdict.refusedButApplied === 0, `${verdict.refusedButApplied}`);
      report.invariant("crashes", !p1.crash && !p2.crash, p1.crash || p2.crash ? "a process exited" : "none");
      report.invariant("5xx", http.errors.length === 0, `${http.errors.length}`);
      report.expectation(
        `presence versions during the flap <= ${MAX_FLAP_PRESENCE_VERSIONS}`,
        presenceVersions <= MAX_FLAP_PRESENCE_VERSIONS,
        `${presenceVersions} of ${flapVersions} versions (${round((100 * presenceVersions) / Math.max(1, flapVersions))}%), ${flipsDuringFlap} flips seen by a`,
      );
      report.expectation(
        "errors during the flap",
        errors.length === 0,
        [...errorKinds].map(([k, n]) => `${k}×${n}`).join(", ") || "none",
      );
      report.expectation(
        `b back for good shown online within ${PRESENCE_ONLINE_BOUND_MS} ms`,
        onlineMs !== undefined && onlineMs <= PRESENCE_ONLINE_BOUND_MS,
        onlineMs === undefined ? "never" : `${round(onlineMs)} ms`,
      );
      report.expectation(
        `b gone for good shown offline within ${PRESENCE_OFFLINE_BOUND_MS} ms`,
        offlineMs !== undefined && offlineMs <= PRESENCE_OFFLINE_BOUND_MS,
        offlineMs === undefined ? "never" : `${round(offlineMs)} ms`,
      );
      for (const e of verdict.examples) report.note(e);
    } finally {
      await Promise.all([p1.stop(), p2.stop()]);
      await redis.dispose();
    }
  },
};
