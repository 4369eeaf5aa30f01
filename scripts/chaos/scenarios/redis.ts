/**
 * Redis down for 5 s and back, under load from couples spread over two Attune processes:
 *   hang      no persistence; redis-server SIGSTOPped (every connection open, nothing answers), then SIGCONT;
 *   cut       no persistence; the TCP link to Redis is cut (connections dropped, new ones refused), then restored;
 *   restart   AOF persistence (fsync always); redis-server killed with SIGKILL and started again on the same port.
 * Each partner keeps posting (one command at a time, never retried, so every ack is a verdict on that command).
 */
import type { Participant } from "../../../client/headless/participant.ts";
import { type ChaosContext, chaosPrefix, type Scenario } from "../context.ts";
import {
  freshTranscript,
  Http,
  Ledger,
  type Outcome,
  outcomeOf,
  percentile,
  postText,
  round,
  seatCouple,
  sendOnce,
} from "../couple.ts";
import {
  type AttuneHandle,
  type RedisHandle,
  sleep,
  startAttune,
  startProxy,
  startRedis,
  type TcpProxy,
} from "../procs.ts";
import type { Report } from "../report.ts";

/** How long Redis is away. */
const OUTAGE_MS = 5000;
/** Issue 9 / operations: commands succeed again this soon after Redis is back (ms). */
export const REDIS_RECOVERY_BOUND_MS = 5000;
const LOAD_PERIOD_MS = 200;
/** An ack must come within this; the store gives up on Redis after 5 s, so this is ample. */
const ACK_TIMEOUT_MS = 12_000;

type Mode = "hang" | "cut" | "restart";
const MODE_LABEL: Record<Mode, string> = {
  hang: "hung (SIGSTOP/SIGCONT), no persistence",
  cut: "unreachable (link cut), no persistence",
  restart: "killed and restarted, AOF persistence",
};

interface Sent {
  seat: Participant;
  sentAt: number;
  ackAt: number;
  outcome: Outcome;
}

interface OutageResult {
  mode: Mode;
  sent: number;
  ok: number;
  during: Record<string, number>;
  after: Record<string, number>;
  ackedLost: number;
  appliedTwice: number;
  refusedButApplied: number;
  refusedButAppliedByCode: Record<string, number>;
  noackApplied: number;
  recoveryMs: number[];
  unrecovered: number;
  readyz503: number;
  healthFailures: number;
  drops: number;
  crashes: string[];
  http5xx: string[];
  errorLogs: number;
  examples: string[];
}

async function outage(
  ctx: ChaosContext,
  mode: Mode,
  procs: AttuneHandle[],
  fault: { start(): Promise<void> | void; end(): Promise<void> | void },
): Promise<OutageResult> {
  const couplesN = ctx.quick ? 2 : 4;
  const http = new Http();
  const ledger = new Ledger();
  const couples = [];
  for (let i = 0; i < couplesN; i++) {
    const [x, y] = i % 2 === 0 ? [procs[0]!, procs[1]!] : [procs[1]!, procs[0]!];
    couples.push(await seatCouple(http, x.url, y.url, { reconnection: true }));
  }
  const participants = couples.flatMap((c) => [c.a, c.b]);
  let drops = 0;
  let running = true;
  for (const p of participants) {
    p.on("disconnect", () => {
      if (running) drops++;
    });
  }
  const sent: Sent[] = [];
  const loops = participants.map(async (p, i) => {
    let n = 0;
    await sleep((i * 29) % LOAD_PERIOD_MS);
    while (running) {
      if (!p.connected) {
        await sleep(50);
        continue;
      }
      const seat = p.seat as "a" | "b";
      const text = postText(mode, seat, n++);
      const sentAt = performance.now();
      const outcome = outcomeOf(await sendOnce(p, { type: "post", text }, { timeoutMs: ACK_TIMEOUT_MS }));
      sent.push({ seat: p, sentAt, ackAt: performance.now(), outcome });
      ledger.add(p.view.id, seat, text, sentAt, outcome);
      await sleep(LOAD_PERIOD_MS);
    }
  });

  await sleep(ctx.quick ? 1500 : 2500);
  const outageStart = performance.now();
  await fault.start();
  ctx.log(`redis/${mode}: Redis is away`);
  let readyz503 = 0;
  let healthFailures = 0;
  let probing = true;
  const probes = (async () => {
    while (probing) {
      for (const proc of procs) {
        if (!(await http.healthy(proc.url))) healthFailures++;
        const ready = await http.fetch(`${proc.url}/readyz`).catch(() => null);
        if (ready?.status === 503) readyz503++;
      }
      await sleep(250);
    }
  })();
  await sleep(OUTAGE_MS - (performance.now() - outageStart));
  await fault.end();
  const outageEnd = performance.now();
  ctx.log(`redis/${mode}: Redis is back`);

  // Until every partner has had a command accepted that it sent after Redis came back (or 30 s).
  const recovered = () =>
    participants.every((p) => sent.some((s) => s.seat === p && s.sentAt >= outageEnd && s.outcome.kind === "ok"));
  const deadline = outageEnd + 30_000;
  while (!recovered() && performance.now() < deadline) await sleep(100);
  await sleep(1500);
  running = false;
  probing = false;
  await Promise.all([...loops, probes]);

  const recoveryMs: number[] = [];
  let unrecovered = 0;
  for (const p of participants) {
    const first = sent.find((s) => s.seat === p && s.sentAt >= outageEnd && s.outcome.kind === "ok");
    if (first) recoveryMs.push(first.ackAt - outageEnd);
    else unrecovered++;
  }
  const tally = (pick: (s: Sent) => boolean) => {
    const out: Record<string, number> = {};
    for (const s of sent.filter(pick)) {
      const key = s.outcome.kind === "ok" ? "ok" : s.outcome.kind === "noack" ? "no ack" : s.outcome.code;
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  };
  for (const p of participants) p.close();
  const transcripts = new Map();
  for (const c of couples) transcripts.set(c.id, await freshTranscript(procs[0]!.url, c.links.a));
  const verdict = ledger.verify(transcripts);
  return {
    mode,
    sent: verdict.sent,
    ok: verdict.ok,
    // In flight at any moment of the outage (sent before it and answered during it included).
    during: tally((s) => s.ackAt >= outageStart && s.sentAt < outageEnd),
    after: tally((s) => s.sentAt >= outageEnd),
    ackedLost: verdict.ackedLost + verdict.duplicateVersions,
    appliedTwice: verdict.appliedTwice,
    refusedButApplied: verdict.refusedButApplied,
    refusedButAppliedByCode: verdict.refusedButAppliedByCode,
    noackApplied: verdict.noackApplied,
    recoveryMs,
    unrecovered,
    readyz503,
    healthFailures,
    drops,
    crashes: procs.filter((p) => p.crash).map((p) => `${p.name} ${JSON.stringify(p.crash)}`),
    http5xx: http.errors,
    errorLogs: procs.reduce((n, p) => n + p.errorCount(), 0),
    examples: verdict.examples,
  };
}

const codes = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([c, n]) => `${c}×${n}`)
    .join(", ") || "none";

export const redisScenario: Scenario = {
  id: "redis",
  title: "2. Redis down for 5 s and back (two processes)",
  async run(ctx: ChaosContext, report: Report) {
    const results: OutageResult[] = [];
    const cleanup: (() => Promise<unknown>)[] = [];
    try {
      // Without persistence: the same Redis, reached through a proxy so the link can be cut as well.
      const volatile: RedisHandle = await startRedis(false);
      cleanup.push(() => volatile.dispose());
      const proxy: TcpProxy = await startProxy(volatile.port);
      cleanup.push(() => proxy.close());
      const envA = {
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        REDIS_PREFIX: chaosPrefix("redis"),
        COMMANDS_PER_10S: "1000",
      };
      const groupA = await Promise.all([startAttune("process 1", envA), startAttune("process 2", envA)]);
      cleanup.unshift(() => Promise.all(groupA.map((p) => p.stop())));
      results.push(await outage(ctx, "hang", groupA, { start: () => volatile.hang(), end: () => volatile.resume() }));
      results.push(await outage(ctx, "cut", groupA, { start: () => proxy.cut(), end: () => proxy.restore() }));

      const durable = await startRedis(true);
      cleanup.push(() => durable.dispose());
      const envB = { REDIS_URL: durable.url, REDIS_PREFIX: chaosPrefix("redis-aof"), COMMANDS_PER_10S: "1000" };
      const groupB = await Promise.all([startAttune("process 3", envB), startAttune("process 4", envB)]);
      cleanup.unshift(() => Promise.all(groupB.map((p) => p.stop())));
      results.push(await outage(ctx, "restart", groupB, { start: () => durable.kill(), end: () => durable.start() }));
    } finally {
      for (const step of cleanup) await step().catch(() => {});
    }

    report.table(
      "Commands (typed posts) around a 5 s Redis outage",
      [
        "Redis",
        "sent",
        "acked ok",
        "acked lost",
        "refused-but-applied",
        "crashes",
        "5xx",
        "socket drops",
        "error logs",
      ],
      results.map((r) => [
        MODE_LABEL[r.mode],
        r.sent,
        r.ok,
        r.ackedLost,
        r.refusedButApplied,
        r.crashes.length,
        r.http5xx.length + r.healthFailures,
        r.drops,
        r.errorLogs,
      ]),
    );
    report.table(
      "Outcomes of commands sent during the outage, and recovery",
      ["Redis", "during the outage", "after it", "/readyz 503 seen", "recovered (ms) p50 / max", "not recovered"],
      results.map((r) => [
        MODE_LABEL[r.mode],
        codes(r.during),
        codes(r.after),
        r.readyz503,
        `${round(percentile(r.recoveryMs, 50))} / ${round(r.recoveryMs.length ? Math.max(...r.recoveryMs) : Number.NaN)}`,
        r.unrecovered,
      ]),
    );
    report.figures.redis = { outageMs: OUTAGE_MS, recoveryBoundMs: REDIS_RECOVERY_BOUND_MS, results };
    for (const r of results) {
      const label = r.mode;
      report.invariant(`${label}: acked commands lost`, r.ackedLost === 0, `${r.ackedLost} of ${r.ok} acked`);
      report.invariant(`${label}: applied twice`, r.appliedTwice === 0, `${r.appliedTwice}`);
      report.invariant(
        `${label}: refused-but-applied`,
        r.refusedButApplied === 0,
        `${r.refusedButApplied} (${codes(r.refusedButAppliedByCode)})`,
      );
      report.invariant(`${label}: crashes`, r.crashes.length === 0, r.crashes.join("; ") || "none");
      report.invariant(
        `${label}: 5xx and /healthz`,
        r.http5xx.length === 0 && r.healthFailures === 0,
        `${r.http5xx.length} 5xx, ${r.healthFailures} failed /healthz`,
      );
      const maxRecovery = r.recoveryMs.length ? Math.max(...r.recoveryMs) : Number.POSITIVE_INFINITY;
      report.expectation(
        `${label}: commands succeed within ${REDIS_RECOVERY_BOUND_MS} ms of Redis' return`,
        r.unrecovered === 0 && maxRecovery <= REDIS_RECOVERY_BOUND_MS,
        `slowest partner ${round(maxRecovery)} ms, ${r.unrecovered} never`,
      );
      const badCodes = Object.keys(r.during).filter((c) => !["ok", "INTERNAL", "no ack"].includes(c));
      report.expectation(`${label}: refusals during the outage are INTERNAL`, badCodes.length === 0, codes(r.during));
      if (r.noackApplied > 0) report.note(`${label}: ${r.noackApplied} commands without an ack were applied (legal)`);
      for (const e of r.examples) report.note(`${label}: ${e}`);
    }
  },
};
