/**
 * The console's words about the partners (issue 14): a partner's prompt was written to that partner ("Your partner
 * is deciding…"), so the therapist reads it with the partners named ("Maya is deciding…") and whose move it is
 * ("Jordan: waiting for Maya"), over every catalogue exercise played through the real engine. Also the waiting
 * room's line (the therapist named, or neutral words) and the checks on a practice's new name.
 */
import { describe, expect, it } from "vitest";
import { practiceNameProblem } from "../../client/src/console/Practice.tsx";
import {
  floorSuggestionWords,
  promptForTherapist,
  sideStatus,
  waitingRoomLine,
} from "../../client/src/console/words.ts";
import { CATALOGUE } from "../../shared/catalogue/index.ts";
import { createSession, viewFor } from "../../shared/engine.ts";
import type { ExerciseDefinition } from "../../shared/exercise-format.ts";
import type { Partner, SessionState, SessionView } from "../../shared/protocol.ts";
import { act } from "../support/play.ts";

const NAMES = { a: "Maya", b: "Jordan" } as const;
const T0 = 1_700_000_000_000;

/** The therapist's views along the first steps of `def`, in a therapist-led typed session. */
function therapistViews(def: ExerciseDefinition, moves = 14): SessionView[] {
  let state: SessionState = createSession({
    id: `c-${def.id}`,
    mode: "therapist",
    channel: "typed",
    agenda: [def.id],
    createdAt: T0,
    names: NAMES,
  });
  let now = T0;
  const step = (actor: "a" | "b" | "therapist", command: unknown) => {
    now += 1000;
    state = act(state, actor, command as never, now).state;
  };
  step("therapist", { type: "admit", partners: ["a", "b"] });
  step("therapist", { type: "start-exercise" });
  const views: SessionView[] = [];
  for (let i = 0; i < moves && state.phase === "exercise"; i++) {
    views.push(viewFor(state, "therapist"));
    const turn = state.turn!;
    const s = def.steps.find((x) => x.id === turn.stepId)!;
    const listener: Partner = turn.speaker === "a" ? "b" : "a";
    const actor = s.actor === "speaker" ? turn.speaker : s.actor === "listener" ? listener : s.actor;
    if (s.kind === "say") {
      if (s.actor === "both") {
        step("a", { type: "say", text: "words" });
        step("b", { type: "say", text: "words" });
      } else step(actor === "both" ? "a" : actor, { type: "say", text: "words" });
    } else if (s.kind === "choose") step(actor === "both" ? "a" : actor, { type: "choose", option: s.options![0]!.id });
    else if (s.kind === "talk") step(turn.speaker, { type: "end-turn" });
    else break;
  }
  return views;
}

const inTherapistMode = CATALOGUE.filter((def) => !def.modes || def.modes.includes("therapist"));

describe("a partner's screen, as the therapist reads it", () => {
  it("names the partner instead of 'your partner', and the therapist as 'you'", () => {
    const view = therapistViews(inTherapistMode.find((d) => d.id === "intentional-dialogue")!)[0]!;
    expect(promptForTherapist(view, "a", "Your partner is deciding whether now works.")).toBe(
      "Jordan is deciding whether now works.",
    );
    expect(promptForTherapist(view, "b", "Thank your partner for asking; listen to your partner's side.")).toBe(
      "Thank Maya for asking; listen to Maya's side.",
    );
    expect(promptForTherapist(view, "b", "Your therapist is deciding what comes next.")).toBe(
      "You are deciding what comes next.",
    );
    expect(promptForTherapist(view, "a", "Name the topic in one sentence.")).toBe("Name the topic in one sentence.");
  });

  it("says whose move the step waits for, by name", () => {
    const view = therapistViews(inTherapistMode.find((d) => d.id === "intentional-dialogue")!)[0]!;
    // The first step: the speaker (Maya) names the topic, Jordan waits for her.
    expect(sideStatus(view, "a")).toBe("Maya's move");
    expect(sideStatus(view, "b")).toBe("waiting for Maya");
  });

  it("over every catalogue exercise, never leaves 'your partner' or 'your therapist' on the console", () => {
    let sides = 0;
    for (const def of inTherapistMode) {
      for (const view of therapistViews(def)) {
        const partners = view.exercise?.step.partners;
        if (!partners) continue;
        for (const p of ["a", "b"] as const) {
          sides++;
          const where = `${def.id}/${view.exercise!.step.id}/${p}`;
          const words = promptForTherapist(view, p, partners[p].prompt);
          expect(words, where).not.toMatch(/\b[Yy]our (partner|therapist)\b/);
          if (/[Yy]our partner/.test(partners[p].prompt)) expect(words, where).toContain(NAMES[p === "a" ? "b" : "a"]);
          const status = sideStatus(view, p);
          const other = NAMES[p === "a" ? "b" : "a"];
          expect(
            [`${NAMES[p]}'s move`, `waiting for ${other}`, "waiting for you", "waiting"],
            `${where}: ${status}`,
          ).toContain(status);
          expect(status === `${NAMES[p]}'s move`, where).toBe(partners[p].yourMove);
        }
      }
    }
    expect(sides).toBeGreaterThan(40);
  });
});

describe("the kind floor suggestion in a guided session", () => {
  const guided = createSession({
    id: "g",
    mode: "guided",
    channel: "spoken",
    agenda: ["intentional-dialogue"],
    createdAt: T0,
    names: NAMES,
  });

  it("speaks to the partner on their own device", () => {
    const words = floorSuggestionWords(viewFor(guided, "a"), false);
    expect(words).toMatch(/^You've had the floor for a good while today/);
    expect(words).toContain("gives Jordan room to be heard too");
  });

  it("on one shared device, names the partner it is about and never says 'you'", () => {
    for (const [seat, me, other] of [
      ["a", "Maya", "Jordan"],
      ["b", "Jordan", "Maya"],
    ] as const) {
      const words = floorSuggestionWords(viewFor(guided, seat), true);
      expect(words).toMatch(new RegExp(`^${me} has had the floor for a good while today`));
      expect(words).toContain(
        `When ${me} is ready, bringing this turn to a close gives ${other} room to be heard too.`,
      );
      expect(words).not.toMatch(/\b[Yy]ou(r|'re|'ve)?\b/);
    }
  });
});

describe("the waiting room's line", () => {
  it("names the therapist when a name was given, and says 'Your therapist' otherwise", () => {
    expect(waitingRoomLine("Dr Rivera")).toBe(
      "Dr Rivera will let you in shortly. You can leave this page open; it will change by itself.",
    );
    for (const none of [null, undefined, "", "   "]) {
      expect(waitingRoomLine(none)).toMatch(/^Your therapist will let you in shortly\./);
    }
  });
});

describe("a practice's new name", () => {
  it("is refused in plain words when empty, too long or ill-formed, and accepted otherwise", () => {
    expect(practiceNameProblem("Dr Rivera")).toBeNull();
    expect(practiceNameProblem("  Rivera   Couples ")).toBeNull();
    expect(practiceNameProblem("x".repeat(80))).toBeNull();
    expect(practiceNameProblem("   ")).toBe("Give your practice a name.");
    expect(practiceNameProblem("x".repeat(81))).toBe("Keep the name to 80 characters or fewer (this one has 81).");
    expect(practiceNameProblem("Dr \ud800Rivera")).toMatch(/broken character/);
  });
});
