/**
 * The words of the room over the whole catalogue (issue 11): each answering step declared in the data and quoted
 * with the partner's words; spoken sessions never asked to type; one line of who acts for every role; progress
 * without step counters or "1 of 1"; every ending with its own words (finished, a named ending, postponed, ended
 * early by you, your partner or the therapist); titles, never ids. The views come from the real engine.
 */
import { describe, expect, it } from "vitest";
import {
  answeredWords,
  endingWords,
  personal,
  progressWords,
  stepPrompt,
  whoActs,
} from "../../client/src/room/turn.ts";
import { isMyTurn, turnTitle } from "../../client/src/room/turn-signal.ts";
import { CATALOGUE, findExercise } from "../../shared/catalogue/index.ts";
import { createSession, viewFor } from "../../shared/engine.ts";
import { forChannel } from "../../shared/engine/view.ts";
import { answeredSteps, validateExercise } from "../../shared/exercise-format.ts";
import type { Channel, SessionState, SessionView } from "../../shared/protocol.ts";
import { act, Table } from "../support/play.ts";

const NAMES = { a: "Maya", b: "Jordan" } as const;

function table(channel: Channel, agenda: string[]): Table {
  const t = new Table(channel, agenda);
  t.state = { ...t.state, names: { ...NAMES } };
  return t;
}

describe("the words being answered, declared in the data", () => {
  it("every step that responds to the partner's words names the steps it answers", () => {
    const expected: Record<string, string[]> = {
      "intentional-dialogue": ["mirror", "check", "summary", "summary-check", "validate", "empathize", "empathy-check"],
      "speaker-listener": ["paraphrase", "confirm"],
      appreciation: ["receive"],
      "weekly-check-in": ["issue-sum-up", "issue-check"],
      "rebuilding-trust": ["answer", "reflect", "reflect-check"],
      "dreams-within-conflict": ["reflect", "heard", "reflect-2", "heard-2"],
    };
    for (const [id, steps] of Object.entries(expected)) {
      const def = findExercise(id)!;
      for (const stepId of steps) {
        const step = def.steps.find((s) => s.id === stepId);
        expect(answeredSteps(step ?? {}).length, `${id} ${stepId}`).toBeGreaterThan(0);
      }
    }
    // Every summing-up step of repair answers the share it sums up.
    const repair = findExercise("repair")!;
    const reflects = repair.steps.filter((s) => /-reflect(-2)?$/.test(s.id));
    expect(reflects.length).toBeGreaterThanOrEqual(6);
    for (const s of reflects) expect(answeredSteps(s), s.id).toEqual([s.id.replace("-reflect", "-share")]);
  });

  it("refuses answers that point nowhere, at itself, at a choice, or from a step both act in", () => {
    const base = structuredClone(findExercise("speaker-listener")!) as unknown as {
      steps: Record<string, unknown>[];
    } & Record<string, unknown>;
    const bad = (patch: (d: typeof base) => void) => {
      const d = structuredClone(base);
      patch(d);
      const result = validateExercise({ ...d, id: "custom-x" });
      return result.ok ? [] : result.problems;
    };
    expect(bad((d) => (d.steps[1]!.answers = "nowhere"))).toEqual([
      { path: "steps[1].answers", message: "unknown step 'nowhere'" },
    ]);
    expect(bad((d) => (d.steps[1]!.answers = ["speak", "paraphrase"]))).toEqual([
      { path: "steps[1].answers[1]", message: "a step cannot answer itself" },
    ]);
    expect(bad((d) => (d.steps[3]!.answers = "confirm"))[0]?.message).toMatch(/must be a 'say' or 'talk' step/);
    expect(bad((d) => (d.steps[0]!.gather = "round"))).toEqual([
      { path: "steps[0].gather", message: "'gather' needs 'answers'" },
    ]);
    expect(bad((d) => (d.steps[2]!.options = [{ id: "x", label: "X", next: { to: "@end", ending: "gone" } }]))).toEqual(
      [
        {
          path: "steps[2].options[0].next.ending",
          message: "unknown ending 'gone' (declare it in the exercise's 'endings')",
        },
      ],
    );
  });

  it("quotes the partner's words above the mirror, only the new piece after 'there's more', the whole round in the summary", () => {
    const t = table("typed", ["intentional-dialogue"]);
    t.act("a", { type: "start-exercise" });
    t.act("a", { type: "say", text: "Can we talk about the weekend?" });
    t.act("b", { type: "choose", option: "now" });
    t.act("a", { type: "say", text: "I felt alone on Saturday." });
    const mirror = t.view("b");
    expect(mirror.exercise?.step.id).toBe("mirror");
    const words = answeredWords(mirror)!;
    expect(words.by).toBe("a");
    expect(words.entries.map((e) => e.text)).toEqual(["I felt alone on Saturday."]);
    // The speaker, waiting, sees the same words as their own.
    expect(answeredWords(t.view("a"))?.entries.map((e) => e.text)).toEqual(["I felt alone on Saturday."]);
    t.act("b", { type: "say", text: "You felt alone on Saturday." });
    expect(answeredWords(t.view("a"))?.entries.map((e) => e.text)).toEqual(["You felt alone on Saturday."]);
    t.act("a", { type: "choose", option: "more" });
    t.act("a", { type: "say", text: "And I missed you." });
    expect(answeredWords(t.view("b"))?.entries.map((e) => e.text)).toEqual(["And I missed you."]);
    t.act("b", { type: "say", text: "You missed me." });
    t.act("a", { type: "choose", option: "got-it" });
    expect(t.stepId).toBe("summary");
    expect(answeredWords(t.view("b"))?.entries.map((e) => e.text)).toEqual([
      "I felt alone on Saturday.",
      "And I missed you.",
    ]);
  });

  it("in the second round quotes only that round, by the new speaker", () => {
    const t = table("typed", ["intentional-dialogue"]);
    t.act("a", { type: "start-exercise" });
    const script: [string, Record<string, unknown>][] = [
      ["a", { type: "say", text: "topic one" }],
      ["b", { type: "choose", option: "now" }],
      ["a", { type: "say", text: "round one words" }],
      ["b", { type: "say", text: "mirror one" }],
      ["a", { type: "choose", option: "got-it" }],
      ["b", { type: "say", text: "summary one" }],
      ["a", { type: "choose", option: "complete" }],
      ["b", { type: "say", text: "validate one" }],
      ["b", { type: "say", text: "feelings one" }],
      ["a", { type: "choose", option: "yes" }],
      ["b", { type: "say", text: "topic two" }],
      ["a", { type: "choose", option: "now" }],
      ["b", { type: "say", text: "round two words" }],
    ];
    for (const [seat, command] of script) t.act(seat as "a" | "b", command as never);
    const words = answeredWords(t.view("a"))!;
    expect(words.by).toBe("b");
    expect(words.entries.map((e) => e.text)).toEqual(["round two words"]);
  });

  it("in the spoken channel gives a reminder that the words were said aloud", () => {
    const t = table("spoken", ["speaker-listener"]);
    t.act("a", { type: "start-exercise" });
    t.act("a", { type: "say" });
    const words = answeredWords(t.view("b"))!;
    expect(words.aloud).toBe(true);
  });
});

/** Every step a view can show: each step of each exercise, as each role sees it, in both channels. */
function everyPrompt(channel: Channel): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  for (const def of CATALOGUE) {
    for (const step of def.steps) {
      const texts = [step.prompt, ...(step.guess ? [step.guess.reveal] : [])];
      for (const t of texts) {
        for (const role of ["speaker", "listener", "therapist", "all"] as const) {
          const text = t[role];
          if (text) out.push({ where: `${def.id}/${step.id}/${role}`, text: forChannel(text, channel) });
        }
      }
    }
  }
  return out;
}

describe("words per channel, over the whole catalogue", () => {
  it("never asks a spoken session to type", () => {
    for (const { where, text } of everyPrompt("spoken")) expect(text, where).not.toMatch(/\btyp(e|ed|ing)\b/i);
  });

  it("asks a typed session to write, without 'say it or type it'", () => {
    for (const { where, text } of everyPrompt("typed")) {
      expect(text, where).not.toMatch(/or type|type it|type them/i);
      expect(text, where).not.toMatch(/\(\s*\)|\s{2}|\s[,.:]/);
    }
  });
});

/** Plays `id` through its first steps (whatever they are) and collects the views of both partners at each step. */
function viewsAlong(id: string, channel: Channel, moves = 12): SessionView[] {
  const def = findExercise(id)!;
  const mode = def.modes && !def.modes.includes("guided") ? "therapist" : "guided";
  let state: SessionState = {
    ...createSession({ id: `w-${id}`, mode, channel, agenda: [id], createdAt: 1_700_000_000_000, names: NAMES }),
  };
  let now = 1_700_000_000_000;
  const step = (actor: "a" | "b" | "therapist", command: unknown) => {
    now += 1000;
    state = act(state, actor, command as never, now).state;
  };
  if (mode === "therapist") step("therapist", { type: "admit", partners: ["a", "b"] });
  step(mode === "therapist" ? "therapist" : "a", { type: "start-exercise" });
  const views: SessionView[] = [];
  for (let i = 0; i < moves && state.phase === "exercise"; i++) {
    views.push(viewFor(state, "a"), viewFor(state, "b"), viewFor(state, "therapist"));
    const turn = state.turn!;
    const s = def.steps.find((x) => x.id === turn.stepId)!;
    const listener = turn.speaker === "a" ? "b" : "a";
    const actor =
      s.actor === "speaker"
        ? turn.speaker
        : s.actor === "listener"
          ? listener
          : s.actor === "therapist"
            ? "therapist"
            : "a";
    const text = channel === "typed" ? { text: "words" } : {};
    if (s.kind === "say") {
      step(actor, { type: "say", ...text });
      if (s.actor === "both") step("b", { type: "say", ...text });
    } else if (s.kind === "choose") step(actor, { type: "choose", option: s.options![0]!.id });
    else if (s.kind === "talk") step(turn.speaker, { type: "end-turn" });
    else break;
  }
  return views;
}

describe("one clear line of who acts, and progress people understand", () => {
  for (const def of CATALOGUE) {
    it(`${def.id}: names who acts, never counts steps, never says 1 of 1`, () => {
      for (const channel of ["typed", "spoken"] as const) {
        for (const view of viewsAlong(def.id, channel)) {
          const line = whoActs(view)!;
          const step = view.exercise!.step;
          expect(line).toContain(step.title.replace(/^Your /, ""));
          if (step.actor === "speaker" || step.actor === "listener") {
            const acting = step.actor === "speaker" ? view.exercise!.speaker : view.exercise!.listener;
            // A title written to the one who acts ("Your time to talk") already says whose turn it is.
            const own = step.title.startsWith("Your ");
            expect(line).toBe(
              acting === view.you.seat
                ? own
                  ? step.title
                  : `Your turn: ${step.title}`
                : own
                  ? `${NAMES[acting]}'s ${step.title.slice("Your ".length)}`
                  : `${NAMES[acting]}'s turn: ${step.title}`,
            );
            expect(line).not.toMatch(/Your turn: Your|turn: their/);
          }
          const progress = progressWords(view);
          expect(progress).toContain(def.title);
          expect(progress).not.toMatch(/\bstep\b|\b1 of 1\b/);
          const prompt = stepPrompt(view);
          if (view.you.seat !== "therapist") expect(prompt).not.toMatch(/your partner/i);
          if (channel === "spoken") expect(prompt).not.toMatch(/\btype\b/i);
          // A raw id never shows (unless the title itself reads like it, as "Emotional check-in").
          const idLike = def.title.toLowerCase().includes(def.id.replace(/-/g, " ")) || def.title.includes(def.id);
          if (!idLike) {
            expect(progress + line + prompt).not.toContain(def.id);
            expect(progress + line + prompt).not.toContain(def.id.replace(/-/g, " "));
          }
        }
      }
    });
  }

  it("tells the speaker at 'Is now a good time?' that Jordan is deciding, not reflecting", () => {
    const t = table("typed", ["intentional-dialogue"]);
    t.act("a", { type: "start-exercise" });
    t.act("a", { type: "say", text: "May we talk?" });
    const maya = t.view("a");
    expect(whoActs(maya)).toBe("Jordan's turn: Is now a good time?");
    expect(stepPrompt(maya)).toBe("Jordan is deciding whether now works.");
    expect(whoActs(t.view("b"))).toBe("Your turn: Is now a good time?");
    expect(personal(maya, "Did your partner get it?")).toBe("Did Jordan get it?");
  });

  it("a title written to the one who acts reads right to the one who waits", () => {
    const t = table("typed", ["stress-reducing"]);
    t.act("a", { type: "start-exercise" });
    // Never "Your turn: Your time to talk" nor "Maya's turn: their time to talk".
    expect(whoActs(t.view("a"))).toBe("Your time to talk");
    expect(whoActs(t.view("b"))).toBe("Maya's time to talk");
  });

  it("the tab title reads naturally: a title written to the one who acts stands alone, only on their turn", () => {
    const t = table("typed", ["stress-reducing"]);
    t.act("a", { type: "start-exercise" });
    expect(turnTitle(t.view("a"))).toBe("Your time to talk · Attune");
    expect(turnTitle(t.view("b"))).toBe("Attune");
    const d = table("typed", ["intentional-dialogue"]);
    d.act("a", { type: "start-exercise" });
    expect(turnTitle(d.view("a"))).toBe("Your turn: Invite · Attune");
    expect(turnTitle(d.view("b"))).toBe("Attune");
  });

  for (const def of CATALOGUE) {
    it(`${def.id}: the tab title never reads "Your turn: Your …"`, () => {
      for (const channel of ["typed", "spoken"] as const) {
        for (const view of viewsAlong(def.id, channel)) {
          const title = turnTitle(view);
          expect(title).not.toMatch(/Your turn: Your/);
          expect(title).toMatch(/ · Attune$|^Attune$/);
          expect(title === "Attune").toBe(!isMyTurn(view));
        }
      }
    });
  }
});

describe("every path has its own ending", () => {
  it("'Not right now': the listener offers a time within the next day, the speaker acknowledges, postponed", () => {
    const t = table("typed", ["intentional-dialogue"]);
    t.act("b", { type: "set-first-speaker", partner: "b" });
    t.act("a", { type: "start-exercise" });
    expect(t.speaker).toBe("b");
    t.act("b", { type: "say", text: "Can we talk about money?" });
    t.act("a", { type: "choose", option: "later" });
    expect(t.stepId).toBe("later");
    expect(t.view("a").exercise?.step.yourMove).toBe(true);
    expect(t.view("b").exercise?.step.yourMove).toBe(false);
    // More than a day ahead is refused, nothing changes.
    const tooLate = new Date(t.now + 30 * 3_600_000).toISOString();
    t.refuse("a", { type: "agree", when: tooLate }, "INVALID_AGREEMENT");
    const when = new Date(t.now + 5 * 3_600_000).toISOString();
    t.act("a", { type: "agree", when, what: "after dinner" });
    expect(t.view("b").exercise?.step.agreement?.offer?.when).toBe(when);
    t.act("b", { type: "acknowledge" });
    expect(t.state.phase).toBe("lobby");
    const done = t.view("b").completed.at(-1)!;
    expect(done).toMatchObject({
      outcome: "postponed",
      ending: "postponed",
      endedEarly: false,
      title: "Intentional dialogue",
    });
    expect(t.state.agreements.at(-1)).toMatchObject({ when, what: "after dinner", by: "a", acknowledgedBy: "b" });
    const words = endingWords(t.view("b"), done);
    expect(words.heading).toBe("Intentional dialogue: another time, agreed");
    expect(words.words).not.toMatch(/felt good about how you were heard/);
  });

  it("a finished exercise reads its own closing words", () => {
    const t = table("spoken", ["check-in"]);
    t.act("a", { type: "start-exercise" });
    t.act("a", { type: "answer", answer: { rating: 5, feeling: "calm" } });
    t.act("b", { type: "answer", answer: { rating: 7, feeling: "hopeful" } });
    const done = t.view("a").completed.at(-1)!;
    expect(done.outcome).toBe("complete");
    expect(endingWords(t.view("a"), done)).toEqual({
      heading: "You finished Emotional check-in",
      words: findExercise("check-in")!.closing,
    });
  });

  it("ended early: 'You stopped it' for the one who did, the partner's name for the other", () => {
    const t = table("typed", ["appreciation"]);
    t.act("a", { type: "start-exercise" });
    t.act("b", { type: "end-exercise" });
    const done = t.view("a").completed.at(-1)!;
    expect(done).toMatchObject({ outcome: "stopped", by: "b" });
    expect(endingWords(t.view("a"), done).words).toMatch(/^Jordan stopped it here/);
    expect(endingWords(t.view("b"), done).words).toMatch(/^You stopped it here/);
    expect(endingWords(t.view("a"), done).heading).toBe("Appreciation exchange ended early");
  });

  it("ended by the therapist: 'Your therapist ended it', never 'You paused'", () => {
    let state = createSession({
      id: "led",
      mode: "therapist",
      channel: "typed",
      agenda: ["appreciation"],
      createdAt: 1,
      names: NAMES,
    });
    state = act(state, "therapist", { type: "admit", partners: ["a", "b"] }, 2).state;
    state = act(state, "therapist", { type: "start-exercise" }, 3).state;
    // A partner may not set who speaks first in a therapist-led session, nor while an exercise runs.
    state = act(state, "therapist", { type: "end-exercise" }, 4).state;
    const view = viewFor(state, "a");
    const done = view.completed.at(-1)!;
    expect(done.by).toBe("therapist");
    expect(endingWords(view, done).words).toMatch(/^Your therapist ended it/);
  });
});

describe("the agreed first speaker", () => {
  it("is shared by both views, changeable by either partner in the lobby, and refused once the exercise runs", () => {
    const t = table("typed", ["speaker-listener", "check-in"]);
    expect(t.view("a").firstSpeaker).toBe("a");
    t.act("a", { type: "set-first-speaker", partner: "b" });
    expect(t.view("a").firstSpeaker).toBe("b");
    expect(t.view("b").firstSpeaker).toBe("b");
    t.act("b", { type: "set-first-speaker", partner: "a" });
    t.act("b", { type: "set-first-speaker", partner: "b" });
    t.act("a", { type: "start-exercise" });
    expect(t.speaker).toBe("b");
    t.refuse("a", { type: "set-first-speaker", partner: "a" }, "EXERCISE_IN_PROGRESS");
    t.refuse("a", { type: "set-first-speaker", partner: "c" } as never, "INVALID_COMMAND");
    // Only exercises with a speaker ask for one: the check-in has none.
    expect(t.view("a").agenda.map((e) => [e.id, e.turns])).toEqual([
      ["speaker-listener", true],
      ["check-in", false],
    ]);
  });

  it("is the therapist's to set in a therapist-led session", () => {
    let state = createSession({
      id: "led2",
      mode: "therapist",
      channel: "typed",
      agenda: ["appreciation"],
      createdAt: 1,
    });
    state = act(state, "therapist", { type: "admit", partners: ["a", "b"] }, 2).state;
    const refused = viewFor(state, "a").allowed.find((x) => x.type === "set-first-speaker");
    expect(refused).toMatchObject({ allowed: false, code: "THERAPIST_ONLY" });
    state = act(state, "therapist", { type: "set-first-speaker", partner: "b" }, 3).state;
    expect(viewFor(state, "a").firstSpeaker).toBe("b");
  });
});
