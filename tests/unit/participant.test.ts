/**
 * The headless participant against a real Socket.IO server on port 0 that speaks the Attune protocol with
 * scripted views (no engine): join and refusals, version ordering, gap resync, retries with one id, notices,
 * reconnection. The full server is exercised by the integration suites; here the client's own rules are pinned.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type Socket } from "socket.io";
import { afterEach, describe, expect, it } from "vitest";
import { nextMove, notQuiteOnce, playSeat, scriptedChoices, type TurnReport } from "../../client/headless/bot.ts";
import { Participant, parseJoinLink } from "../../client/headless/participant.ts";
import type {
  Channel,
  ClientToServerEvents,
  Command,
  CommandEnvelope,
  CommandType,
  EngineEvent,
  ServerToClientEvents,
  SessionView,
  StepView,
} from "../../shared/protocol.ts";
import { createTestSession, startTestServer } from "../support/server.ts";

type ServerSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

function viewAt(version: number, seat: "a" | "b" = "a"): SessionView {
  return {
    id: "s1",
    version,
    you: { seat },
    mode: "guided",
    channel: "typed",
    names: { a: "Sam", b: "Alex" },
    phase: "lobby",
    presence: { a: true, b: false, therapist: false },
    admitted: { a: true, b: true },
    waiting: false,
    agenda: [],
    agendaNext: 0,
    completed: [],
    firstSpeaker: "a",
    exercise: null,
    paused: null,
    timeOut: null,
    steppedOut: null,
    agreements: [],
    transcript: [],
    checkIns: [],
    nudges: [],
    notes: [],
    privateMessages: [],
    guesses: [],
    allowed: [
      { type: "post", allowed: true },
      { type: "pause", allowed: true },
    ],
  };
}

const stepChanged = (stepId: string): EngineEvent => ({ type: "step-changed", stepId, exerciseId: "x" });

interface Harness {
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  http: HttpServer;
  origin: string;
  /** Version the next connection's snapshot carries. */
  version: number;
  sockets: ServerSocket[];
  resyncs: number;
}

const harnesses: Harness[] = [];
const participants: Participant[] = [];

async function startHarness(onConnection?: (socket: ServerSocket, h: Harness) => void): Promise<Harness> {
  const http = createServer();
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http);
  const h: Harness = { io, http, origin: "", version: 0, sockets: [], resyncs: 0 };
  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token;
    if (token === "good-token-a") return next();
    const err = new Error("this link is not known") as Error & { data?: unknown };
    err.data = { code: "TOKEN_UNKNOWN" };
    next(err);
  });
  io.on("connection", (socket) => {
    h.sockets.push(socket);
    socket.on("resync", (ack) => {
      h.resyncs++;
      ack?.(viewAt(h.version));
    });
    onConnection?.(socket, h);
    socket.emit("snapshot", viewAt(h.version));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  h.origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  harnesses.push(h);
  return h;
}

async function join(h: Harness, token = "good-token-a"): Promise<Participant> {
  const p = await Participant.join(`${h.origin}/join/${token}`, { timeoutMs: 3000 });
  participants.push(p);
  return p;
}

afterEach(async () => {
  for (const p of participants.splice(0)) p.close();
  for (const h of harnesses.splice(0)) {
    h.io.close();
    await new Promise<void>((resolve) => h.http.close(() => resolve()));
  }
});

describe("parseJoinLink", () => {
  it("splits a link into origin and token", () => {
    expect(parseJoinLink("http://127.0.0.1:4000/join/abc_DEF-123")).toEqual({
      origin: "http://127.0.0.1:4000",
      token: "abc_DEF-123",
    });
  });
  it("refuses what is not a join link", () => {
    expect(() => parseJoinLink("not a url")).toThrow(/join link/);
    expect(() => parseJoinLink("http://127.0.0.1/room/abc")).toThrow(/join link/);
    expect(() => parseJoinLink("http://127.0.0.1/join/")).toThrow(/join link/);
  });
});

describe("Participant.join", () => {
  it("resolves on the first snapshot with the seat and version", async () => {
    const h = await startHarness();
    h.version = 7;
    const p = await join(h);
    expect(p.seat).toBe("a");
    expect(p.version).toBe(7);
    expect(p.view.names.b).toBe("Alex");
    expect(p.connected).toBe(true);
  });

  it("rejects a malformed link without connecting", async () => {
    await expect(Participant.join("http://127.0.0.1:1/room/x")).rejects.toThrow(/join link/);
  });

  it("rejects with the server's refusal code", async () => {
    const h = await startHarness();
    await expect(join(h, "wrong-token")).rejects.toThrow(/^TOKEN_UNKNOWN: this link is not known$/);
  });

  it("rejects when no server answers in time", async () => {
    const h = await startHarness();
    const origin = h.origin;
    h.io.close();
    await new Promise<void>((resolve) => h.http.close(() => resolve()));
    harnesses.splice(harnesses.indexOf(h), 1);
    await expect(Participant.join(`${origin}/join/good-token-a`, { timeoutMs: 300 })).rejects.toThrow();
  });
});

describe("updates", () => {
  it("applies updates in version order, holding early ones and ignoring old ones", async () => {
    let socket: ServerSocket | undefined;
    const h = await startHarness((s) => {
      socket = s;
    });
    h.version = 1;
    const p = await join(h);
    const seen: number[] = [];
    const eventSteps: string[] = [];
    p.on("view", (v) => seen.push(v.version));
    p.on("events", (events) => {
      for (const e of events) if (e.type === "step-changed") eventSteps.push(e.stepId);
    });
    socket!.emit("update", { version: 3, from: 2, events: [stepChanged("three")] });
    socket!.emit("update", { version: 2, from: 1, events: [stepChanged("two")] });
    socket!.emit("update", { version: 2, from: 1, events: [stepChanged("again")] });
    socket!.emit("update", { version: 4, from: 3, events: [stepChanged("four")] });
    await p.waitForVersion(4, 2000);
    expect(seen).toEqual([2, 3, 4]);
    // The late version arrived within the grace period: no snapshot was needed.
    expect(h.resyncs).toBe(0);
    expect(eventSteps).toEqual(["two", "three", "four"]);
    expect(p.events.map((e) => (e.type === "step-changed" ? e.stepId : e.type))).toEqual(["two", "three", "four"]);
  });

  it("with keepEntries and keepEvents, keeps only the tail of each list and of the events; without, everything", async () => {
    let socket: ServerSocket | undefined;
    const h = await startHarness((s) => {
      socket = s;
    });
    h.version = 1;
    const lean = await Participant.join(`${h.origin}/join/good-token-a`, {
      timeoutMs: 3000,
      keepEntries: 2,
      keepEvents: 1,
    });
    participants.push(lean);
    const leanSocket = socket!;
    const full = await join(h);
    const fullSocket = socket!;
    const line = (n: number) => ({ seat: "a" as const, text: `line ${n}`, at: n, stepId: "talk", exerciseId: "x" });
    for (let v = 2; v <= 5; v++) {
      const events = [{ type: "step-changed", stepId: `step ${v}` }];
      const update = { version: v, from: v - 1, events, append: { transcript: [line(v)] } };
      leanSocket.emit("update", update as never);
      fullSocket.emit("update", update as never);
    }
    await Promise.all([lean.waitForVersion(5, 2000), full.waitForVersion(5, 2000)]);
    expect(lean.view.transcript.map((e) => e.text)).toEqual(["line 4", "line 5"]);
    expect(full.view.transcript.map((e) => e.text)).toEqual(["line 2", "line 3", "line 4", "line 5"]);
    const steps = (p: Participant) => p.events.map((e) => (e.type === "step-changed" ? e.stepId : e.type));
    expect(steps(lean)).toEqual(["step 5"]);
    expect(steps(full)).toEqual(["step 2", "step 3", "step 4", "step 5"]);
  });

  it("asks for a resync on a gap and adopts the snapshot", async () => {
    let socket: ServerSocket | undefined;
    const h = await startHarness((s) => {
      socket = s;
    });
    h.version = 1;
    const p = await join(h);
    h.version = 5;
    // Version 2 never comes: the participant must fetch the state rather than wait forever.
    socket!.emit("update", { version: 3, from: 2, events: [] });
    await p.waitForVersion(5, 2000);
    expect(h.resyncs).toBe(1);
    // An update the snapshot already covers changes nothing; the next one applies.
    socket!.emit("update", { version: 4, from: 3, events: [] });
    socket!.emit("update", { version: 6, from: 5, events: [] });
    await p.waitForVersion(6, 2000);
    expect(p.version).toBe(6);
    expect(h.resyncs).toBe(1);
  });

  it("applies what an update changed: set fields, appended entries and changed allowed entries", async () => {
    let socket: ServerSocket | undefined;
    const h = await startHarness((s) => {
      socket = s;
    });
    h.version = 1;
    const p = await join(h);
    const entry = { v: 2, at: 5, seat: "a" as const, kind: "post" as const, text: "hello there" };
    const allowed = {
      type: "post" as const,
      allowed: false,
      code: "PAUSED" as const,
      reason: "The exercise is paused.",
    };
    socket!.emit("update", {
      version: 2,
      from: 1,
      set: { phase: "ended" },
      append: { transcript: [entry] },
      allowed: [allowed],
      events: [],
    });
    const view = await p.waitForVersion(2, 2000);
    expect(view.phase).toBe("ended");
    expect(view.transcript).toEqual([...viewAt(1).transcript, entry]);
    expect(view.allowed.find((c) => c.type === "post")).toEqual(allowed);
    expect(view.allowed).toHaveLength(viewAt(1).allowed.length);
    // Every other field is the snapshot's.
    expect({ ...view, phase: "lobby", transcript: [], allowed: [], version: 1 }).toEqual({
      ...viewAt(1),
      transcript: [],
      allowed: [],
    });
  });

  it("waitFor rejects on time-out and resolves on a matching view", async () => {
    let socket: ServerSocket | undefined;
    const h = await startHarness((s) => {
      socket = s;
    });
    const p = await join(h);
    await expect(p.waitFor((v) => v.phase === "ended", 50)).rejects.toThrow(/not met within 50 ms/);
    const waiting = p.waitFor((v) => v.phase === "ended", 2000);
    socket!.emit("update", { version: 1, from: 0, set: { phase: "ended" }, events: [] });
    await expect(waiting).resolves.toMatchObject({ phase: "ended", version: 1 });
  });
});

describe("send", () => {
  it("retries an unacknowledged command with the same id", async () => {
    const received: CommandEnvelope[] = [];
    const h = await startHarness((s) => {
      s.on("command", (envelope, ack) => {
        received.push(envelope);
        // The first delivery "gets lost": no ack. The retry is acknowledged.
        if (received.length >= 2) ack({ ok: true, version: 1 });
      });
    });
    const p = await join(h);
    const ack = await p.send({ type: "say", text: "hello" }, { timeoutMs: 100, expectedVersion: 0 });
    expect(ack).toEqual({ ok: true, version: 1 });
    expect(received).toHaveLength(2);
    expect(received[0]!.id).toBe(received[1]!.id);
    expect(received[0]!.id.length).toBeGreaterThanOrEqual(8);
    expect(received[0]).toEqual({ id: received[0]!.id, expectedVersion: 0, command: { type: "say", text: "hello" } });
  });

  it("passes a refusal through and gives up after its attempts", async () => {
    const received: CommandEnvelope[] = [];
    const h = await startHarness((s) => {
      s.on("command", (envelope, ack) => {
        received.push(envelope);
        if (envelope.command.type === "end-turn") ack({ ok: false, error: { code: "NOT_YOUR_TURN", message: "no" } });
      });
    });
    const p = await join(h);
    await expect(p.send({ type: "end-turn" })).resolves.toEqual({
      ok: false,
      error: { code: "NOT_YOUR_TURN", message: "no" },
    });
    await expect(p.send({ type: "pause" }, { timeoutMs: 40, attempts: 3, id: "fixed-id-123" })).rejects.toThrow(
      /no acknowledgement after 3/,
    );
    const pauses = received.filter((e) => e.command.type === "pause");
    expect(pauses.map((e) => e.id)).toEqual(["fixed-id-123", "fixed-id-123", "fixed-id-123"]);
  });
});

describe("connection", () => {
  it("reports a notice and fails waits when the server disconnects it", async () => {
    let socket: ServerSocket | undefined;
    const h = await startHarness((s) => {
      socket = s;
    });
    const p = await join(h);
    const notices: string[] = [];
    p.on("notice", (n) => notices.push(n.code));
    const waiting = p.waitFor(() => false, 5000);
    socket!.emit("notice", { code: "SEAT_TAKEN_OVER", message: "opened elsewhere" });
    socket!.disconnect(true);
    await expect(waiting).rejects.toThrow("SEAT_TAKEN_OVER");
    expect(notices).toEqual(["SEAT_TAKEN_OVER"]);
    expect(p.lastNotice?.code).toBe("SEAT_TAKEN_OVER");
  });

  it("takes the server's snapshot after a dropped connection", async () => {
    const h = await startHarness();
    h.version = 4;
    const p = await join(h);
    let reconnected = false;
    p.on("connect", () => {
      reconnected = true;
    });
    // The server moved on while the link was down; a lower version (e.g. a restored store) must be adopted too.
    h.version = 2;
    h.sockets[0]!.conn.close();
    await p.waitFor((v) => v.version === 2, 3000);
    expect(reconnected).toBe(true);
    expect(h.sockets).toHaveLength(2);
  });
});

describe("nextMove", () => {
  function stepView(step: Partial<StepView>, allowed: CommandType[], channel: Channel = "typed"): SessionView {
    return {
      ...viewAt(3),
      channel,
      phase: "exercise",
      exercise: {
        id: "x",
        title: "X",
        stepIndex: 0,
        stepCount: 1,
        cycle: 0,
        roundFrom: 1,
        speaker: "a",
        listener: "b",
        step: {
          id: "s",
          title: "S",
          kind: "say",
          actor: "speaker",
          role: "speaker",
          yourMove: true,
          prompt: "",
          stems: [],
          ...step,
        },
      },
      allowed: allowed.map((type) => ({ type, allowed: true })),
    };
  }

  it("says text in the typed channel and nothing in the spoken one", () => {
    expect(nextMove(stepView({}, ["say"]), { textFor: () => "hello" })).toEqual({ type: "say", text: "hello" });
    expect(nextMove(stepView({}, ["say"], "spoken"), { textFor: () => "hello" })).toEqual({ type: "say" });
  });

  it("makes no move, and spends no policy call, when it is not its move or the command is not allowed", () => {
    let calls = 0;
    const choose = () => {
      calls++;
      return "a";
    };
    const options = [{ id: "a", label: "A" }];
    expect(nextMove(stepView({ kind: "choose", options }, []), { choose })).toBeNull();
    expect(nextMove(stepView({ kind: "choose", options, yourMove: false }, ["choose"]), { choose })).toBeNull();
    expect(calls).toBe(0);
    expect(nextMove(stepView({ kind: "choose", options }, ["choose"]), { choose })).toEqual({
      type: "choose",
      option: "a",
    });
    expect(calls).toBe(1);
  });

  it("answers from the step's fields once, and ends a talk turn", () => {
    const answerFields = { rating: { min: 0, max: 10 }, feelings: ["calm", "tired"] };
    expect(nextMove(stepView({ kind: "private-answer", actor: "both", answerFields }, ["answer"]))).toEqual({
      type: "answer",
      answer: { rating: 5, feeling: "calm" },
    });
    const answered = stepView({ kind: "private-answer", actor: "both", answerFields, yourAnswer: { rating: 5 } }, [
      "answer",
    ]);
    expect(nextMove(answered)).toBeNull();
    expect(nextMove(stepView({ kind: "talk" }, ["end-turn"]))).toEqual({ type: "end-turn" });
  });

  it("starts the next exercise only when asked to and allowed", () => {
    const lobby = {
      ...viewAt(2),
      agenda: [{ id: "x", title: "X", summary: "x", turns: true }],
      allowed: [{ type: "start-exercise" as const, allowed: true }],
    };
    expect(nextMove(lobby)).toBeNull();
    expect(nextMove(lobby, { startExercises: true })).toEqual({ type: "start-exercise" });
    expect(nextMove({ ...lobby, agendaNext: 1 }, { startExercises: true })).toBeNull();
  });
});

describe("bots on a real Attune server", () => {
  async function session(channel: Channel, agenda: string[]) {
    const server = await startTestServer();
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel,
      agenda,
      names: { a: "Sam", b: "Alex" },
    });
    const a = await Participant.join(created.links.a);
    const b = await Participant.join(created.links.b);
    participants.push(a, b);
    return { a, b };
  }

  it("play a whole typed intentional dialogue, with one 'not quite' loop and one 'there's more'", async () => {
    const { a, b } = await session("typed", ["intentional-dialogue"]);
    const reports: TurnReport[] = [];
    const choose = scriptedChoices({ check: ["not-quite", "more"] });
    const common = { choose, onTurn: (r: TurnReport) => reports.push(r), idleTimeoutMs: 5000 };
    const plays = [playSeat(a, { ...common, startExercises: true }), playSeat(b, common)];
    await Promise.all(plays.map((p) => p.done));

    expect(reports.every((r) => r.ack.ok)).toBe(true);
    // Each report is a move by the seat the step asked, in its role.
    for (const r of reports) {
      expect(r.step.yourMove).toBe(true);
      const speaker = r.view.exercise!.speaker;
      expect(r.role === "speaker" ? speaker : r.role === "listener" ? r.view.exercise!.listener : null).toBe(r.seat);
    }
    const versions = reports.map((r) => (r.ack.ok ? r.ack.version : -1));
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);
    // Cycle 1: invite, ready, send, mirror, not-quite, clarify, mirror, more, send, mirror, got-it, summary,
    // complete, validate, empathize, yes = 16 moves; cycle 2 without the loops = 10; plus start-exercise.
    expect(reports.filter((r) => r.cycle === 0)).toHaveLength(16);
    expect(reports.filter((r) => r.cycle === 1)).toHaveLength(10);
    expect(plays[0]!.moves + plays[1]!.moves).toBe(16 + 10 + 1);
    const picked = reports.filter((r) => r.command.type === "choose").map((r) => r.optionLabel);
    expect(picked.filter((l) => l === "Not quite")).toHaveLength(1);
    expect(picked.filter((l) => l === "There's more")).toHaveLength(1);
    for (const r of reports) if (r.command.type === "say") expect(r.command.text?.length).toBeGreaterThan(0);

    const view = a.view;
    expect(view.exercise).toBeNull();
    expect(view.completed).toEqual([
      expect.objectContaining({ exerciseId: "intentional-dialogue", endedEarly: false }),
    ]);
    await b.waitForVersion(view.version);
    expect(b.view.transcript).toEqual(view.transcript);
    expect(view.transcript.filter((t) => t.kind === "say").every((t) => (t.text ?? "").length > 0)).toBe(true);
    expect(a.events.some((e) => e.type === "exercise-ended")).toBe(true);
  });

  it("play a spoken check-in and a stress-reducing conversation: answers, silent says and ended turns", async () => {
    const { a, b } = await session("spoken", ["check-in", "stress-reducing", "speaker-listener"]);
    const reports: TurnReport[] = [];
    // Stop once the third exercise has begun, after its first "not quite" has looped back.
    const until = (v: SessionView) =>
      v.completed.length >= 2 && v.transcript.filter((t) => t.kind === "choice").length >= 2;
    const common = {
      onTurn: (r: TurnReport) => reports.push(r),
      idleTimeoutMs: 5000,
      until,
      choose: notQuiteOnce(),
    };
    const plays = [playSeat(a, { ...common, startExercises: true }), playSeat(b, common)];
    await Promise.all(plays.map((p) => p.done));
    for (const p of plays) p.stop();

    expect(reports.every((r) => r.ack.ok)).toBe(true);
    const answers = reports.filter((r) => r.command.type === "answer");
    expect(answers.map((r) => r.seat).sort()).toEqual(["a", "b"]);
    for (const r of answers) {
      const answer = (r.command as Extract<Command, { type: "answer" }>).answer;
      expect(answer.rating).toBeGreaterThanOrEqual(1);
      expect(answer.rating).toBeLessThanOrEqual(10);
      expect(r.step.answerFields?.feelings).toContain(answer.feeling);
    }
    expect(a.view.checkIns).toHaveLength(1);
    const endTurns = reports.filter((r) => r.command.type === "end-turn");
    expect(endTurns.map((r) => r.seat)).toEqual(["a", "b"]);
    const says = reports.filter((r) => r.command.type === "say");
    expect(says.length).toBeGreaterThan(0);
    for (const r of says) expect(r.command).toEqual({ type: "say" });
    const choices = reports
      .filter((r) => r.command.type === "choose")
      .map((r) => (r.command as { option: string }).option);
    expect(choices.slice(0, 2)).toEqual(["not-quite", "more"]);
  });
});
