/**
 * The fuzz run: at least 100,000 inputs against two processes on one Redis, in two parts.
 *  - Command envelopes from socket.io clients (fast-check: valid-shaped and invalid commands, ill-formed Unicode,
 *    wrong types, binary attachments, odd event names), in rounds. Around each round the sender takes a snapshot:
 *    the version may move only by its acknowledged commands (and presence), a round with no acknowledged command
 *    must leave the view unchanged, and both partners (one on each process) must see the same transcript at the
 *    same version.
 *  - Raw frames on bare websockets (malformed engine.io / socket.io packets, event names that are arrays or
 *    objects, binary attachments, frames over the cap, bytes that are not UTF-8) plus long-polling bodies, aimed
 *    at ended sessions: nothing may be accepted there and their state may not change.
 * Throughout, /healthz must answer; afterwards no process may have exited and a probe couple must still play.
 */
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import WebSocket from "ws";
import { type Participant, parseJoinLink } from "../../../client/headless/participant.ts";
import { type CommandAck, ErrorCode, type SessionView } from "../../../shared/protocol.ts";
import { type ChaosContext, chaosPrefix, type Scenario } from "../context.ts";
import { type Couple, freshView, Http, postText, round, seatCouple, sendOnce } from "../couple.ts";
import { type AttuneHandle, sleep, startAttune, startRedis } from "../procs.ts";
import type { Report } from "../report.ts";
import { type Emit, emitArb, eventFrameArb, type Frame, frameArb } from "./fuzz-inputs.ts";

/** Share of the inputs that are command envelopes (the rest are raw frames). */
const ENVELOPE_SHARE = 0.6;
/** Emits per round (sent at once, then checked). */
const ROUND_SIZE = 40;
/** Rounds before a couple is replaced, so transcripts (and every view) stay small. */
const ROUNDS_PER_COUPLE = 40;
/** Frames sent on one raw connection before it is closed (most connections are closed by the server earlier). */
const FRAMES_PER_CONNECTION = 60;
const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

interface EnvelopeStats {
  inputs: number;
  rounds: number;
  acked: number;
  ok: number;
  codes: Record<string, number>;
  unanswered: number;
  malformedAcks: number;
  refusedButApplied: number;
  /** Transcript entries (session:version) that the two processes showed differently. */
  divergent: Set<string>;
  textAltered: number;
  disconnects: number;
  examples: string[];
}

interface RawStats {
  inputs: number;
  connections: number;
  closedByServer: number;
  acks: number;
  okAcks: number;
  codes: Record<string, number>;
  polling: number;
  pollingStatus: Record<string, number>;
  endedChanged: number;
}

/** A view without what the clock alone changes. */
function stable(view: SessionView): unknown {
  const { exercise, ...rest } = view;
  if (!exercise) return rest;
  const { remainingMs: _r, ...step } = exercise.step;
  return { ...rest, exercise: { ...exercise, step } };
}

function wellFormedAck(ack: unknown): ack is CommandAck {
  if (!ack || typeof ack !== "object") return false;
  const a = ack as { ok?: unknown; version?: unknown; error?: { code?: unknown; message?: unknown } };
  if (a.ok === true) return Number.isInteger(a.version);
  return (
    a.ok === false &&
    typeof a.error?.code === "string" &&
    KNOWN_CODES.has(a.error.code) &&
    typeof a.error.message === "string"
  );
}

async function emit(p: Participant, e: Emit): Promise<unknown | "timeout" | "sent"> {
  const socket = p.socket as unknown as {
    emit(ev: string, ...args: unknown[]): void;
    timeout(ms: number): { emitWithAck(ev: string, ...args: unknown[]): Promise<unknown> };
  };
  if (!e.ack) {
    socket.emit(e.event, ...e.args);
    return "sent";
  }
  try {
    return await socket.timeout(5000).emitWithAck(e.event, ...e.args);
  } catch {
    return "timeout";
  }
}

/** One round: snapshot, ROUND_SIZE emits at once, snapshot, checks. */
async function envelopeRound(
  sender: Participant,
  partner: Participant,
  emits: Emit[],
  s: EnvelopeStats,
): Promise<void> {
  const before = await sender.resync(10_000);
  const seen: SessionView[] = [];
  const off = sender.on("view", (v) => seen.push(v));
  const results = await Promise.all(emits.map((e) => emit(sender, e)));
  const after = await sender.resync(10_000);
  off();
  s.inputs += emits.length;
  s.rounds++;
  const okVersions = new Set<number>();
  const okPosts = new Map<number, string>();
  results.forEach((r, i) => {
    const e = emits[i]!;
    if (e.event !== "command" || !e.ack) return;
    if (r === "timeout") {
      s.unanswered++;
      if (s.examples.length < 10) s.examples.push(`unanswered: ${JSON.stringify(e.args).slice(0, 120)}`);
      return;
    }
    s.acked++;
    if (!wellFormedAck(r)) {
      s.malformedAcks++;
      if (s.examples.length < 10) s.examples.push(`malformed ack ${JSON.stringify(r).slice(0, 80)}`);
      return;
    }
    const code = r.ok ? "ok" : r.error.code;
    s.codes[code] = (s.codes[code] ?? 0) + 1;
    if (r.ok) {
      s.ok++;
      okVersions.add(r.version);
      const cmd = (e.args[0] as { command?: { type?: unknown; text?: unknown } }).command;
      if (cmd?.type === "post" && typeof cmd.text === "string") okPosts.set(r.version, cmd.text);
    }
  });
  // Versions between the snapshots: each one an acknowledged command of this round, or a presence change.
  let presence = 0;
  let prev = before;
  for (const v of [...seen, after]) {
    if (v.version === prev.version + 1 && !okVersions.has(v.version) && !isDeepStrictEqual(v.presence, prev.presence)) {
      presence++;
    }
    if (v.version > prev.version) prev = v;
  }
  const unexplained = after.version - before.version - okVersions.size - presence;
  if (unexplained > 0) {
    s.refusedButApplied += unexplained;
    if (s.examples.length < 10) s.examples.push(`v${before.version}→v${after.version} with ${okVersions.size} acked`);
  }
  if (okVersions.size === 0 && after.version === before.version && !isDeepStrictEqual(stable(before), stable(after))) {
    s.refusedButApplied++;
    if (s.examples.length < 10) s.examples.push(`view changed at v${after.version} with nothing acknowledged`);
  }
  for (const [v, text] of okPosts) {
    const entry = after.transcript.find((t) => t.v === v);
    if (entry?.text !== text) s.textAltered++;
  }
  // The partner, on the other process, must see the same transcript at the same version.
  try {
    await partner.waitFor((v) => v.version >= after.version, 5000);
    if (partner.version === after.version) {
      const theirs = partner.view.transcript;
      after.transcript.forEach((entry, i) => {
        const key = `${after.id}:${entry.v}`;
        if (s.divergent.has(key) || JSON.stringify(entry) === JSON.stringify(theirs[i])) return;
        s.divergent.add(key);
        if (s.examples.length < 10) s.examples.push(`a transcript entry differs across processes at v${after.version}`);
      });
    }
  } catch {
    // The partner lagged (it reconnected, say): nothing to compare this round.
  }
}

async function envelopePart(
  ctx: ChaosContext,
  http: Http,
  procs: AttuneHandle[],
  total: number,
  health: () => Promise<void>,
): Promise<EnvelopeStats> {
  const s: EnvelopeStats = {
    inputs: 0,
    rounds: 0,
    acked: 0,
    ok: 0,
    codes: {},
    unanswered: 0,
    malformedAcks: 0,
    refusedButApplied: 0,
    divergent: new Set(),
    textAltered: 0,
    disconnects: 0,
    examples: [],
  };
  const workers = ctx.quick ? 2 : 4;
  const roundsEach = Math.ceil(total / ROUND_SIZE / workers);
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      let couple: Couple | undefined;
      for (let r = 0; r < roundsEach; r++) {
        if (!couple || r % ROUNDS_PER_COUPLE === 0) {
          couple?.a.close();
          couple?.b.close();
          couple = await seatCouple(http, procs[0]!.url, procs[1]!.url);
          for (const p of [couple.a, couple.b]) {
            p.on("disconnect", (reason) => {
              if (reason !== "io client disconnect") s.disconnects++;
            });
          }
        }
        const emits = fc.sample(emitArb, { numRuns: ROUND_SIZE, seed: ctx.seed + w * 1_000_003 + r });
        const [sender, partner] = r % 2 === 0 ? [couple.a, couple.b] : [couple.b, couple.a];
        if (!sender.connected) await sleep(500);
        await envelopeRound(sender, partner, emits, s);
        if (r % 25 === 0) await health();
      }
      couple?.a.close();
      couple?.b.close();
    }),
  );
  return s;
}

/** Opens a bare websocket as a socket.io client would, optionally connecting to the namespace with `auth`. */
function rawConnection(url: string): Promise<{ ws: WebSocket; inbox: string[]; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const inbox: string[] = [];
    let isClosed = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("no engine.io open packet within 5 s"));
    }, 5000);
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (text === "2") ws.send("3");
      inbox.push(text);
      if (text.startsWith("0")) {
        clearTimeout(timer);
        resolve({ ws, inbox, closed: () => isClosed });
      }
    });
    ws.on("close", () => {
      isClosed = true;
    });
    ws.on("error", (err) => {
      isClosed = true;
      clearTimeout(timer);
      reject(err);
    });
  });
}

function sendFrame(ws: WebSocket, f: Frame): void {
  if ("text" in f) ws.send(f.text);
  else if ("binary" in f) ws.send(f.binary, { binary: true });
  else ws.send(f.badUtf8, { binary: false });
}

async function rawPart(
  ctx: ChaosContext,
  http: Http,
  procs: AttuneHandle[],
  total: number,
  tokens: string[],
  health: () => Promise<void>,
): Promise<RawStats> {
  const s: RawStats = {
    inputs: 0,
    connections: 0,
    closedByServer: 0,
    acks: 0,
    okAcks: 0,
    codes: {},
    polling: 0,
    pollingStatus: {},
    endedChanged: 0,
  };
  const pollingTotal = Math.round(total * 0.02);
  const frames = total - pollingTotal;
  const workers = 4;
  let next = 0;
  let lastHealth = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      let conn = 0;
      while (next < frames) {
        const url = procs[(w + conn) % procs.length]!.url;
        const mode = (w * 7 + conn) % 10;
        conn++;
        let c: Awaited<ReturnType<typeof rawConnection>>;
        try {
          c = await rawConnection(url);
        } catch {
          await sleep(50);
          continue;
        }
        s.connections++;
        // Mostly a valid seat token (of an ended session), sometimes a bad auth payload, sometimes no namespace.
        if (mode < 7) c.ws.send(`40${JSON.stringify({ token: tokens[(w + conn) % tokens.length] })}`);
        else if (mode < 9)
          c.ws.send(
            `40${JSON.stringify(fc.sample(fc.jsonValue({ maxDepth: 2 }), { numRuns: 1, seed: ctx.seed + conn })[0])}`,
          );
        if (mode < 9) {
          // The namespace answers 40 (connected) or 44 (refused); frames sent before that would race the handshake.
          const end = performance.now() + 3000;
          while (
            !c.closed() &&
            !c.inbox.some((m) => m.startsWith("40") || m.startsWith("44")) &&
            performance.now() < end
          ) {
            await sleep(2);
          }
        }
        // Most authenticated connections carry events (which reach the handlers), then end on any frame at all.
        const arb =
          mode < 5 ? fc.oneof({ weight: 9, arbitrary: eventFrameArb }, { weight: 1, arbitrary: frameArb }) : frameArb;
        const batch = fc.sample(arb, {
          numRuns: FRAMES_PER_CONNECTION,
          seed: ctx.seed + 7_000_000 + w * 100_003 + conn,
        });
        for (const f of batch) {
          if (c.closed() || next >= frames) break;
          next++;
          s.inputs++;
          sendFrame(c.ws, f);
          // Give the server a moment now and then, so replies (and closes) are seen per frame.
          if (s.inputs % 4 === 0) await sleep(0);
        }
        await sleep(20);
        if (c.closed()) s.closedByServer++;
        c.ws.terminate();
        for (const m of c.inbox) {
          const ack = /^43\d+(\[.*)$/s.exec(m);
          if (!ack) continue;
          s.acks++;
          try {
            const [body] = JSON.parse(ack[1]!) as [CommandAck | SessionView];
            // A resync asked with an ack id is answered with the seat's view.
            if (body && "you" in body) {
              s.codes["(resync view)"] = (s.codes["(resync view)"] ?? 0) + 1;
              continue;
            }
            const code = body?.ok ? "ok" : (body?.error?.code ?? "(other)");
            if (body?.ok) s.okAcks++;
            s.codes[code] = (s.codes[code] ?? 0) + 1;
          } catch {
            s.codes["(unparsable)"] = (s.codes["(unparsable)"] ?? 0) + 1;
          }
        }
        if (s.inputs - lastHealth > 2000) {
          lastHealth = s.inputs;
          await health();
        }
      }
    }),
  );
  // Long-polling bodies: garbage, odd packets, one over the cap.
  const bodies = fc.sample(
    fc.oneof(
      fc.string({ maxLength: 200 }),
      frameArb.map((f) => ("text" in f ? f.text : "4")),
      fc.constant("x".repeat(200_000)),
      fc.constant("\u001e".repeat(1000)),
    ),
    { numRuns: pollingTotal, seed: ctx.seed + 99 },
  );
  for (const [i, body] of bodies.entries()) {
    const url = procs[i % procs.length]!.url;
    s.inputs++;
    s.polling++;
    try {
      const open = await http.fetch(`${url}/socket.io/?EIO=4&transport=polling`);
      const text = await open.text();
      const sid = /"sid":"([^"]+)"/.exec(text)?.[1] ?? "nosuchsid";
      const res = await http.fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${i % 5 === 0 ? "nosuchsid" : sid}`, {
        method: "POST",
        headers: { "content-type": "text/plain;charset=UTF-8" },
        body,
      });
      await res.arrayBuffer();
      s.pollingStatus[res.status] = (s.pollingStatus[res.status] ?? 0) + 1;
    } catch (err) {
      s.pollingStatus[(err as Error).name] = (s.pollingStatus[(err as Error).name] ?? 0) + 1;
    }
  }
  return s;
}

/** Sessions that have ended: every partner command is refused there, so nothing a raw frame does may change one. */
async function endedSessions(http: Http, procs: AttuneHandle[], n: number) {
  const out: { links: { a: string; b: string }; before: SessionView }[] = [];
  for (let i = 0; i < n; i++) {
    const c = await seatCouple(http, procs[0]!.url, procs[1]!.url);
    await sendOnce(c.a, { type: "post", text: postText("fuzz-ended", "a", i) });
    const ended = await sendOnce(c.a, { type: "end-session" });
    if (!ended?.ok) throw new Error("could not end a session for the raw-frame fuzz");
    c.a.close();
    c.b.close();
    await sleep(200);
    out.push({ links: c.links, before: await freshView(procs[0]!.url, c.links.b) });
  }
  return out;
}

/** What an ended session's view holds apart from versions, presence and the clock. */
function content(v: SessionView): unknown {
  return {
    phase: v.phase,
    transcript: v.transcript,
    completed: v.completed,
    checkIns: v.checkIns,
    exercise: v.exercise,
    agendaNext: v.agendaNext,
  };
}

/** A fresh couple plays a little across both processes: the server is still fit for purpose. */
async function probeCouple(http: Http, procs: AttuneHandle[]): Promise<string | null> {
  try {
    const c = await seatCouple(http, procs[0]!.url, procs[1]!.url);
    const text = postText("probe", "a", 0);
    const ack = await sendOnce(c.a, { type: "post", text });
    if (!ack?.ok) return `probe post refused: ${ack ? (ack.ok ? "" : ack.error.code) : "no ack"}`;
    await c.b.waitFor((v) => v.transcript.some((t) => t.text === text), 5000);
    const reply = postText("probe", "b", 1);
    const back = await sendOnce(c.b, { type: "post", text: reply });
    if (!back?.ok) return "probe reply refused";
    await c.a.waitFor((v) => v.transcript.some((t) => t.text === reply), 5000);
    c.a.close();
    c.b.close();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export const fuzzScenario: Scenario = {
  id: "fuzz",
  title: "5. Fuzz: raw frames and command envelopes",
  async run(ctx: ChaosContext, report: Report) {
    const redis = await startRedis(false);
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: chaosPrefix("fuzz"), COMMANDS_PER_10S: "10000" };
    const procs = await Promise.all([startAttune("process 1", env), startAttune("process 2", env)]);
    const http = new Http();
    let healthFailures = 0;
    const health = async () => {
      for (const p of procs) if (!(await http.healthy(p.url))) healthFailures++;
    };
    try {
      const envelopes = Math.round(ctx.fuzzInputs * ENVELOPE_SHARE);
      const t0 = performance.now();
      const e = await envelopePart(ctx, http, procs, envelopes, health);
      const envelopeMs = performance.now() - t0;
      ctx.log(`fuzz: ${e.inputs} envelope inputs in ${round(envelopeMs / 1000)} s`);

      const ended = await endedSessions(http, procs, 2);
      const tokens = ended.flatMap((x) => [parseJoinLink(x.links.a).token, parseJoinLink(x.links.b).token]);
      const t1 = performance.now();
      const r = await rawPart(ctx, http, procs, ctx.fuzzInputs - e.inputs, tokens, health);
      const rawMs = performance.now() - t1;
      ctx.log(`fuzz: ${r.inputs} raw inputs in ${round(rawMs / 1000)} s over ${r.connections} connections`);
      await sleep(500);
      for (const x of ended) {
        const after = await freshView(procs[1]!.url, x.links.b);
        if (!isDeepStrictEqual(content(after), content(x.before))) r.endedChanged++;
      }
      await health();
      const probe = await probeCouple(http, procs);
      const crashes = procs
        .filter((p) => p.crash)
        .map((p) => `${p.name} exited ${JSON.stringify(p.crash)}: ${p.tail().slice(-300)}`);
      const errorLogs = procs.reduce((n, p) => n + p.errorCount(), 0);
      const total = e.inputs + r.inputs;
      const codes = (c: Record<string, number>) =>
        Object.entries(c)
          .sort((x, y) => y[1] - x[1])
          .map(([k, n]) => `${k}×${n}`)
          .join(", ");

      report.table(
        `Fuzz: ${total} inputs (seed ${ctx.seed})`,
        ["part", "inputs", "time (s)", "acks", "accepted", "refusal codes"],
        [
          ["command envelopes (socket.io client)", e.inputs, round(envelopeMs / 1000), e.acked, e.ok, codes(e.codes)],
          [
            "raw frames (bare websocket) + polling bodies",
            r.inputs,
            round(rawMs / 1000),
            r.acks,
            r.okAcks,
            codes(r.codes),
          ],
        ],
      );
      report.table(
        "Fuzz: what must not happen",
        [
          "crashes",
          "5xx",
          "failed /healthz",
          "refused-but-applied",
          "unanswered commands",
          "malformed acks",
          "accepted in an ended session",
          "ended session changed",
          "probe couple",
        ],
        [
          [
            crashes.length,
            http.errors.length,
            healthFailures,
            e.refusedButApplied,
            e.unanswered,
            e.malformedAcks,
            r.okAcks,
            r.endedChanged,
            probe ?? "played",
          ],
        ],
      );
      report.table(
        "Fuzz: other figures",
        [
          "rounds",
          "transcript entries differing across processes",
          "accepted posts whose text changed",
          "seat disconnects",
          "raw connections",
          "closed by the server",
          "polling statuses",
          "server error logs",
        ],
        [
          [
            e.rounds,
            e.divergent.size,
            e.textAltered,
            e.disconnects,
            r.connections,
            r.closedByServer,
            codes(r.pollingStatus),
            errorLogs,
          ],
        ],
      );
      report.figures.fuzz = {
        seed: ctx.seed,
        total,
        envelopes: { ...e, divergent: e.divergent.size },
        raw: r,
        healthFailures,
        crashes,
        http5xx: http.errors,
        probe,
        errorLogs,
      };

      report.invariant(`at least ${ctx.fuzzInputs} inputs`, total >= ctx.fuzzInputs, `${total}`);
      report.invariant("crashes", crashes.length === 0, crashes.join("; ") || "none");
      report.invariant(
        "5xx and /healthz",
        http.errors.length === 0 && healthFailures === 0,
        `${http.errors.length} 5xx (${http.errors.slice(0, 3).join(", ")}), ${healthFailures} failed /healthz`,
      );
      report.invariant(
        "refused-but-applied (snapshots around each round)",
        e.refusedButApplied === 0,
        `${e.refusedButApplied}`,
      );
      report.invariant(
        "every command with an ack callback answered, well-formed",
        e.unanswered + e.malformedAcks === 0,
        `${e.unanswered} unanswered, ${e.malformedAcks} malformed`,
      );
      report.invariant(
        "nothing accepted in an ended session, its state unchanged",
        r.okAcks === 0 && r.endedChanged === 0,
        `${r.okAcks} accepted, ${r.endedChanged} changed`,
      );
      report.invariant("a probe couple can still play", probe === null, probe ?? "played");
      report.expectation(
        "every seat sees the same text at the same version (issue 9 #4)",
        e.divergent.size === 0,
        `${e.divergent.size} transcript entries differed`,
      );
      if (e.textAltered > 0)
        report.note(
          `${e.textAltered} accepted posts were stored with other text than sent (ill-formed Unicode made well-formed, or changed)`,
        );
      if (errorLogs > 0)
        report.note(
          `server error log lines: ${errorLogs} (${procs
            .flatMap((p) => p.errorLines)
            .slice(0, 3)
            .join(" | ")})`,
        );
      for (const x of e.examples) report.note(x);
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      await redis.dispose();
    }
  },
};
