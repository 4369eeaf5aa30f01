/**
 * The six exercises built on questions, guesses, ideas, picks and agreements, each played to its end through the
 * engine in both channels and both speaking orders, along every option path. Each move names which partner acts
 * (the first or the second speaker), so the roles the engine assigns are checked against the script; every
 * accepted move also checks each seat's update against a fresh view (tests/support/play.ts), and a guess or an
 * idea is checked to stay with its author until the reveal.
 */
import { describe, expect, it } from "vitest";
import { findExercise } from "../../shared/catalogue/index.ts";
import { createSession, replay, type SessionInit, viewFor } from "../../shared/engine.ts";
import type { ExerciseDefinition } from "../../shared/exercise-format.ts";
import {
  type Actor,
  type Channel,
  type Command,
  type CommandError,
  type LogEntry,
  type Mode,
  otherPartner,
  type Partner,
  type Seat,
  type SessionState,
} from "../../shared/protocol.ts";
import { act, refuse } from "../support/play.ts";

type Who = "first" | "second";
const HOUR = 3_600_000;

/** A session at a table, guided or led by a therapist, with a clock that moves one second per move. */
class Table {
  state: SessionState;
  now = 1_700_000_000_000;
  readonly init: SessionInit;
  readonly log: LogEntry[] = [];
  readonly seats: Seat[];

  constructor(mode: Mode, channel: Channel, agenda: string[]) {
    this.init = { id: `kinds-${mode}-${channel}`, mode, channel, agenda, createdAt: this.now };
    this.state = createSession(this.init);
    this.seats = mode === "therapist" ? ["a", "b", "therapist"] : ["a", "b"];
  }

  get typed(): boolean {
    return this.state.channel === "typed";
  }

  act(actor: Actor, command: Command, advanceMs = 1000): this {
    this.now += advanceMs;
    const { state, entry } = act(this.state, actor, command, this.now);
    this.state = state;
    this.log.push(entry);
    return this;
  }

  refuse(actor: Actor, command: Command, code: CommandError["code"]): void {
    refuse(this.state, actor, command, this.now, code);
  }

  get stepId(): string | undefined {
    return this.state.turn?.stepId;
  }

  view(seat: Seat) {
    return viewFor(this.state, seat);
  }
}

/** The words of a move, unique per table so a leak can be found by substring. */
let counter = 0;
const words = (what: string) => `${what} #${++counter}`;

interface Player {
  table: Table;
  seat(who: Who): Partner;
  /** Checks the step, the roles and whose move it is, then returns the step definition. */
  at(stepId: string): ExerciseDefinition["steps"][number];
}

function player(def: ExerciseDefinition, mode: Mode, channel: Channel, first: Partner): Player {
  const table = new Table(mode, channel, [def.id]);
  if (mode === "therapist") {
    table.act("therapist", { type: "admit", partners: ["a", "b"] });
    table.act("therapist", { type: "start-exercise", exerciseId: def.id, firstSpeaker: first });
  } else {
    table.act(first, { type: "start-exercise", exerciseId: def.id, firstSpeaker: first });
  }
  return {
    table,
    seat: (who) => (who === "first" ? first : otherPartner(first)),
    at(stepId) {
      expect(table.state.phase, `before ${stepId}`).toBe("exercise");
      expect(table.stepId).toBe(stepId);
      const step = def.steps.find((s) => s.id === stepId);
      if (!step) throw new Error(`script names unknown step ${stepId}`);
      for (const seat of table.seats) {
        const shown = table.view(seat).exercise!.step;
        expect(shown.id).toBe(stepId);
        expect(shown.prompt.length, `${seat} has words at ${stepId}`).toBeGreaterThan(0);
      }
      return step;
    },
  };
}

/** A step one role acts in: that partner (or the therapist) moves, the other seats wait. */
function expectOnlyMove(p: Player, mover: Seat): void {
  for (const seat of p.table.seats) {
    expect(p.table.view(seat).exercise!.step.yourMove, `${seat}'s move at ${p.table.stepId}`).toBe(seat === mover);
  }
}

function say(p: Player, stepId: string, by: Who | "both" | "therapist"): void {
  const step = p.at(stepId);
  const command = (seat: Seat): Command =>
    p.table.typed ? { type: "say", text: words(`${seat} at ${stepId}`) } : { type: "say" };
  if (by === "both") {
    const [one, two] = [p.seat("first"), p.seat("second")];
    expect(step.actor).toBe("both");
    p.table.act(one, command(one));
    expect(p.table.stepId, "a both-step waits for the second partner").toBe(stepId);
    p.table.refuse(one, command(one), "NOT_YOUR_TURN");
    p.table.act(two, command(two));
    return;
  }
  const seat = by === "therapist" ? "therapist" : p.seat(by);
  // Roles from the script: a speaker step is acted by whoever holds the floor, a listener step by the other.
  if (by !== "therapist") {
    const speaker = step.actor === "listener" ? otherPartner(seat as Partner) : seat;
    expect(p.table.state.turn?.speaker, `speaker at ${stepId}`).toBe(speaker);
  }
  expectOnlyMove(p, seat);
  if (p.table.typed) p.table.refuse(seat, { type: "say" }, "TEXT_REQUIRED");
  else p.table.refuse(seat, { type: "say", text: "typed" }, "TEXT_NOT_ALLOWED");
  p.table.act(seat, command(seat));
}

function choose(p: Player, stepId: string, by: Who | "therapist", option: string): void {
  const step = p.at(stepId);
  const seat = by === "therapist" ? "therapist" : p.seat(by);
  expectOnlyMove(p, seat);
  expect(
    step.options?.some((o) => o.id === option),
    `${stepId} offers ${option}`,
  ).toBe(true);
  p.table.refuse(seat, { type: "choose", option: "no-such-option" }, "UNKNOWN_OPTION");
  for (const other of p.table.seats.filter((s) => s !== seat && s !== "therapist")) {
    p.table.refuse(other, { type: "choose", option }, "NOT_YOUR_TURN");
  }
  p.table.act(seat, { type: "choose", option });
}

/**
 * A guess step: `first`/`second` as the script says who answers (the speaker) and who guesses. Neither side shows
 * anywhere but to its author until both are in; then both show to every seat, and `markBy` marks it.
 */
function guess(p: Player, stepId: string, answerer: Who, markBy: Who, mark: "close" | "not-quite"): string {
  p.at(stepId);
  const answering = p.seat(answerer);
  const guessing = otherPartner(answering);
  expect(p.table.state.turn?.speaker).toBe(answering);
  const question = p.table.view(guessing).exercise!.step.question!.text;
  expect(p.table.view(answering).exercise!.step.question?.text).toBe(question);
  const answer = p.table.typed ? words(`answer by ${answering}`) : undefined;
  const theGuess = p.table.typed ? words(`guess by ${guessing}`) : undefined;
  p.table.refuse(answering, { type: "mark", mark }, "NOT_REVEALED");
  p.table.act(answering, { type: "guess", ...(answer ? { text: answer } : {}) });
  for (const seat of [guessing, "therapist"] as const) {
    if (!p.table.seats.includes(seat)) continue;
    const view = p.table.view(seat);
    if (answer) expect(JSON.stringify(view), `${seat} before the reveal`).not.toContain(answer);
    expect(view.exercise!.step.guess?.submitted[answering]).toBe(true);
    expect(view.exercise!.step.guess?.revealed).toBeUndefined();
  }
  expect(p.table.view(answering).exercise!.step.guess?.yours).toEqual(answer ? { text: answer } : {});
  p.table.act(guessing, { type: "guess", ...(theGuess ? { text: theGuess } : {}) });
  const revealed = { answer: answer ? { text: answer } : {}, guess: theGuess ? { text: theGuess } : {} };
  for (const seat of p.table.seats) expect(p.table.view(seat).exercise!.step.guess?.revealed).toEqual(revealed);
  expect(p.table.state.guesses.at(-1)).toMatchObject({ stepId, about: answering, ...revealed });
  expect(p.table.state.guesses.at(-1)?.question?.text).toBe(question);
  p.table.act(p.seat(markBy), { type: "mark", mark });
  return question;
}

/** An idea step: each partner's ideas stay theirs until both have written them. */
function ideas(p: Player, stepId: string, lists: Record<Who, string[]>): void {
  p.at(stepId);
  const one = p.seat("first");
  const two = p.seat("second");
  p.table.act(one, { type: "answer", answer: { ideas: lists.first } });
  for (const seat of [two, "therapist"] as const) {
    if (!p.table.seats.includes(seat)) continue;
    for (const idea of lists.first) expect(JSON.stringify(p.table.view(seat))).not.toContain(idea);
  }
  p.table.act(two, { type: "answer", answer: { ideas: lists.second } });
}

describe.each(["a", "b"] as const)("first speaker %s", (first) => {
  describe.each(["typed", "spoken"] as const)("%s channel", (channel) => {
    function finished(p: Player, def: ExerciseDefinition): void {
      const { table } = p;
      expect(table.state.phase).toBe("lobby");
      // A named ending (e.g. deeper questions' "stopped for today") is recorded with it.
      expect(table.state.completed).toMatchObject([{ exerciseId: def.id, at: table.now, endedEarly: false }]);
      expect(replay(table.init, table.log)).toEqual(table.state);
    }

    it("love maps: guesses about each partner's world in turn, closer and further, then a stop", () => {
      const def = findExercise("love-maps")!;
      const p = player(def, "guided", channel, first);
      const asked: string[] = [];
      asked.push(guess(p, "guess", "first", "second", "close"));
      expect(p.table.view(p.seat("first")).exercise!.step.question?.text).toBe(asked[0]);
      say(p, "tell-more", "first");
      choose(p, "again", "first", "swap");
      asked.push(guess(p, "guess", "second", "first", "not-quite"));
      say(p, "tell-more", "second");
      choose(p, "again", "second", "swap");
      asked.push(guess(p, "guess", "first", "first", "close"));
      say(p, "tell-more", "first");
      choose(p, "again", "first", "stop");
      finished(p, def);
      // Without a seed, the deck's own order.
      expect(asked).toEqual(def.decks![0]!.questions.slice(0, 3));
      expect(p.table.state.transcript.filter((e) => e.option === "close" || e.option === "not-quite")).toHaveLength(3);
    });

    it("deeper questions: readers alternate through all three sets, then a word of thanks", () => {
      const def = findExercise("deeper-questions")!;
      const p = player(def, "guided", channel, first);
      const readers: Partner[] = [];
      const asked: string[] = [];
      const ask = (n: number) => {
        readers.push(p.table.state.turn!.speaker);
        asked.push(p.table.view("a").exercise!.step.question!.text);
        say(p, `ask-${n}`, "both");
      };
      // The reader of the last question was the speaker; the next reader (the listener) chooses.
      let reader: Who = "first";
      const next = (n: number, option: string) => {
        const chooser: Who = reader === "first" ? "second" : "first";
        choose(p, `next-${n}`, chooser, option);
        reader = chooser;
      };
      ask(1);
      next(1, "another");
      ask(1);
      next(1, "next-set");
      ask(2);
      next(2, "another");
      ask(2);
      next(2, "next-set");
      ask(3);
      next(3, "another");
      ask(3);
      next(3, "finish");
      say(p, "thanks", "both");
      finished(p, def);
      expect(readers).toEqual([0, 1, 2, 3, 4, 5].map((i) => (i % 2 === 0 ? first : otherPartner(first))));
      // Each set's questions were drawn from that set, in its order (no seed was given).
      expect(asked).toEqual(def.decks!.flatMap((d) => d.questions.slice(0, 2)));
    });

    it("deeper questions: an easy stop after the first question, or after the second set", () => {
      const def = findExercise("deeper-questions")!;
      const early = player(def, "guided", channel, first);
      say(early, "ask-1", "both");
      choose(early, "next-1", "second", "stop");
      finished(early, def);

      const later = player(def, "guided", channel, first);
      say(later, "ask-1", "both");
      choose(later, "next-1", "second", "next-set");
      say(later, "ask-2", "both");
      choose(later, "next-2", "first", "stop");
      finished(later, def);
    });

    it("plan time: ideas side by side, a pick they agree on, a time offered, countered and acknowledged", () => {
      const def = findExercise("plan-time")!;
      const p = player(def, "guided", channel, first);
      const one = p.seat("first");
      const two = p.seat("second");
      ideas(p, "ideas", { first: [words("walk"), words("picnic")], second: [words("film")] });
      p.at("pick");
      const options = p.table.view(one).exercise!.step.pick!.options;
      expect(options.map((o) => o.id)).toEqual([`${"a"}-0`, "b-0", options[2]!.id]);
      const film = options.find((o) => o.by === two)!;
      const walk = options.find((o) => o.by === one)!;
      p.table.act(one, { type: "pick", option: walk.id });
      p.table.act(two, { type: "pick", option: film.id });
      expect(p.table.stepId).toBe("pick");
      p.table.act(one, { type: "pick", option: film.id });
      p.at("when");
      expect(p.table.view(two).exercise!.step.agreement?.picked).toBe(film.label);
      const soon = new Date(p.table.now + 30 * HOUR).toISOString();
      const later = new Date(p.table.now + 50 * HOUR).toISOString();
      p.table.refuse(
        one,
        { type: "agree", when: new Date(p.table.now + 15 * 24 * HOUR).toISOString() },
        "INVALID_AGREEMENT",
      );
      p.table.act(one, { type: "agree", when: soon });
      expectOnlyMove(p, two);
      const detail = p.table.typed ? { what: words("I'll book the cinema") } : {};
      p.table.act(two, { type: "agree", when: later, ...detail });
      expectOnlyMove(p, one);
      p.table.act(one, { type: "acknowledge" });
      say(p, "look-forward", "both");
      finished(p, def);
      expect(p.table.state.agreements).toEqual([
        {
          v: expect.any(Number),
          at: expect.any(Number),
          exerciseId: "plan-time",
          stepId: "when",
          by: two,
          acknowledgedBy: one,
          picked: film.label,
          pickedFrom: { stepId: "ideas", by: two, index: 0 },
          when: later,
          ...(detail.what ? { what: detail.what } : {}),
        },
      ]);
      for (const seat of ["a", "b"] as const) expect(p.table.view(seat).agreements).toEqual(p.table.state.agreements);
    });

    it("weekly check-in: appreciations, what went well, the floor with every option, the week ahead", () => {
      const def = findExercise("weekly-check-in")!;
      const p = player(def, "guided", channel, first);
      say(p, "appreciate", "both");
      say(p, "went-well", "both");
      say(p, "issue-speak", "first");
      say(p, "issue-sum-up", "second");
      choose(p, "issue-check", "first", "more");
      say(p, "issue-speak", "first");
      say(p, "issue-sum-up", "second");
      choose(p, "issue-check", "first", "not-quite");
      say(p, "issue-speak", "first");
      say(p, "issue-sum-up", "second");
      choose(p, "issue-check", "first", "pass");
      say(p, "issue-speak", "second");
      say(p, "issue-sum-up", "first");
      choose(p, "issue-check", "second", "understood");
      say(p, "needs", "both");
      finished(p, def);
    });

    it("dreams within conflict: each dreamer's timed turn, gentle questions, a second look, then understanding", () => {
      const def = findExercise("dreams-within-conflict")!;
      const p = player(def, "guided", channel, first);
      const explore = (stepId: string, dreamer: Who, end: "end-turn" | "time-up") => {
        p.at(stepId);
        const holder = p.seat(dreamer);
        const asker = otherPartner(holder);
        expect(p.table.view(asker).exercise!.step.stems.length).toBeGreaterThanOrEqual(6);
        if (p.table.typed) {
          p.table.act(asker, { type: "post", text: p.table.view(asker).exercise!.step.stems[0]! });
          p.table.act(holder, { type: "post", text: words("it reminds me of my grandmother's house") });
        } else {
          p.table.refuse(asker, { type: "post", text: "typed" }, "TEXT_NOT_ALLOWED");
        }
        p.table.refuse(asker, { type: "end-turn" }, "NOT_YOUR_TURN");
        if (end === "end-turn") {
          p.table.act(holder, { type: "end-turn" });
        } else {
          const deadline = p.table.state.turn!.deadline!;
          expect(deadline - p.table.state.turn!.stepStartedAt).toBe(15 * 60_000);
          p.table.refuse("system", { type: "time-up" }, "DEADLINE_NOT_REACHED");
          p.table.act("system", { type: "time-up" }, deadline - p.table.now);
        }
      };
      say(p, "position", "first");
      explore("explore", "first", "end-turn");
      say(p, "reflect", "second");
      choose(p, "heard", "first", "not-quite");
      explore("explore", "first", "time-up");
      say(p, "reflect", "second");
      choose(p, "heard", "first", "yes");
      say(p, "position-2", "second");
      explore("explore-2", "second", "time-up");
      say(p, "reflect-2", "first");
      choose(p, "heard-2", "second", "not-quite");
      explore("explore-2", "second", "end-turn");
      say(p, "reflect-2", "first");
      choose(p, "heard-2", "second", "yes");
      say(p, "understand", "both");
      finished(p, def);
    });

    it("rebuilding trust (therapist-led): questions, the hurt heard again, commitments both ways, a second round", () => {
      const def = findExercise("rebuilding-trust")!;
      // A guided session may not run it.
      const guided = new Table("guided", channel, []);
      guided.refuse("a", { type: "start-exercise", exerciseId: def.id }, "NOT_IN_MODE");

      const p = player(def, "therapist", channel, first);
      const breached = p.seat("first");
      const hurt = p.seat("second");
      const round = (notQuite: boolean, questions: number) => {
        for (let i = 0; i < questions; i++) {
          say(p, "ask", "second");
          say(p, "answer", "first");
          choose(p, "more", "second", i < questions - 1 ? "another" : "enough");
        }
        say(p, "hurt", "second");
        say(p, "reflect", "first");
        if (notQuite) {
          choose(p, "reflect-check", "second", "not-quite");
          say(p, "hurt", "second");
          say(p, "reflect", "first");
        }
        choose(p, "reflect-check", "second", "yes");
        say(p, "need", "second");
        p.at("commit-speaker");
        expectOnlyMove(p, breached);
        const promise = (text: string) => ({ what: words(text) });
        if (p.table.typed) {
          p.table.refuse(breached, { type: "agree" }, "INVALID_AGREEMENT");
          p.table.refuse(hurt, { type: "agree", what: "not mine" }, "NOT_YOUR_TURN");
          p.table.act(breached, { type: "agree", ...promise("I'll tell you where I am") });
          // Changed before it is acknowledged.
          const checkIn = new Date(p.table.now + 7 * 24 * HOUR).toISOString();
          p.table.act(breached, { type: "agree", ...promise("I'll text you when plans change"), when: checkIn });
        } else {
          // Spoken: the words are said aloud; the step keeps the moment (and a time, when given).
          p.table.refuse(breached, { type: "agree", what: "typed" }, "TEXT_NOT_ALLOWED");
          p.table.act(breached, { type: "agree" });
        }
        p.table.refuse(breached, { type: "acknowledge" }, "NOT_YOUR_TURN");
        p.table.refuse("therapist", { type: "acknowledge" }, "PARTNER_ONLY");
        expectOnlyMove(p, hurt);
        p.table.act(hurt, { type: "acknowledge" });
        p.at("commit-listener");
        expectOnlyMove(p, hurt);
        p.table.act(
          hurt,
          p.table.typed ? { type: "agree", ...promise("I'll say when it comes back") } : { type: "agree" },
        );
        p.table.act(breached, { type: "acknowledge" });
      };
      say(p, "open", "therapist");
      say(p, "acknowledge", "first");
      round(true, 2);
      choose(p, "next", "therapist", "questions");
      round(false, 1);
      choose(p, "next", "therapist", "close");
      say(p, "close", "therapist");
      finished(p, def);
      const kept = p.table.state.agreements;
      expect(kept.map((a) => [a.stepId, a.by, a.acknowledgedBy])).toEqual([
        ["commit-speaker", breached, hurt],
        ["commit-listener", hurt, breached],
        ["commit-speaker", breached, hurt],
        ["commit-listener", hurt, breached],
      ]);
      if (p.table.typed) {
        expect(kept[0]?.what).toMatch(/^I'll text you when plans change/);
        expect(kept[0]?.when).toBeDefined();
      } else {
        expect(kept.every((a) => a.what === undefined)).toBe(true);
      }
      for (const seat of p.table.seats) expect(p.table.view(seat).agreements).toEqual(kept);
    });
  });
});

describe("questions drawn with a seed", () => {
  it("love maps: the same seed gives the same questions; the questions of a round never repeat", () => {
    const def = findExercise("love-maps")!;
    const drawn = (seed: number) => {
      const table = new Table("guided", "spoken", [def.id]);
      table.act("a", { type: "start-exercise", seed });
      const seen: string[] = [];
      for (let i = 0; i < def.decks![0]!.questions.length; i++) {
        const speaker = table.state.turn!.speaker;
        seen.push(table.view("a").exercise!.step.question!.text);
        table.act(speaker, { type: "guess" }).act(otherPartner(speaker), { type: "guess" });
        table.act(speaker, { type: "mark", mark: "close" });
        table.act(speaker, { type: "say" });
        table.act(speaker, { type: "choose", option: "swap" });
      }
      return seen;
    };
    const once = drawn(424242);
    expect(drawn(424242)).toEqual(once);
    expect(new Set(once).size).toBe(once.length);
    expect(once).not.toEqual(def.decks![0]!.questions);
  });
});
