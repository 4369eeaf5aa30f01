/**
 * The closing reflection (issue 15): once the session ended, each partner answers alone how heard they felt and
 * whether to keep the session in their space; nothing shows until both answered; it is kept only if both said
 * yes, with only the lines both chose; the therapist sees the ratings after the reveal, never the decision.
 */
import { describe, expect, it } from "vitest";
import { coreOf, updateFor, viewFor } from "../../shared/engine.ts";
import type { SessionState } from "../../shared/protocol.ts";
import { act, expectRefused, guidedSession, T0, therapistSession } from "./fixtures.ts";

const at = (s: number) => T0 + s * 1000;

function ended(state: SessionState, by: "a" | "therapist" = "a"): SessionState {
  return act(state, by, { type: "end-session" }, at(1));
}

describe("the closing reflection", () => {
  it("waits for the end of the session", () => {
    expectRefused(guidedSession(), "a", { type: "reflect", heard: 5, keep: true }, "SESSION_NOT_ENDED");
    expectRefused(ended(guidedSession()), "a", { type: "reflect", heard: 0, keep: true }, "INVALID_COMMAND");
    expectRefused(ended(guidedSession()), "a", { type: "reflect", heard: 11, keep: true }, "INVALID_COMMAND");
  });

  it("stays private until both answered, then reveals how heard each felt, to both", () => {
    let s = guidedSession("typed");
    s = act(s, "a", { type: "start-exercise", exerciseId: "fx-talk" }, at(0));
    s = act(s, "a", { type: "post", text: "one" }, at(0));
    s = act(s, "b", { type: "post", text: "two" }, at(0));
    const [first, second] = s.transcript.map((t) => t.v);
    s = ended(s);
    const before = s;
    s = act(s, "a", { type: "reflect", heard: 8, word: "seen-word-of-a", keep: true, lines: [first!, second!] }, at(2));
    expect(viewFor(s, "a").reflection?.yours).toMatchObject({ heard: 8, word: "seen-word-of-a", keep: true });
    const b = viewFor(s, "b");
    expect(b.reflection).toEqual({ answered: { a: true, b: false } });
    expect(JSON.stringify(b)).not.toContain("seen-word-of-a");
    const update = updateFor(coreOf(before), coreOf(s), {}, "b", []);
    expect(JSON.stringify(update)).not.toContain("seen-word-of-a");
    expectRefused(s, "a", { type: "reflect", heard: 2, keep: false }, "ALREADY_ANSWERED");

    s = act(s, "b", { type: "reflect", heard: 6, keep: true, lines: [second!] }, at(3));
    for (const seat of ["a", "b"] as const) {
      expect(viewFor(s, seat).reflection?.revealed).toEqual({
        heard: { a: { heard: 8, word: "seen-word-of-a" }, b: { heard: 6 } },
        keep: true,
        lines: [second],
      });
    }
  });

  it("keeps nothing unless both said yes", () => {
    let s = ended(guidedSession());
    s = act(s, "a", { type: "reflect", heard: 9, keep: true }, at(2));
    s = act(s, "b", { type: "reflect", heard: 4, keep: false }, at(3));
    expect(viewFor(s, "a").reflection?.revealed).toMatchObject({ keep: false, lines: [] });
    expect(viewFor(s, "b").reflection?.revealed).toMatchObject({ keep: false, lines: [] });
  });

  it("shows the therapist the ratings once revealed, never the decision or the lines", () => {
    let s = ended(therapistSession("typed", true).state, "therapist");
    s = act(s, "a", { type: "reflect", heard: 3, keep: true, lines: [1] }, at(2));
    expect(viewFor(s, "therapist").reflection).toEqual({ answered: { a: true, b: false } });
    s = act(s, "b", { type: "reflect", heard: 5, keep: true, lines: [1] }, at(3));
    const t = viewFor(s, "therapist");
    expect(t.reflection?.revealed).toEqual({ heard: { a: { heard: 3 }, b: { heard: 5 } } });
    expect(JSON.stringify(t)).not.toContain('"keep"');
    expectRefused(s, "therapist", { type: "reflect", heard: 5, keep: true }, "PARTNER_ONLY");
  });

  it("is not asked of a partner who was never admitted", () => {
    const s = ended(therapistSession("typed", false).state, "therapist");
    expectRefused(s, "a", { type: "reflect", heard: 5, keep: true }, "NOT_ADMITTED");
    expect(viewFor(s, "a").reflection).toBeUndefined();
  });
});
