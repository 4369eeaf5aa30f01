/**
 * kill -9 of a node under load. Two Attune processes on one Redis; couples play with one partner on each process
 * (both ways round) posting typed messages; process 2 is killed with SIGKILL mid-load and its clients join the
 * survivor with the same link, resending an unacknowledged command with the same id. Some partners on process 2
 * do not come back (their phone is gone): the survivor must show them offline within a bound.
 */
import { type ChaosContext, chaosPrefix, type Scenario } from "../context.ts";
import {
  freshTranscript,
  Http,
  Ledger,
  outcomeOf,
  percentile,
  postText,
  RoamingSeat,
  round,
  seatCouple,
} from "../couple.ts";
import { sleep, startAttune, startRedis } from "../procs.ts";
import type { Report } from "../report.ts";

/** Issue 9: a seat whose process died shows offline on every surviving process within this bound (ms). */
export const PRESENCE_HEAL_BOUND_MS = 10_000;
/** Each partner posts this often (ms); the rate limit is raised so it is not what is measured. */
const LOAD_PERIOD_MS = 250;

export const killScenario: Scenario = {
  id: "kill",
  title: "1. kill -9 of a node under load (two processes, one Redis)",
  async run(ctx: ChaosContext, report: Report) {
    const couplesN = ctx.quick ? 4 : 12;
    const abandonedN = ctx.quick ? 1 : 3;
    const warmMs = ctx.quick ? 2000 : 4000;
    const afterMs = ctx.quick ? 5000 : 8000;

    const redis = await startRedis(false);
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: chaosPrefix("kill"), COMMANDS_PER_10S: "1000" };
    const [p1, p2] = await Promise.all([startAttune("process 1", env), startAttune("process 2", env)]);
    const http = new Http();
    const ledger = new Ledger();
    const seats: RoamingSeat[] = [];
    const couples: { id: string; link: string }[] = [];
    const watched: { a: RoamingSeat; healedMs?: number }[] = [];
    const gone: { close(): void }[] = [];
    try {
      for (let i = 0; i < couplesN; i++) {
        const [oa, ob] = i % 2 === 0 ? [p1.url, p2.url] : [p2.url, p1.url];
        const c = await seatCouple(http, oa, ob, { reconnection: false });
        couples.push({ id: c.id, link: c.links.a });
        // Clients of a dead process land on the survivor (what a load balancer would do).
        seats.push(
          new RoamingSeat(c.a, "a", c.links.a, () => p1.url),
          new RoamingSeat(c.b, "b", c.links.b, () => p1.url),
        );
      }
      for (let i = 0; i < abandonedN; i++) {
        const c = await seatCouple(http, p1.url, p2.url, { reconnection: false });
        couples.push({ id: c.id, link: c.links.a });
        const a = new RoamingSeat(c.a, "a", c.links.a, () => p1.url);
        seats.push(a);
        watched.push({ a });
        gone.push(c.b);
      }
      ctx.log(`kill: ${couples.length} couples seated, ${seats.length} seats posting every ${LOAD_PERIOD_MS} ms`);

      let running = true;
      const sessionOf = new Map(seats.map((s) => [s, s.current.view.id]));
      const loops = seats.map(async (seat, i) => {
        let n = 0;
        await sleep((i * 37) % LOAD_PERIOD_MS);
        while (running) {
          const text = postText("kill", seat.seat, n++);
          const sentAt = performance.now();
          const ack = await seat.send({ type: "post", text });
          ledger.add(sessionOf.get(seat)!, seat.seat, text, sentAt, outcomeOf(ack));
          await sleep(LOAD_PERIOD_MS);
        }
      });

      await sleep(warmMs);
      const killedAt = performance.now();
      await p2.kill9();
      ctx.log("kill: process 2 killed (SIGKILL)");

      let healthFailures = 0;
      const probes = (async () => {
        while (running) {
          if (!(await http.healthy(p1.url))) healthFailures++;
          await sleep(500);
        }
      })();
      const presence = Promise.all(
        watched.map(async (w) => {
          const end = killedAt + PRESENCE_HEAL_BOUND_MS + 2000;
          while (performance.now() < end) {
            if (!w.a.current.view.presence.b) {
              w.healedMs = performance.now() - killedAt;
              return;
            }
            await sleep(100);
          }
        }),
      );
      await sleep(afterMs);
      running = false;
      await Promise.all([...loops, probes, presence]);

      const reasons = new Map<string, number>();
      for (const s of seats) for (const d of s.drops) reasons.set(d, (reasons.get(d) ?? 0) + 1);
      ctx.log(`kill: connections ended: ${[...reasons].map(([r, n]) => `${r}×${n}`).join(", ")}`);
      const moved = seats.filter((s) => s.drops.length > 0);
      const resumes = seats.flatMap((s) => s.resumes);
      // One seat per couple was on the killed process; each must have resumed on the survivor.
      const resumedSeats = seats.filter((s) => s.resumes.length > 0).length;
      const stuck = Math.max(couplesN - resumedSeats, moved.filter((s) => s.resumes.length === 0).length);
      // The seats leave before the transcripts are read: a fresh join would take their seat over.
      for (const s of [...seats, ...gone]) s.close();
      const transcripts = new Map<string, Awaited<ReturnType<typeof freshTranscript>>>();
      for (const c of couples) transcripts.set(c.id, await freshTranscript(p1.url, c.link));
      const verdict = ledger.verify(transcripts);
      const healed = watched.filter((w) => w.healedMs !== undefined && w.healedMs <= PRESENCE_HEAL_BOUND_MS);

      report.table(
        "Commands (typed posts) through the kill",
        [
          "couples",
          "sent",
          "acked ok",
          "refused",
          "no ack",
          "acked lost",
          "applied twice",
          "refused-but-applied",
          "crashes",
          "5xx",
        ],
        [
          [
            couples.length,
            verdict.sent,
            verdict.ok,
            verdict.refused,
            verdict.noack,
            verdict.ackedLost + verdict.duplicateVersions,
            verdict.appliedTwice,
            verdict.refusedButApplied,
            p1.crash ? 1 : 0,
            http.errors.length,
          ],
        ],
      );
      report.table(
        "Resume of each client of the killed process (disconnect → fresh snapshot on the survivor, ms)",
        ["clients", "resumed", "p50", "p95", "max", "join attempts refused"],
        [
          [
            couplesN,
            resumedSeats,
            round(percentile(resumes, 50)),
            round(percentile(resumes, 95)),
            round(resumes.length ? Math.max(...resumes) : Number.NaN),
            seats.reduce((n, s) => n + s.failures.length, 0),
          ],
        ],
      );
      report.table(
        `Presence of partners who never came back (bound ${PRESENCE_HEAL_BOUND_MS} ms)`,
        ["partner", "shown offline after (ms)"],
        watched.map((w, i) => [
          `abandoned b #${i + 1}`,
          w.healedMs === undefined ? "never (still online)" : round(w.healedMs),
        ]),
      );
      const refusedCodes =
        Object.entries(verdict.refusedByCode)
          .map(([c, n]) => `${c}×${n}`)
          .join(", ") || "none";
      report.figures.kill = {
        couples: couples.length,
        ...verdict,
        resumesMs: resumes.map((r) => round(r)),
        presenceHealMs: watched.map((w) => (w.healedMs === undefined ? null : round(w.healedMs))),
        presenceHealBoundMs: PRESENCE_HEAL_BOUND_MS,
        healthFailures,
        http5xx: http.errors,
        survivorErrorLogs: p1.errorCount(),
      };

      report.invariant(
        "acked commands lost",
        verdict.ackedLost + verdict.duplicateVersions === 0,
        `${verdict.ackedLost} missing, ${verdict.duplicateVersions} versions acked twice, of ${verdict.ok} acked`,
      );
      report.invariant("applied twice", verdict.appliedTwice === 0, `${verdict.appliedTwice}`);
      report.invariant(
        "refused-but-applied",
        verdict.refusedButApplied === 0,
        `${verdict.refusedButApplied} of ${verdict.refused} refused`,
      );
      report.invariant("survivor crashed", p1.crash === null, p1.crash ? `exited ${JSON.stringify(p1.crash)}` : "no");
      report.invariant(
        "HTTP 5xx",
        http.errors.length === 0 && healthFailures === 0,
        `${http.errors.length} 5xx, ${healthFailures} failed /healthz`,
      );
      report.invariant(
        "every client of the killed process resumed",
        stuck === 0,
        `${couplesN - stuck} of ${couplesN} resumed`,
      );
      report.expectation("legal posts refused", verdict.refused === 0, refusedCodes);
      report.expectation(
        `presence heals within ${PRESENCE_HEAL_BOUND_MS} ms`,
        healed.length === watched.length,
        `${healed.length} of ${watched.length} partners shown offline in time`,
      );
      if (p1.errorCount() > 0)
        report.note(`survivor logged ${p1.errorCount()} error lines: ${p1.errorLines.slice(0, 3).join(" | ")}`);
      for (const e of verdict.examples) report.note(e);
    } finally {
      for (const s of [...seats, ...gone]) s.close();
      const code = await p1.stop();
      if (code !== 0) report.note(`survivor exit code on SIGTERM: ${code}`);
      await p2.kill9();
      await redis.dispose();
    }
  },
};
