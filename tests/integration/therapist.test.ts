/**
 * Therapist-led sessions over real sockets: a real server (memory store) and three headless participants
 * (therapist + two partners). Every console control is driven through the socket, every seat boundary is checked
 * with the exact refusal code, and the privacy boundaries (waiting room, step-out channel, notes, nudges) are
 * proven by recording everything a partner's socket receives and searching it for what must not be there.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import type { ExerciseDefinition } from "../../shared/exercise-format.ts";
import type { Command, CommandType, ErrorCode, Partner, SessionView, ViewUpdate } from "../../shared/protocol.ts";
import { COMMAND_TYPES } from "../../shared/protocol.ts";
import { createTestSession, startTestServer } from "../support/server.ts";
import { GRATITUDE_MINUTE } from "../support/exercises.ts";

const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

/** Everything one socket received, as JSON text, from its first snapshot on. */
interface Recording {
  frames: string[];
  /** All frames joined: the haystack to search for text that must never arrive. */
  text(): string;
}

async function join(link: string): Promise<Participant> {
  const p = await Participant.join(link);
  open.push(p);
  return p;
}

/** Joins and records every snapshot, update and notice the socket receives (plus the first snapshot). */
async function joinRecorded(link: string): Promise<{ p: Participant; rec: Recording }> {
  const p = await join(link);
  const frames: string[] = [JSON.stringify({ event: "snapshot", args: [p.view] })];
  p.socket.onAny((event: string, ...args: unknown[]) => {
    frames.push(JSON.stringify({ event, args }));
  });
  return { p, rec: { frames, text: () => frames.join("\n") } };
}

interface Room {
  url: string;
  t: Participant;
  a: Participant;
  b: Participant;
  recA: Recording;
  recB: Recording;
  all: Participant[];
}

const NAMES = { a: "Robin", b: "Kai" };

/** A therapist-mode session with three seats joined (partners recorded); partners admitted unless asked not to. */
async function therapistRoom(
  opts: { agenda?: string[]; channel?: "typed" | "spoken"; admit?: boolean } = {},
): Promise<Room> {
  // Each refusal check resyncs twice on the therapist's socket: lift the per-socket rate limit out of the way.
  const server = await startTestServer({ commandRate: 10_000 });
  const created = await createTestSession(server.url, {
    mode: "therapist",
    channel: opts.channel ?? "typed",
    agenda: opts.agenda ?? ["check-in", "intentional-dialogue"],
    names: NAMES,
  });
  expect(created.links.therapist).toBeDefined();
  const t = await join(created.links.therapist!);
  const { p: a, rec: recA } = await joinRecorded(created.links.a);
  const { p: b, rec: recB } = await joinRecorded(created.links.b);
  const room: Room = { url: server.url, t, a, b, recA, recB, all: [t, a, b] };
  await t.waitFor((v) => v.presence.a && v.presence.b && v.presence.therapist);
  if (opts.admit !== false) await act(room, t, { type: "admit", partners: ["a", "b"] });
  return room;
}

/** Sends a command that must be applied, then waits until every seat has seen its version. */
async function act(room: Room, p: Participant, command: Command): Promise<number> {
  const ack = await p.send(command);
  if (!ack.ok) throw new Error(`${p.seat} ${command.type} refused: ${ack.error.code} ${ack.error.message}`);
  await Promise.all(room.all.map((x) => x.waitForVersion(ack.version)));
  return ack.version;
}

/** Sends a command that must be refused with `code`, and proves the session did not move. */
async function refused(room: Room, p: Participant, command: Command, code: ErrorCode): Promise<string> {
  const before = (await room.t.resync()).version;
  const ack = await p.send(command);
  expect(ack.ok, `${p.seat} ${command.type} should be refused`).toBe(false);
  if (ack.ok) return "";
  expect(ack.error.code, `${p.seat} ${command.type}: ${ack.error.message}`).toBe(code);
  expect((await room.t.resync()).version, `${command.type} changed nothing`).toBe(before);
  return ack.error.message;
}

function allowed(view: SessionView, type: CommandType) {
  return view.allowed.find((x) => x.type === type)!;
}

const ANSWER = { rating: 6, feeling: "hopeful" };

describe("therapist-led session over sockets", () => {
  it("waiting room: a partner before admission receives nothing of the session", async () => {
    const room = await therapistRoom({ admit: false });
    const { t, a, b, recA, recB } = room;
    expect(a.view.waiting).toBe(true);
    expect(t.view.admitted).toEqual({ a: false, b: false });
    // The therapist sees who is waiting (present, not admitted) before admitting anyone.
    expect(t.view.presence).toMatchObject({ a: true, b: true });

    await act(room, t, { type: "admit", partners: ["b"] });
    expect(b.view.waiting).toBe(false);
    expect(b.view.names).toEqual(NAMES);
    expect(a.view.waiting).toBe(true);

    // The session moves on with b only: an exercise, a message to both, a note, a nudge to the waiting partner.
    await act(room, t, { type: "message-both", text: "Welcome, take a seat-marker-msg" });
    await act(room, t, { type: "note", text: "note-marker-waiting" });
    await act(room, t, { type: "nudge", to: "a", text: "nudge-marker-to-waiting" });
    await act(room, t, { type: "start-exercise", exerciseId: "intentional-dialogue", firstSpeaker: "b" });
    await act(room, b, { type: "say", text: "say-marker-from-b" });
    // The waiting partner can do nothing meanwhile.
    await refused(room, a, { type: "say", text: "let me in" }, "NOT_ADMITTED");
    await refused(room, a, { type: "call-time-out" }, "NOT_ADMITTED");

    expect(a.view.waiting).toBe(true);
    expect(a.view.version).toBe(t.view.version);
    const seen = recA.text();
    for (const secret of [
      "Robin",
      "Kai",
      "check-in",
      "intentional-dialogue",
      "Emotional check-in",
      "Intentional dialogue",
      "seat-marker-msg",
      "note-marker-waiting",
      "nudge-marker-to-waiting",
      "say-marker-from-b",
      "exercise-started",
      '"stepId"',
    ]) {
      expect(seen, `a waiting partner received "${secret}"`).not.toContain(secret);
    }
    for (const frame of recA.frames) {
      const { event, args } = JSON.parse(frame) as { event: string; args: unknown[] };
      if (event === "snapshot") {
        expect(args[0]).toMatchObject({
          waiting: true,
          names: {},
          agenda: [],
          exercise: null,
          transcript: [],
          nudges: [],
        });
      }
      if (event === "update") {
        // Only the version moves for a partner who waits: no field, no entry, no event, no view.
        const update = args[0] as ViewUpdate;
        expect(update.set ?? {}).toEqual({});
        expect(update.append).toBeUndefined();
        expect(update.view).toBeUndefined();
        expect(update.events).toEqual([]);
      }
    }
    // b (admitted) did get the session (its own words came back in its ack); the nudge meant for a never reached b.
    expect(b.view.transcript.map((entry) => entry.text)).toContain("say-marker-from-b");
    expect(recB.text()).toContain("exercise-started");
    expect(recB.text()).not.toContain("nudge-marker-to-waiting");

    // Once admitted, a sees the session as it is, and the nudge that was meant for them.
    await act(room, t, { type: "admit", partners: ["a"] });
    expect(a.view.waiting).toBe(false);
    expect(a.view.exercise?.id).toBe("intentional-dialogue");
    expect(a.view.nudges.map((n) => n.text)).toEqual(["nudge-marker-to-waiting"]);
    expect(a.events).toContainEqual({ type: "admitted", partner: "a" });
    // ...but never the therapist's notes.
    expect(recA.text()).not.toContain("note-marker-waiting");
  });

  it("admit: each partner, both at once, and again is refused", async () => {
    const room = await therapistRoom({ admit: false });
    const { t, a } = room;
    expect(allowed(t.view, "admit").allowed).toBe(true);
    await act(room, t, { type: "admit", partners: ["a"] });
    expect(t.view.admitted).toEqual({ a: true, b: false });
    expect(a.view.waiting).toBe(false);
    await refused(room, t, { type: "admit", partners: ["a"] }, "ALREADY_ADMITTED");
    // "Both" admits whoever is still waiting.
    await act(room, t, { type: "admit", partners: ["a", "b"] });
    expect(t.view.admitted).toEqual({ a: true, b: true });
    expect(allowed(t.view, "admit")).toMatchObject({ allowed: false, code: "ALREADY_ADMITTED" });
    await refused(room, t, { type: "admit", partners: ["b"] }, "ALREADY_ADMITTED");

    const other = await therapistRoom({ admit: false });
    await act(other, other.t, { type: "admit", partners: ["a", "b"] });
    expect(other.a.view.waiting || other.b.view.waiting).toBe(false);
    expect(other.t.events.filter((e) => e.type === "admitted")).toHaveLength(2);
  });

  it("pacing: start any exercise with a first speaker, timer extend/shorten, pause/resume, floor, end", async () => {
    const room = await therapistRoom({ agenda: ["check-in"] });
    const { t, a, b } = room;
    // Not on the agenda: started from the catalogue, b speaking first.
    await act(room, t, { type: "start-exercise", exerciseId: "stress-reducing", firstSpeaker: "b" });
    for (const p of [t, a, b]) expect(p.view.exercise).toMatchObject({ id: "stress-reducing", speaker: "b" });
    expect(b.view.exercise!.step.role).toBe("speaker");
    const deadline = t.view.exercise!.step.deadline!;
    expect(deadline).toBeGreaterThan(Date.now() + 590_000);

    await act(room, t, { type: "adjust-timer", seconds: 60 });
    expect(t.view.exercise!.step.deadline).toBe(deadline + 60_000);
    expect(a.view.exercise!.step.deadline).toBe(deadline + 60_000);
    await act(room, t, { type: "adjust-timer", seconds: -120 });
    expect(b.view.exercise!.step.deadline).toBe(deadline - 60_000);
    await refused(room, t, { type: "adjust-timer", seconds: 0 }, "INVALID_COMMAND");

    await act(room, t, { type: "pause" });
    for (const p of [t, a, b]) {
      expect(p.view.paused?.by).toBe("therapist");
      expect(p.view.exercise!.step.deadline).toBeUndefined();
    }
    const frozen = t.view.exercise!.step.remainingMs!;
    expect(frozen).toBeGreaterThan(500_000);
    await refused(room, b, { type: "post", text: "still talking" }, "PAUSED");
    await refused(room, t, { type: "pause" }, "PAUSED");
    expect(allowed(t.view, "skip-step")).toMatchObject({ allowed: false, code: "PAUSED" });
    // The timer can be set while paused; it stays frozen.
    await act(room, t, { type: "adjust-timer", seconds: 60 });
    expect(t.view.exercise!.step.remainingMs).toBe(frozen + 60_000);
    await act(room, t, { type: "resume" });
    expect(a.view.paused).toBeNull();
    const resumed = t.view.exercise!.step.deadline!;
    expect(resumed - Date.now()).toBeGreaterThan(frozen + 50_000);
    expect(resumed - Date.now()).toBeLessThanOrEqual(frozen + 60_000);
    await refused(room, t, { type: "resume" }, "NOT_PAUSED");

    // Hand the floor: a now holds the talk step; the old speaker may no longer end it.
    await act(room, t, { type: "hand-floor" });
    for (const p of [t, a, b]) expect(p.view.exercise!.speaker).toBe("a");
    expect(a.view.exercise!.step.role).toBe("speaker");
    await refused(room, b, { type: "end-turn" }, "NOT_YOUR_TURN");
    await act(room, a, { type: "post", text: "my turn now" });

    await act(room, t, { type: "end-exercise" });
    for (const p of [t, a, b]) {
      expect(p.view.phase).toBe("lobby");
      expect(p.view.completed).toEqual([expect.objectContaining({ exerciseId: "stress-reducing", endedEarly: true })]);
    }
    await refused(room, t, { type: "end-exercise" }, "NO_ACTIVE_EXERCISE");

    await refused(room, t, { type: "start-exercise", exerciseId: "no-such-thing" }, "UNKNOWN_EXERCISE");
    // Without an id the agenda's next exercise starts.
    await act(room, t, { type: "start-exercise" });
    expect(t.view.exercise?.id).toBe("check-in");

    await act(room, t, { type: "end-session" });
    for (const p of [t, a, b]) expect(p.view.phase).toBe("ended");
    await refused(room, t, { type: "note", text: "after the end" }, "SESSION_ENDED");
  });

  it("check-ins: an answer reaches nobody before the reveal, then the therapist sees both at once", async () => {
    const room = await therapistRoom({ agenda: ["check-in"] });
    const { t, a, b } = room;
    await act(room, t, { type: "start-exercise" });
    await act(room, a, { type: "answer", answer: { ...ANSWER, note: "private-until-both" } });
    expect(a.view.exercise!.step.yourAnswer).toEqual({ ...ANSWER, note: "private-until-both" });
    // Before the reveal neither the other partner nor the therapist learns a word of it.
    expect(b.view.exercise!.step.answered).toEqual({ a: true, b: false });
    expect(b.view.exercise!.step.yourAnswer).toBeUndefined();
    expect(room.recB.text()).not.toContain("private-until-both");
    expect(t.view.checkIns).toEqual([]);
    expect(t.view.exercise!.step.yourAnswer).toBeUndefined();
    expect(JSON.stringify(t.view)).not.toContain("private-until-both");
    await act(room, b, { type: "answer", answer: { rating: 4, feeling: "tired" } });
    expect(t.view.checkIns).toHaveLength(1);
    expect(t.view.checkIns[0]!.answers).toEqual({
      a: { ...ANSWER, note: "private-until-both" },
      b: { rating: 4, feeling: "tired" },
    });
    expect(t.events).toContainEqual({ type: "revealed", exerciseId: "check-in", stepId: "feel" });
    expect(b.view.checkIns).toEqual(t.view.checkIns);
  });

  it("pacing: skip a step and go back one, the floor and progress following", async () => {
    const room = await therapistRoom();
    const { t, a, b } = room;
    await act(room, t, { type: "start-exercise", exerciseId: "intentional-dialogue", firstSpeaker: "a" });
    expect(t.view.exercise!.step.id).toBe("invite");
    expect(allowed(t.view, "back-step")).toMatchObject({ allowed: false, code: "NO_PREVIOUS_STEP" });
    await refused(room, t, { type: "back-step" }, "NO_PREVIOUS_STEP");
    await act(room, t, { type: "skip-step" });
    expect(b.view.exercise!.step.id).toBe("ready");
    await act(room, t, { type: "skip-step" });
    expect(a.view.exercise!.step).toMatchObject({ id: "send", role: "speaker", yourMove: true });
    // "send" follows "ready" in play; in the definition the "later" step (offer a time) sits between them.
    expect(t.view.exercise!.stepIndex).toBe(3);
    await act(room, t, { type: "back-step" });
    expect(a.view.exercise!.step.id).toBe("ready");
    expect(t.view.exercise!.stepIndex).toBe(1);
    await act(room, t, { type: "back-step" });
    expect(b.view.exercise!.step.id).toBe("invite");
    await refused(room, t, { type: "back-step" }, "NO_PREVIOUS_STEP");
    // The partners can still play on from where the therapist put them.
    await act(room, a, { type: "say", text: "Can we talk about the weekend?" });
    expect(b.view.exercise!.step).toMatchObject({ id: "ready", yourMove: true });
  });

  /** Every command only the therapist may send in a therapist-led session. */
  const therapistOnly: Command[] = [
    { type: "admit", partners: ["a", "b"] },
    { type: "skip-step" },
    { type: "back-step" },
    { type: "hand-floor" },
    { type: "adjust-timer", seconds: 60 },
    { type: "nudge", to: "b", text: "a nudge" },
    { type: "message-both", text: "to both" },
    { type: "note", text: "a note" },
    { type: "step-out", partner: "b" },
    { type: "bring-back" },
    { type: "add-exercise", definition: {} },
    { type: "seen-ask", partner: "a" },
    // In a therapist-led session the pace is the therapist's too.
    { type: "start-exercise", exerciseId: "check-in" },
    { type: "set-first-speaker", partner: "b" },
    { type: "pause" },
    { type: "resume" },
    { type: "end-exercise" },
    { type: "end-session" },
  ];

  it("every therapist-only command is refused for each partner seat with THERAPIST_ONLY", async () => {
    const room = await therapistRoom({ agenda: ["stress-reducing"] });
    const { t, a, b } = room;
    await act(room, t, { type: "start-exercise", firstSpeaker: "a" });
    for (const seat of [a, b]) {
      for (const command of therapistOnly) {
        await refused(room, seat, command, "THERAPIST_ONLY");
        expect(allowed(seat.view, command.type), `${seat.seat} ${command.type}`).toMatchObject({
          allowed: false,
          code: "THERAPIST_ONLY",
        });
      }
    }
    // The same commands are the therapist's (those that fit this moment go through).
    await act(room, t, { type: "hand-floor" });
    await act(room, t, { type: "note", text: "fine for the therapist" });
  });

  /** For each partner-voice command: a session at a step that asks for it, and the partner who may send it. */
  const voiceCases: {
    command: Command;
    agenda: string[];
    channel: "typed" | "spoken";
    ready?: (room: Room) => Promise<void>;
    partner: Partner;
  }[] = [
    {
      command: { type: "say", text: "I would like to talk" },
      agenda: ["intentional-dialogue"],
      channel: "typed",
      partner: "a",
    },
    {
      command: { type: "choose", option: "now" },
      agenda: ["intentional-dialogue"],
      channel: "typed",
      ready: async (room) => {
        await act(room, room.a, { type: "say", text: "Is now a good time?" });
      },
      partner: "b",
    },
    { command: { type: "answer", answer: ANSWER }, agenda: ["check-in"], channel: "typed", partner: "a" },
    {
      command: { type: "post", text: "a message in my turn" },
      agenda: ["stress-reducing"],
      channel: "typed",
      partner: "a",
    },
    { command: { type: "end-turn" }, agenda: ["stress-reducing"], channel: "typed", partner: "a" },
    { command: { type: "call-time-out", minutes: 20 }, agenda: ["appreciation"], channel: "spoken", partner: "b" },
    { command: { type: "guess", text: "my answer" }, agenda: ["love-maps"], channel: "typed", partner: "a" },
    {
      command: { type: "mark", mark: "close" },
      agenda: ["love-maps"],
      channel: "spoken",
      ready: async (room) => {
        await act(room, room.a, { type: "guess" });
        await act(room, room.b, { type: "guess" });
      },
      partner: "b",
    },
    {
      command: { type: "pick", option: "b-0" },
      agenda: ["plan-time"],
      channel: "typed",
      ready: async (room) => {
        await act(room, room.a, { type: "answer", answer: { ideas: ["a walk"] } });
        await act(room, room.b, { type: "answer", answer: { ideas: ["a film"] } });
      },
      partner: "a",
    },
    {
      command: { type: "agree", when: new Date(Date.now() + 6 * 3_600_000).toISOString() },
      agenda: ["plan-time"],
      channel: "typed",
      ready: async (room) => {
        await act(room, room.a, { type: "answer", answer: { ideas: ["a walk"] } });
        await act(room, room.b, { type: "answer", answer: { ideas: ["a film"] } });
        await act(room, room.a, { type: "pick", option: "b-0" });
        await act(room, room.b, { type: "pick", option: "b-0" });
      },
      partner: "a",
    },
    {
      command: { type: "acknowledge" },
      agenda: ["plan-time"],
      channel: "spoken",
      ready: async (room) => {
        await act(room, room.a, { type: "answer", answer: { ideas: ["a walk"] } });
        await act(room, room.b, { type: "answer", answer: { ideas: ["a film"] } });
        await act(room, room.a, { type: "pick", option: "a-0" });
        await act(room, room.b, { type: "pick", option: "a-0" });
        await act(room, room.a, { type: "agree", when: new Date(Date.now() + 6 * 3_600_000).toISOString() });
      },
      partner: "b",
    },
  ];

  it.each(voiceCases)(
    "the therapist may not $command.type for a partner (PARTNER_ONLY); the partner may",
    async (c) => {
      const room = await therapistRoom({ agenda: c.agenda, channel: c.channel });
      await act(room, room.t, { type: "start-exercise", firstSpeaker: "a" });
      await c.ready?.(room);
      const message = await refused(room, room.t, c.command, "PARTNER_ONLY");
      expect(message.length).toBeGreaterThan(0);
      expect(allowed(room.t.view, c.command.type)).toMatchObject({ allowed: false, code: "PARTNER_ONLY" });
      // The step really asks for this command: the partner's own voice is accepted.
      const partner = c.partner === "a" ? room.a : room.b;
      await act(room, partner, c.command);
    },
  );

  it("the two tables cover every command a seat can send", () => {
    const covered = new Set<CommandType>([
      ...therapistOnly.map((c) => c.type),
      ...voiceCases.map((c) => c.command.type),
    ]);
    // What is left is open to every seat that may act at all: the server's time-up, ending a break, the private
    // channel — and a partner's own word to the therapist about safety (tests/integration/safety.test.ts).
    expect(COMMAND_TYPES.filter((type) => !covered.has(type)).sort()).toEqual([
      "ask-alone",
      "end-time-out",
      "private-message",
      "reflect",
      "safety-check",
      "time-up",
    ]);
  });

  it("a step acted by the therapist is the one place the therapist says something in the exercise", async () => {
    const room = await therapistRoom();
    const { t, a } = room;
    await act(room, t, { type: "add-exercise", definition: THERAPIST_STEP });
    await act(room, t, { type: "start-exercise", exerciseId: "opening-words", firstSpeaker: "a" });
    expect(t.view.exercise!.step).toMatchObject({ actor: "therapist", yourMove: true });
    await refused(room, a, { type: "say", text: "me instead" }, "NOT_YOUR_TURN");
    await act(room, t, { type: "say", text: "Today we'll practise mirroring." });
    expect(a.view.transcript.at(-1)).toMatchObject({
      seat: "therapist",
      kind: "say",
      text: "Today we'll practise mirroring.",
    });
    expect(a.view.exercise!.step).toMatchObject({ id: "reply", yourMove: true });
  });

  it("a partner's time-out holds the exercise; the therapist sees it and may end the break", async () => {
    const room = await therapistRoom({ agenda: ["stress-reducing"] });
    const { t, a, b } = room;
    await act(room, t, { type: "start-exercise", firstSpeaker: "a" });
    await act(room, b, { type: "call-time-out", minutes: 30 });
    expect(t.view.timeOut).toMatchObject({ by: "b" });
    expect(t.view.timeOut!.returnAt - t.view.timeOut!.at).toBe(30 * 60_000);
    expect(t.view.exercise!.step.deadline).toBeUndefined();
    expect(allowed(t.view, "skip-step")).toMatchObject({ allowed: false, code: "ON_TIME_OUT" });
    await refused(room, a, { type: "post", text: "still here" }, "ON_TIME_OUT");
    await act(room, t, { type: "end-time-out" });
    for (const p of [t, a, b]) expect(p.view.timeOut).toBeNull();
    expect(t.view.exercise!.step.deadline).toBeGreaterThan(Date.now());
  });

  it("nudges reach only their partner; a message to both reaches both", async () => {
    const room = await therapistRoom();
    const { t, a, b, recA, recB } = room;
    await act(room, t, { type: "start-exercise", exerciseId: "intentional-dialogue", firstSpeaker: "a" });
    const nudge = "try starting with 'I feel' (nudge-for-a)";
    await act(room, t, { type: "nudge", to: "a", text: nudge });
    await act(room, t, { type: "nudge", to: "b", text: "breathe first (nudge-for-b)" });
    expect(a.view.nudges.map((n) => n.text)).toEqual([nudge]);
    expect(b.view.nudges.map((n) => n.text)).toEqual(["breathe first (nudge-for-b)"]);
    expect(t.view.nudges.map((n) => n.to)).toEqual(["a", "b"]);
    expect(recB.text()).not.toContain("nudge-for-a");
    expect(recA.text()).not.toContain("nudge-for-b");
    expect(a.events.filter((e) => e.type === "nudged")).toEqual([{ type: "nudged", to: "a" }]);
    expect(b.events.filter((e) => e.type === "nudged")).toEqual([{ type: "nudged", to: "b" }]);
    await refused(room, t, { type: "nudge", to: "a", text: "   " }, "INVALID_COMMAND");
    await refused(room, t, { type: "nudge", to: "a", text: "x".repeat(2001) }, "TEXT_TOO_LONG");

    await act(room, t, { type: "message-both", text: "Slow down a little, both of you." });
    for (const p of [a, b, t]) {
      expect(p.view.transcript.at(-1)).toMatchObject({
        seat: "therapist",
        kind: "message",
        text: "Slow down a little, both of you.",
      });
    }
  });

  it("therapist notes never appear in any event either partner receives", async () => {
    const room = await therapistRoom();
    const { t, a, b, recA, recB } = room;
    const notes = ["NOTE-1 Robin deflects when Kai raises money", "NOTE-2 consider repair next week"];
    await act(room, t, { type: "note", text: notes[0]! });
    // Run a stretch of session around the notes so every kind of update goes out to the partners.
    await act(room, t, { type: "start-exercise", exerciseId: "check-in" });
    await act(room, a, { type: "answer", answer: ANSWER });
    await act(room, t, { type: "note", text: notes[1]! });
    await act(room, b, { type: "answer", answer: { rating: 5, feeling: "calm" } });
    await act(room, t, { type: "step-out", partner: "a" });
    await act(room, t, { type: "bring-back" });
    await act(room, t, { type: "end-session" });
    expect(t.view.notes.map((n) => n.text)).toEqual(notes);
    for (const [p, rec] of [
      [a, recA],
      [b, recB],
    ] as const) {
      expect(p.view.notes).toEqual([]);
      expect(rec.frames.length).toBeGreaterThan(8);
      for (const note of notes) expect(rec.text()).not.toContain(note.slice(0, 6));
      // A fresh snapshot says the same.
      expect(JSON.stringify(await p.resync())).not.toContain("NOTE-");
    }
  });

  it("step out: the stepped-out partner receives nothing of the private channel; both come back at the same step", async () => {
    const room = await therapistRoom({ agenda: ["stress-reducing"] });
    const { t, a, b, recA } = room;
    await act(room, t, { type: "start-exercise", firstSpeaker: "b" });
    await act(room, b, { type: "post", text: "work has been a lot" });
    const before = t.view.exercise!;
    await refused(room, t, { type: "private-message", text: "too early" }, "NOT_STEPPED_OUT");
    await refused(room, t, { type: "bring-back" }, "NOT_STEPPED_OUT");

    const framesBefore = recA.frames.length;
    await act(room, t, { type: "step-out", partner: "a" });
    expect(a.view.steppedOut).toBe("a");
    expect(b.view.steppedOut).toBe("a");
    expect(t.view.exercise!.step.deadline).toBeUndefined();
    const remaining = t.view.exercise!.step.remainingMs!;
    await refused(room, t, { type: "step-out", partner: "b" }, "ALREADY_STEPPED_OUT");

    const secrets = [
      "PRIVATE-1 how safe do you feel at home?",
      "PRIVATE-2 mostly safe, but the shouting scares me",
      "PRIVATE-3 thank you for telling me",
    ];
    await act(room, t, { type: "private-message", text: secrets[0]! });
    await act(room, b, { type: "private-message", text: secrets[1]! });
    await act(room, t, { type: "private-message", text: secrets[2]! });
    // The one stepped out can neither write in it nor move the exercise.
    await refused(room, a, { type: "private-message", text: "what are you saying?" }, "STEPPED_OUT");
    await refused(room, a, { type: "call-time-out" }, "STEPPED_OUT");
    await refused(room, b, { type: "post", text: "meanwhile" }, "STEPPED_OUT");
    expect(allowed(t.view, "skip-step")).toMatchObject({ allowed: false, code: "STEPPED_OUT" });
    expect(allowed(t.view, "start-exercise")).toMatchObject({ allowed: false });

    expect(b.view.privateMessages.map((m) => m.text)).toEqual(secrets);
    expect(b.view.privateMessages.map((m) => m.seat)).toEqual(["therapist", "b", "therapist"]);
    expect(t.view.privateMessages.map((m) => m.with)).toEqual(["b", "b", "b"]);
    expect(a.view.privateMessages).toEqual([]);
    // What a learned while out: that they are stepped out, and nothing of what was said.
    const duringOut = recA.frames.slice(framesBefore).join("\n");
    expect(duringOut).toContain("stepped-out");
    for (const s of secrets) expect(recA.text()).not.toContain(s.slice(0, 9));
    expect(recA.text()).not.toContain("PRIVATE-");

    await act(room, t, { type: "bring-back" });
    for (const p of [t, a, b]) {
      expect(p.view.steppedOut).toBeNull();
      expect(p.view.exercise).toMatchObject({
        id: before.id,
        stepIndex: before.stepIndex,
        speaker: before.speaker,
        cycle: before.cycle,
      });
    }
    expect(a.events).toContainEqual({ type: "brought-back" });
    // The timer picks up with what remained when a stepped out.
    const left = t.view.exercise!.step.deadline! - Date.now();
    expect(left).toBeLessThanOrEqual(remaining);
    expect(left).toBeGreaterThan(remaining - 5_000);
    // Back in the room, a still sees nothing of it, even in a fresh snapshot.
    expect(JSON.stringify(await a.resync())).not.toContain("PRIVATE-");
    await refused(room, b, { type: "private-message", text: "one more" }, "NOT_STEPPED_OUT");
    await act(room, a, { type: "post", text: "I'm back" });
  });

  it("custom exercise: an invalid definition is refused with each problem at its path; a valid one can be run", async () => {
    const room = await therapistRoom();
    const { t, a } = room;
    const broken = {
      ...GRATITUDE_MINUTE,
      colour: "blue",
      steps: [
        { ...GRATITUDE_MINUTE.steps[0], next: { to: "nowhere" } },
        { ...GRATITUDE_MINUTE.steps[1], kind: "shout" },
      ],
    };
    const message = await refused(room, t, { type: "add-exercise", definition: broken }, "INVALID_DEFINITION");
    const lines = message.split("\n");
    expect(lines).toEqual(
      expect.arrayContaining(["colour: unknown field 'colour'", expect.stringMatching(/^steps\[1\]\.kind: /)]),
    );
    await refused(room, t, { type: "add-exercise", definition: "not an object" }, "INVALID_DEFINITION");
    const reused = await refused(
      room,
      t,
      { type: "add-exercise", definition: { ...GRATITUDE_MINUTE, id: "check-in" } },
      "INVALID_DEFINITION",
    );
    expect(reused).toContain("id:");
    const target = await refused(
      room,
      t,
      {
        type: "add-exercise",
        definition: {
          ...GRATITUDE_MINUTE,
          steps: [{ ...GRATITUDE_MINUTE.steps[0], next: { to: "nowhere" } }, GRATITUDE_MINUTE.steps[1]],
        },
      },
      "INVALID_DEFINITION",
    );
    expect(target).toMatch(/^steps\[0\]\.next\.to: unknown step 'nowhere'/);
    expect(t.view.agenda.map((e) => e.id)).toEqual(["check-in", "intentional-dialogue"]);

    await act(room, t, { type: "add-exercise", definition: GRATITUDE_MINUTE });
    expect(a.view.agenda.map((e) => e.id)).toEqual(["check-in", "intentional-dialogue", "gratitude-minute"]);
    await refused(room, t, { type: "add-exercise", definition: GRATITUDE_MINUTE }, "INVALID_DEFINITION");
    await act(room, t, { type: "start-exercise", exerciseId: "gratitude-minute", firstSpeaker: "b" });
    await act(room, room.b, { type: "say", text: "Thank you for the coffee." });
    await act(room, a, { type: "say", text: "You're thanking me for the coffee." });
    expect(a.view.completed.map((c) => c.exerciseId)).toEqual(["gratitude-minute"]);
  });

  it("API key: with THERAPIST_API_KEYS set, therapist sessions need the key; guided ones do not", async () => {
    const key = "test-key-0123456789abcdef";
    const server = await startTestServer({ therapistApiKeys: [key] });
    const post = (body: object, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/api/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    const therapist = { mode: "therapist", channel: "typed" };
    const missing = await post(therapist);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    const wrong = await post(therapist, { authorization: `Bearer ${key.slice(0, -1)}x` });
    expect(wrong.status).toBe(401);
    const notBearer = await post(therapist, { authorization: key });
    expect(notBearer.status).toBe(401);
    const ok = await post(therapist, { authorization: `Bearer ${key}` });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { links: { therapist?: string } }).links.therapist).toMatch(/\/join\//);
    const guided = await post({ mode: "guided", channel: "typed" });
    expect(guided.status).toBe(201);
    expect(((await guided.json()) as { links: { therapist?: string } }).links.therapist).toBeUndefined();

    // Without the setting, no key is asked for.
    const open = await startTestServer();
    expect((await createTestSession(open.url, { mode: "therapist", channel: "spoken" })).links.therapist).toBeDefined();
  });

  it("a guided session keeps its own rules: partners pace it, anyone may call a time-out, no therapist commands", async () => {
    const server = await startTestServer();
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["stress-reducing"],
    });
    expect(created.links.therapist).toBeUndefined();
    const a = await join(created.links.a);
    const b = await join(created.links.b);
    const room: Room = {
      url: server.url,
      t: a,
      a,
      b,
      recA: { frames: [], text: () => "" },
      recB: { frames: [], text: () => "" },
      all: [a, b],
    };
    expect(a.view.waiting).toBe(false);
    await act(room, b, { type: "start-exercise", firstSpeaker: "b" });
    await act(room, a, { type: "pause" });
    await act(room, b, { type: "resume" });
    for (const command of [
      { type: "nudge", to: "a", text: "x" },
      { type: "skip-step" },
      { type: "step-out", partner: "a" },
    ] as Command[]) {
      await refused(room, a, command, "THERAPIST_ONLY");
    }
    await act(room, a, { type: "call-time-out", minutes: 20 });
    expect(b.view.timeOut?.by).toBe("a");
  });
});

/** A small uploaded exercise: one thanks, one reflection. */

/** An uploaded exercise that opens with the therapist's own words. */
const THERAPIST_STEP = {
  id: "opening-words",
  title: "Opening words",
  summary: "The therapist frames the session; the speaker answers.",
  cycles: 1,
  modes: ["therapist"],
  steps: [
    {
      id: "frame",
      title: "Framing",
      actor: "therapist",
      kind: "say",
      prompt: { therapist: "Say in a sentence what today is for.", all: "Your therapist opens the session." },
      next: { to: "reply" },
    },
    {
      id: "reply",
      title: "Reply",
      actor: "speaker",
      kind: "say",
      prompt: { all: "Say what you hope for from today." },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;
