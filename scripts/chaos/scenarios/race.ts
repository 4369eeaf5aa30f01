/**
 * Concurrent conflicting commands. Part one replays issue 9's legal bursts on one process with the memory store
 * and the default rate limit (one socket sending 40 posts at once; both partners sending 40 each). Part two sends
 * 1,000 commands at once from both partners across two processes on one Redis, three times: unpinned posts (all
 * legal: every one must land once), posts pinned to one expectedVersion (at most one may land), and a seeded mix of
 * conflicting command types, half of them pinned. The rate limit is raised for part two so it is not measured.
 */
import { nanoid } from "nanoid";
import { Participant } from "../../../client/headless/participant.ts";
import { type Command, ErrorCode, type SessionView } from "../../../shared/protocol.ts";
import { type ChaosContext, chaosPrefix, type Scenario } from "../context.ts";
import {
  type Couple,
  freshView,
  Http,
  Ledger,
  type LedgerVerdict,
  type Outcome,
  outcomeOf,
  postText,
  seatCouple,
  sendOnce,
  via,
} from "../couple.ts";
import { sleep, startAttune, startRedis } from "../procs.ts";
import type { Report } from "../report.ts";

/** Issue 9: a burst of legal commands within the rate limit is never refused INTERNAL. */
export const MAX_INTERNAL_FOR_LEGAL_BURSTS = 0;
/** The default COMMANDS_PER_10S: issue 9's bursts fit in it. */
const DEFAULT_RATE = 40;

/** Codes the engine (or the version pin) may refuse a valid-shaped command with. */
const ENGINE_REFUSALS = new Set<string>([
  ErrorCode.STALE_VERSION,
  ErrorCode.TEXT_REQUIRED,
  ErrorCode.TEXT_NOT_ALLOWED,
  ErrorCode.NOT_YOUR_TURN,
  ErrorCode.WRONG_STEP,
  ErrorCode.NO_ACTIVE_EXERCISE,
  ErrorCode.EXERCISE_IN_PROGRESS,
  ErrorCode.UNKNOWN_EXERCISE,
  ErrorCode.UNKNOWN_OPTION,
  ErrorCode.INVALID_ANSWER,
  ErrorCode.ALREADY_ANSWERED,
  ErrorCode.DEADLINE_NOT_REACHED,
  ErrorCode.NO_PREVIOUS_STEP,
  ErrorCode.NO_TIMER,
  ErrorCode.SESSION_ENDED,
  ErrorCode.PAUSED,
  ErrorCode.NOT_PAUSED,
  ErrorCode.ON_TIME_OUT,
  ErrorCode.NOT_ON_TIME_OUT,
  ErrorCode.THERAPIST_ONLY,
]);

/** A small seeded generator (mulberry32): the mix is the same for the same --seed. */
function random(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

interface Shot {
  p: Participant;
  command: Command;
  expectedVersion?: number;
  outcome?: Outcome;
}

/** Fires every shot at once and waits for all acks. */
async function volley(shots: Shot[]): Promise<void> {
  await Promise.all(
    shots.map(async (s) => {
      const opts = s.expectedVersion === undefined ? {} : { expectedVersion: s.expectedVersion };
      s.outcome = outcomeOf(await sendOnce(s.p, s.command, { ...opts, timeoutMs: 60_000 }));
    }),
  );
}

function tally(shots: Shot[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of shots) {
    const o = s.outcome!;
    const key = o.kind === "ok" ? "ok" : o.kind === "noack" ? "no ack" : o.code;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

const codes = (r: Record<string, number>) =>
  Object.entries(r)
    .sort((x, y) => y[1] - x[1])
    .map(([c, n]) => `${c}×${n}`)
    .join(", ") || "none";

function ledgerOf(shots: Shot[], session: string): Ledger {
  const ledger = new Ledger();
  for (const s of shots) {
    if (s.command.type === "post") ledger.add(session, s.p.seat as "a" | "b", s.command.text, 0, s.outcome!);
  }
  return ledger;
}

/** Every ok version once, all within (from, to]. */
function versionCheck(shots: Shot[], from: number, to: number): { duplicates: number; outside: number } {
  const seen = new Set<number>();
  let duplicates = 0;
  let outside = 0;
  for (const s of shots) {
    if (s.outcome?.kind !== "ok") continue;
    const v = s.outcome.version;
    if (seen.has(v)) duplicates++;
    seen.add(v);
    if (v <= from || v > to) outside++;
  }
  return { duplicates, outside };
}

interface PhaseRow {
  phase: string;
  shots: Shot[];
  verdict: LedgerVerdict;
  duplicates: number;
  outside: number;
  illegal: string[];
  internal: number;
}

export const raceScenario: Scenario = {
  id: "race",
  title: "4. Concurrent conflicting commands",
  async run(ctx: ChaosContext, report: Report) {
    const http = new Http();
    const rows: PhaseRow[] = [];
    const phase = async (
      name: string,
      couple: Couple,
      shots: Shot[],
      legal: Set<string>,
      read: () => Promise<SessionView> = () => couple.a.resync(15_000),
    ) => {
      const before = Math.max(couple.a.version, couple.b.version);
      await volley(shots);
      await sleep(300);
      const view = await read();
      const after = view.version;
      const verdict = ledgerOf(shots, couple.id).verify(new Map([[couple.id, view.transcript]]));
      const { duplicates, outside } = versionCheck(shots, before, after);
      const illegal = shots.flatMap((s) =>
        s.outcome?.kind === "refused" && s.outcome.code !== ErrorCode.INTERNAL && !legal.has(s.outcome.code)
          ? [`${s.command.type}: ${s.outcome.code}`]
          : s.outcome?.kind === "noack"
            ? [`${s.command.type}: no ack`]
            : [],
      );
      const internal = shots.filter(
        (s) => s.outcome?.kind === "refused" && s.outcome.code === ErrorCode.INTERNAL,
      ).length;
      rows.push({ phase: name, shots, verdict, duplicates, outside, illegal, internal });
      ctx.log(`race/${name}: ${codes(tally(shots))}`);
    };

    // Part one: issue 9's bursts, one process, memory store, the default rate limit.
    const trials = ctx.quick ? 2 : 5;
    const solo = await startAttune("memory process", { COMMANDS_PER_10S: String(DEFAULT_RATE) });
    try {
      const single: Shot[] = [];
      const both: Shot[] = [];
      for (let t = 0; t < trials; t++) {
        const c = await seatCouple(http, solo.url, solo.url);
        // b has sent nothing: a full budget of 40 legal posts from one socket.
        const shots = Array.from(
          { length: DEFAULT_RATE },
          (_, i): Shot => ({
            p: c.b,
            command: { type: "post", text: postText("burst1", "b", i) },
          }),
        );
        // Read by a fresh connection: the burst spent the sockets' budgets, and a resync counts against it.
        await phase(`burst-one-socket-${t + 1}`, c, shots, ENGINE_REFUSALS, () => freshView(solo.url, c.links.a));
        single.push(...shots);
        c.a.close();
        c.b.close();
      }
      for (let t = 0; t < trials; t++) {
        const c = await seatCouple(http, solo.url, solo.url);
        // a spent one command starting the exercise: a reload (a fresh socket, a fresh budget) takes the seat over.
        const a = await Participant.join(via(solo.url, c.links.a));
        await sleep(200);
        c.a.close();
        const shots = [
          ...Array.from(
            { length: DEFAULT_RATE },
            (_, i): Shot => ({ p: a, command: { type: "post", text: postText("burst2", "a", i) } }),
          ),
          ...Array.from(
            { length: DEFAULT_RATE },
            (_, i): Shot => ({ p: c.b, command: { type: "post", text: postText("burst2", "b", i) } }),
          ),
        ];
        await phase(`burst-both-${t + 1}`, { ...c, a }, shots, ENGINE_REFUSALS, () => freshView(solo.url, c.links.a));
        both.push(...shots);
        a.close();
        c.b.close();
      }
    } finally {
      await solo.stop();
    }
    const burstRows = rows.splice(0);

    // Part two: 1,000 at once across two processes on one Redis.
    const total = ctx.quick ? 200 : 1000;
    const redis = await startRedis(false);
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: chaosPrefix("race"), COMMANDS_PER_10S: "10000" };
    const [p1, p2] = await Promise.all([startAttune("process 1", env), startAttune("process 2", env)]);
    const rand = random(ctx.seed);
    try {
      const c = await seatCouple(http, p1.url, p2.url);
      const half = total / 2;
      const unpinned: Shot[] = [];
      for (let i = 0; i < half; i++) {
        unpinned.push({ p: c.a, command: { type: "post", text: postText("race", "a", i) } });
        unpinned.push({ p: c.b, command: { type: "post", text: postText("race", "b", i) } });
      }
      await phase("unpinned", c, unpinned, ENGINE_REFUSALS);
      await settle(c);

      const pin = c.a.version;
      const pinned: Shot[] = [];
      for (let i = 0; i < half; i++) {
        pinned.push({ p: c.a, command: { type: "post", text: postText("pin", "a", i) }, expectedVersion: pin });
        pinned.push({ p: c.b, command: { type: "post", text: postText("pin", "b", i) }, expectedVersion: pin });
      }
      await phase("pinned", c, pinned, new Set([ErrorCode.STALE_VERSION]));
      await settle(c);

      const mixed: Shot[] = [];
      const at = c.a.version;
      for (let i = 0; i < total; i++) {
        const p = rand() < 0.5 ? c.a : c.b;
        const shot: Shot = { p, command: mixedCommand(rand, p.seat as "a" | "b", i) };
        if (rand() < 0.5) shot.expectedVersion = at + Math.floor(rand() * 4);
        mixed.push(shot);
      }
      await phase("mixed", c, mixed, ENGINE_REFUSALS);
      c.a.close();
      c.b.close();
    } finally {
      await Promise.all([p1.stop(), p2.stop()]);
      await redis.dispose();
    }
    const crossRows = rows.splice(0);

    const sumRows = (name: string, list: PhaseRow[]): (string | number)[] => {
      const shots = list.flatMap((r) => r.shots);
      return [
        name,
        shots.length,
        shots.filter((s) => s.outcome?.kind === "ok").length,
        list.reduce((n, r) => n + r.internal, 0),
        codes(tally(shots)),
        list.reduce((n, r) => n + r.verdict.ackedLost + r.duplicates + r.outside, 0),
        list.reduce((n, r) => n + r.verdict.appliedTwice, 0),
        list.reduce((n, r) => n + r.verdict.refusedButApplied, 0),
        list.reduce((n, r) => n + r.illegal.length, 0),
      ];
    };
    const columns = [
      "phase",
      "sent",
      "acked ok",
      "INTERNAL",
      "outcomes",
      "acked lost",
      "applied twice",
      "refused-but-applied",
      "illegal refusals",
    ];
    report.table(
      `Legal bursts, one process, memory store, COMMANDS_PER_10S=${DEFAULT_RATE} (${trials} trials each)`,
      columns,
      [
        sumRows(
          "one socket, 40 posts at once",
          burstRows.filter((r) => r.phase.startsWith("burst-one")),
        ),
        sumRows(
          "both partners, 40 posts each at once",
          burstRows.filter((r) => r.phase.startsWith("burst-both")),
        ),
      ],
    );
    report.table(`${total} commands at once, a on process 1 and b on process 2 (one Redis)`, columns, [
      sumRows(
        "unpinned posts (all legal)",
        crossRows.filter((r) => r.phase === "unpinned"),
      ),
      sumRows(
        "posts pinned to one expectedVersion",
        crossRows.filter((r) => r.phase === "pinned"),
      ),
      sumRows(
        "mixed types, half pinned",
        crossRows.filter((r) => r.phase === "mixed"),
      ),
    ]);

    const all = [...burstRows, ...crossRows];
    const lost = all.reduce((n, r) => n + r.verdict.ackedLost + r.duplicates + r.outside, 0);
    const twice = all.reduce((n, r) => n + r.verdict.appliedTwice, 0);
    const rba = all.reduce((n, r) => n + r.verdict.refusedButApplied, 0);
    const illegal = all.flatMap((r) => r.illegal);
    const pinnedOk = crossRows.find((r) => r.phase === "pinned")!.shots.filter((s) => s.outcome?.kind === "ok").length;
    const legalInternal = [...burstRows, ...crossRows.filter((r) => r.phase === "unpinned")].reduce(
      (n, r) => n + r.internal,
      0,
    );
    const legalRefused = [...burstRows, ...crossRows.filter((r) => r.phase === "unpinned")].reduce(
      (n, r) => n + r.shots.filter((s) => s.outcome?.kind !== "ok").length,
      0,
    );
    const mixedInternal = crossRows.find((r) => r.phase === "mixed")!.internal;
    report.figures.race = {
      total,
      trials,
      maxInternalForLegalBursts: MAX_INTERNAL_FOR_LEGAL_BURSTS,
      phases: all.map((r) => ({
        phase: r.phase,
        sent: r.shots.length,
        outcomes: tally(r.shots),
        ackedLost: r.verdict.ackedLost,
        duplicateVersions: r.duplicates,
        versionsOutside: r.outside,
        appliedTwice: r.verdict.appliedTwice,
        refusedButApplied: r.verdict.refusedButApplied,
        illegal: r.illegal.slice(0, 20),
        internal: r.internal,
      })),
    };
    report.invariant("acked commands lost (missing, or two acks naming one version)", lost === 0, `${lost}`);
    report.invariant("applied twice", twice === 0, `${twice}`);
    report.invariant("refused-but-applied", rba === 0, `${rba}`);
    report.invariant(
      "every refusal has a legal code, every command an ack",
      illegal.length === 0,
      illegal.slice(0, 5).join("; ") || "all legal",
    );
    report.invariant("at most one command pinned to one version lands", pinnedOk <= 1, `${pinnedOk} landed`);
    report.invariant(
      "crashes",
      !p1.crash && !p2.crash && !solo.crash,
      [solo, p1, p2].flatMap((p) => (p.crash ? [`${p.name} exited ${JSON.stringify(p.crash)}`] : [])).join("; ") ||
        "none",
    );
    report.invariant("5xx", http.errors.length === 0, `${http.errors.length}`);
    report.expectation(
      `INTERNAL for legal bursts <= ${MAX_INTERNAL_FOR_LEGAL_BURSTS}`,
      legalInternal <= MAX_INTERNAL_FOR_LEGAL_BURSTS,
      `${legalInternal} INTERNAL of ${legalRefused} refused legal posts`,
    );
    report.expectation("legal posts all land", legalRefused === 0, `${legalRefused} refused`);
    report.expectation(
      `INTERNAL in the mixed volley <= ${MAX_INTERNAL_FOR_LEGAL_BURSTS}`,
      mixedInternal <= MAX_INTERNAL_FOR_LEGAL_BURSTS,
      `${mixedInternal}`,
    );
    for (const r of all) for (const e of r.verdict.examples.slice(0, 2)) report.note(`${r.phase}: ${e}`);
  },
};

/** Waits until both seats show the same version (the volley's updates have arrived). */
async function settle(c: Couple): Promise<void> {
  const v = Math.max(c.a.version, c.b.version);
  await Promise.all([c.a.waitForVersion(v, 15_000), c.b.waitForVersion(v, 15_000)]).catch(() => {});
}

/** One command of the mixed volley: mostly posts, with every command that moves or blocks the talk step. */
function mixedCommand(rand: () => number, seat: "a" | "b", i: number): Command {
  const r = rand();
  if (r < 0.5) return { type: "post", text: postText("mix", seat, i) };
  const others: Command[] = [
    { type: "pause" },
    { type: "resume" },
    { type: "end-turn" },
    { type: "call-time-out" },
    { type: "end-time-out" },
    { type: "start-exercise" },
    { type: "say", text: `say ${nanoid(6)}` },
    { type: "choose", option: "now" },
    { type: "time-up" },
    { type: "end-exercise" },
    { type: "answer", answer: { rating: 5 } },
  ];
  return others[Math.floor(rand() * others.length)]!;
}
