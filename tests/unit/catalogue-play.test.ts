/**
 * Every catalogue exercise played to its end through the engine: both speaking orders, both channels, and the
 * loops ("not quite", "there's more", "another one", the floor passing back and forth, the check-in reveal).
 * Each move names which partner acts (the first or the second speaker), so the roles the engine assigns are
 * checked against the script rather than read back from the engine.
 */
import { describe, expect, it } from "vitest";
import { findExercise } from "../../shared/catalogue/index.ts";
import { replay } from "../../shared/engine.ts";
import type { ExerciseDefinition } from "../../shared/exercise-format.ts";
import { type CheckInAnswer, type Channel, otherPartner, type Partner } from "../../shared/protocol.ts";
import { Table } from "../support/play.ts";

type Who = "first" | "second";
type Move =
  | { step: string; by: Who; say: true }
  | { step: string; by: Who; choose: string }
  /** A typed message during a talk step, by either partner; `holder` is who holds the floor meanwhile. */
  | { step: string; by: Who; post: string; holder: Who }
  | { step: string; by: Who; endTurn: true }
  | { step: string; timeUp: true }
  | { step: string; answers: Record<Who, CheckInAnswer> };

const say = (step: string, by: Who): Move => ({ step, by, say: true });
const choose = (step: string, by: Who, option: string): Move => ({ step, by, choose: option });

/** What a transcript entry of this exercise should hold (the comparable part). */
interface Expected {
  seat: Partner;
  kind: "say" | "choice" | "post";
  stepId: string;
  at: number;
  text?: string;
  option?: string;
  label?: string;
}

interface Outcome {
  table: Table;
  transcript: Expected[];
  /** Who held the floor at each step entered, in order. */
  speakers: { step: string; speaker: Partner }[];
}

/** Plays `moves` on a fresh guided table, checking roles, refusals and views at every move. */
function play(def: ExerciseDefinition, channel: Channel, firstSpeaker: Partner, moves: Move[]): Outcome {
  const table = new Table(channel, [def.id]);
  const seatOf = (who: Who): Partner => (who === "first" ? firstSpeaker : otherPartner(firstSpeaker));
  table.act(firstSpeaker, { type: "start-exercise", exerciseId: def.id, firstSpeaker });
  expect(table.events).toContainEqual({ type: "exercise-started", exerciseId: def.id });
  const transcript: Expected[] = [];
  const speakers: Outcome["speakers"] = [];
  let n = 0;

  for (const move of moves) {
    n += 1;
    const step = def.steps.find((s) => s.id === move.step);
    if (!step) throw new Error(`script names unknown step ${move.step}`);
    expect(table.state.phase, `before ${move.step}`).toBe("exercise");
    expect(table.stepId, `move ${n}`).toBe(move.step);

    if ("by" in move) {
      const seat = seatOf(move.by);
      const other = otherPartner(seat);
      // Roles come from the script: the actor of a speaker step holds the floor, of a listener step does not.
      const speaker = "post" in move ? seatOf(move.holder) : step.actor === "listener" ? other : seat;
      expect(table.speaker, `speaker at ${move.step} (move ${n})`).toBe(speaker);
      speakers.push({ step: move.step, speaker });
      const mine = table.view(seat).exercise!;
      const theirs = table.view(other).exercise!;
      expect(mine.step.id).toBe(move.step);
      expect(mine.speaker).toBe(speaker);
      expect(mine.listener).toBe(otherPartner(speaker));
      expect(mine.step.role).toBe(seat === speaker ? "speaker" : "listener");
      expect(theirs.step.role).toBe(other === speaker ? "speaker" : "listener");
      expect(mine.step.prompt.length).toBeGreaterThan(0);
      expect(theirs.step.prompt.length).toBeGreaterThan(0);
      if (!("post" in move)) {
        expect(mine.step.yourMove).toBe(true);
        expect(theirs.step.yourMove).toBe(false);
      }

      if ("say" in move) {
        const text = `${seat} at ${move.step}, move ${n}`;
        const command = table.typed ? { type: "say" as const, text } : { type: "say" as const };
        table.refuse(other, command, "NOT_YOUR_TURN");
        if (table.typed) table.refuse(seat, { type: "say" }, "TEXT_REQUIRED");
        else table.refuse(seat, { type: "say", text }, "TEXT_NOT_ALLOWED");
        table.act(seat, command);
        transcript.push({
          seat,
          kind: "say",
          stepId: move.step,
          at: table.now,
          ...(table.typed ? { text } : {}),
        });
      } else if ("choose" in move) {
        const option = step.options!.find((o) => o.id === move.choose);
        if (!option) throw new Error(`script names unknown option ${move.choose}`);
        expect(mine.step.options).toEqual(step.options!.map((o) => ({ id: o.id, label: o.label })));
        table.refuse(other, { type: "choose", option: option.id }, "NOT_YOUR_TURN");
        table.refuse(seat, { type: "choose", option: "no-such-option" }, "UNKNOWN_OPTION");
        table.act(seat, { type: "choose", option: option.id });
        transcript.push({
          seat,
          kind: "choice",
          stepId: move.step,
          at: table.now,
          option: option.id,
          label: option.label,
        });
      } else if ("post" in move) {
        const text = `${seat}: ${move.post}`;
        if (table.typed) {
          table.act(seat, { type: "post", text });
          transcript.push({ seat, kind: "post", stepId: move.step, at: table.now, text });
        } else {
          table.refuse(seat, { type: "post", text }, "TEXT_NOT_ALLOWED");
        }
      } else {
        table.refuse(other, { type: "end-turn" }, "NOT_YOUR_TURN");
        table.act(seat, { type: "end-turn" });
      }
    } else if ("timeUp" in move) {
      const deadline = table.state.turn!.deadline!;
      expect(deadline).toBe(table.state.turn!.stepStartedAt + step.durationSeconds! * 1000);
      table.refuse("system", { type: "time-up" }, "DEADLINE_NOT_REACHED");
      table.act("system", { type: "time-up" }, deadline - table.now);
    } else {
      const first = seatOf("first");
      const second = seatOf("second");
      table.act(first, { type: "answer", answer: move.answers.first });
      // Until both have answered, nothing of the first answer reaches the other partner.
      const waiting = table.view(second);
      expect(waiting.exercise?.step.answered?.[first]).toBe(true);
      expect(waiting.exercise?.step.answered?.[second]).toBeFalsy();
      expect(waiting.exercise?.step.yourAnswer).toBeUndefined();
      expect(waiting.checkIns).toEqual([]);
      if (move.answers.first.note) expect(JSON.stringify(waiting)).not.toContain(move.answers.first.note);
      expect(table.view(first).exercise?.step.yourAnswer).toEqual(move.answers.first);
      table.refuse(first, { type: "answer", answer: move.answers.first }, "ALREADY_ANSWERED");
      table.act(second, { type: "answer", answer: move.answers.second });
      expect(table.events).toContainEqual({ type: "revealed", exerciseId: def.id, stepId: move.step });
      const revealed = table.state.checkIns.at(-1)!;
      expect(revealed).toMatchObject({
        exerciseId: def.id,
        stepId: move.step,
        answers: { [first]: move.answers.first, [second]: move.answers.second },
      });
      for (const seat of [first, second]) expect(table.view(seat).checkIns).toContainEqual(revealed);
    }
  }
  return { table, transcript, speakers };
}

/** Checks the exercise is over, the transcript is exactly the script's, and the log replays to the same state. */
function expectFinished(def: ExerciseDefinition, outcome: Outcome): void {
  const { table, transcript } = outcome;
  expect(table.state.phase).toBe("lobby");
  expect(table.state.turn).toBeNull();
  expect(table.events).toContainEqual({ type: "exercise-ended", exerciseId: def.id, endedEarly: false });
  expect(table.state.completed).toEqual([{ exerciseId: def.id, at: table.now, endedEarly: false }]);
  const written = table.state.transcript
    .filter((e) => e.exerciseId === def.id)
    .map(({ seat, kind, stepId, at, text, option, label }) => ({
      seat,
      kind,
      stepId,
      at,
      ...(text === undefined ? {} : { text }),
      ...(option === undefined ? {} : { option }),
      ...(label === undefined ? {} : { label }),
    }));
  expect(written).toEqual(transcript);
  expect(table.state.transcript).toHaveLength(transcript.length);
  // The exercise is over: no more exercise moves.
  for (const seat of ["a", "b"] as const) {
    table.refuse(seat, table.typed ? { type: "say", text: "late" } : { type: "say" }, "NO_ACTIVE_EXERCISE");
  }
  expect(table.log).toHaveLength(table.state.version);
  expect(replay(table.init, table.log)).toEqual(table.state);
}

const ORDERS = ["a", "b"] as const;
const CHANNELS = ["typed", "spoken"] as const;
const MATRIX = ORDERS.flatMap((first) => CHANNELS.map((channel) => [first, channel] as const));

function exercise(id: string): ExerciseDefinition {
  const def = findExercise(id);
  if (!def) throw new Error(`catalogue lacks ${id}`);
  return def;
}

describe.each(MATRIX)("first speaker %s, %s channel", (first, channel) => {
  it("intentional dialogue: not quite, there's more, a summary addition, an empathy correction, then the switch", () => {
    const def = exercise("intentional-dialogue");
    const outcome = play(def, channel, first, [
      say("invite", "first"),
      choose("ready", "second", "now"),
      say("send", "first"),
      say("mirror", "second"),
      choose("check", "first", "not-quite"),
      say("clarify", "first"),
      say("mirror", "second"),
      choose("check", "first", "more"),
      say("send", "first"),
      say("mirror", "second"),
      choose("check", "first", "got-it"),
      say("summary", "second"),
      choose("summary-check", "first", "add"),
      say("send", "first"),
      say("mirror", "second"),
      choose("check", "first", "got-it"),
      say("summary", "second"),
      choose("summary-check", "first", "complete"),
      say("validate", "second"),
      say("empathize", "second"),
      choose("empathy-check", "first", "not-quite"),
      say("empathy-correct", "first"),
      say("empathize", "second"),
      choose("empathy-check", "first", "yes"),
      // The cycle ends: the second partner now speaks.
      say("invite", "second"),
      choose("ready", "first", "now"),
      say("send", "second"),
      say("mirror", "first"),
      choose("check", "second", "got-it"),
      say("summary", "first"),
      choose("summary-check", "second", "complete"),
      say("validate", "first"),
      say("empathize", "first"),
      choose("empathy-check", "second", "yes"),
    ]);
    expectFinished(def, outcome);
    const second = otherPartner(first);
    expect(outcome.speakers.filter((s) => s.step === "invite").map((s) => s.speaker)).toEqual([first, second]);
  });

  it("intentional dialogue: 'not right now' leads to a time offered within the day, then a postponed ending", () => {
    const def = exercise("intentional-dialogue");
    const { table } = play(def, channel, first, [say("invite", "first"), choose("ready", "second", "later")]);
    expect(table.state.turn?.stepId).toBe("later");
    const second = otherPartner(first);
    const when = new Date(table.now + 3 * 3_600_000).toISOString();
    table.act(second, { type: "agree", when });
    table.act(first, { type: "acknowledge" });
    expect(table.state.phase).toBe("lobby");
    expect(table.state.completed).toEqual([
      { exerciseId: def.id, at: table.now, endedEarly: false, ending: "postponed" },
    ]);
    expect(table.view(first).completed[0]?.outcome).toBe("postponed");
    expect(table.state.agreements.at(-1)).toMatchObject({ when, by: second, acknowledgedBy: first });
  });

  it("speaker-listener: the floor passes back and forth until someone ends it", () => {
    const def = exercise("speaker-listener");
    const outcome = play(def, channel, first, [
      say("speak", "first"),
      say("paraphrase", "second"),
      choose("confirm", "first", "more"),
      say("speak", "first"),
      say("paraphrase", "second"),
      choose("confirm", "first", "not-quite"),
      say("restate", "first"),
      say("paraphrase", "second"),
      choose("confirm", "first", "hand-floor"),
      say("speak", "second"),
      say("paraphrase", "first"),
      choose("confirm", "second", "hand-floor"),
      say("speak", "first"),
      say("paraphrase", "second"),
      choose("confirm", "first", "hand-floor"),
      say("speak", "second"),
      say("paraphrase", "first"),
      choose("confirm", "second", "done"),
    ]);
    expectFinished(def, outcome);
    const holders = outcome.speakers.filter((s) => s.step === "speak").map((s) => s.speaker);
    const second = otherPartner(first);
    expect(holders).toEqual([first, first, second, first, second]);
  });

  it("stress-reducing: two timed turns, one ended by the talker, one by the timer", () => {
    const def = exercise("stress-reducing");
    const outcome = play(def, channel, first, [
      { step: "talk", by: "first", post: "work has been a lot", holder: "first" },
      { step: "talk", by: "second", post: "that sounds like a heavy week", holder: "first" },
      { step: "talk", by: "first", endTurn: true },
      { step: "talk", by: "second", post: "my sister called again", holder: "second" },
      { step: "talk", by: "first", post: "that's not fair to you", holder: "second" },
      { step: "talk", timeUp: true },
    ]);
    expectFinished(def, outcome);
  });

  it("appreciation: another one, another one, then the other partner's list", () => {
    const def = exercise("appreciation");
    const outcome = play(def, channel, first, [
      say("appreciate", "first"),
      say("receive", "second"),
      choose("more", "first", "another"),
      say("appreciate", "first"),
      say("receive", "second"),
      choose("more", "first", "another"),
      say("appreciate", "first"),
      say("receive", "second"),
      choose("more", "first", "done"),
      say("appreciate", "second"),
      say("receive", "first"),
      choose("more", "second", "done"),
    ]);
    expectFinished(def, outcome);
  });

  it("check-in: private answers revealed together once both have answered", () => {
    const def = exercise("check-in");
    const typed = channel === "typed";
    const outcome = play(def, channel, first, [
      {
        step: "feel",
        answers: {
          first: { rating: 3, feeling: "tired", ...(typed ? { note: "long day, glad we are here" } : {}) },
          second: { rating: 8, feeling: "hopeful" },
        },
      },
    ]);
    expectFinished(def, outcome);
    expect(outcome.table.state.checkIns).toHaveLength(1);
  });

  it("repair: five stages with turns inside each, an apology that needs more, then a plan", () => {
    const def = exercise("repair");
    const stage = (name: string): Move[] => [
      say(`${name}-share`, "first"),
      say(`${name}-reflect`, "second"),
      say(`${name}-share-2`, "second"),
      say(`${name}-reflect-2`, "first"),
    ];
    const outcome = play(def, channel, first, [
      choose("calm", "first", "ready"),
      ...stage("feelings"),
      ...stage("realities"),
      ...stage("triggers"),
      say("responsibility-share", "first"),
      choose("responsibility-receive", "second", "need-more"),
      say("responsibility-need", "second"),
      say("responsibility-share", "first"),
      choose("responsibility-receive", "second", "accept"),
      say("responsibility-share-2", "second"),
      choose("responsibility-receive-2", "first", "need-more"),
      say("responsibility-need-2", "first"),
      say("responsibility-share-2", "second"),
      choose("responsibility-receive-2", "first", "accept"),
      ...stage("plan"),
    ]);
    expectFinished(def, outcome);
    // Both partners spoke in every stage.
    for (const name of ["feelings", "realities", "triggers", "responsibility", "plan"]) {
      const sharers = new Set(
        outcome.transcript.filter((e) => e.kind === "say" && e.stepId.startsWith(`${name}-share`)).map((e) => e.seat),
      );
      expect([...sharers].sort(), name).toEqual(["a", "b"]);
    }
  });

  it("repair: ends at once when the partners are not calm yet", () => {
    const def = exercise("repair");
    expectFinished(def, play(def, channel, first, [choose("calm", "first", "not-yet")]));
  });
});

describe("the whole catalogue on one agenda", () => {
  it("runs every exercise in turn in one session, each started from the agenda", () => {
    const ids = ["check-in", "appreciation", "intentional-dialogue", "speaker-listener", "stress-reducing", "repair"];
    const table = new Table("spoken", ids);
    for (const id of ids) {
      table.act("b", { type: "start-exercise" });
      expect(table.state.turn?.exerciseId).toBe(id);
      expect(table.view("a").exercise?.title).toBe(exercise(id).title);
      // The shortest way through each: end it early, which is recorded as such.
      table.act("a", { type: "end-exercise" });
    }
    expect(table.state.completed.map((c) => [c.exerciseId, c.endedEarly])).toEqual(ids.map((id) => [id, true]));
    table.refuse("a", { type: "start-exercise" }, "UNKNOWN_EXERCISE");
  });
});
