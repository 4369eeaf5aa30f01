/**
 * Safety a partner can reach without the other seeing (issue 13): the waiting room's safe-time question and the
 * quiet "I'd like to talk to my therapist alone" signal reach the therapist alone — never the other partner's
 * view, update or events — and work only where they make sense.
 */
import { describe, expect, it } from "vitest";
import { apply, coreOf, eventsFor, updateFor, viewFor } from "../../shared/engine.ts";
import type { SessionState } from "../../shared/protocol.ts";
import { act, expectRefused, guidedSession, T0, therapistSession } from "./fixtures.ts";

const at = (s: number) => T0 + s * 1000;

/** Applies a command and returns the whole next state with what each seat was sent for it. */
function sent(state: SessionState, actor: "a" | "b" | "therapist", command: object, now = T0) {
  const result = apply(state, command, actor, now);
  if (!result.ok) throw new Error(`${actor} ${JSON.stringify(command)}: ${result.error.code}`);
  const frames = Object.fromEntries(
    (["a", "b", "therapist"] as const).map((seat) => [
      seat,
      JSON.stringify({
        update: updateFor(coreOf(state), coreOf(result.state), result.appended, seat, result.events),
        view: viewFor(result.state, seat),
        events: eventsFor(result.state, seat, result.events),
      }),
    ]),
  );
  return { state: result.state, frames };
}

describe("the safe-time check in the waiting room", () => {
  it("each partner answers alone; only the therapist sees the answers", () => {
    let s = therapistSession("typed", false).state;
    const first = sent(s, "a", { type: "safety-check", answer: "not-now" }, at(1));
    s = first.state;
    expect(viewFor(s, "therapist").safety?.checks.a).toEqual({ answer: "not-now", at: at(1) });
    expect(first.frames.therapist).toContain("safety-answered");
    expect(viewFor(s, "a").yourSafety).toEqual({ check: "not-now" });
    // The other partner learns nothing: not the answer, not that one was given.
    expect(first.frames.b).not.toContain("not-now");
    expect(first.frames.b).not.toContain('"safety":');
    expect(first.frames.b).not.toContain("safety-answered");
    expect(viewFor(s, "b").yourSafety).toEqual({});
    const second = sent(s, "b", { type: "safety-check", answer: "alone-first" }, at(2));
    expect(second.frames.a).not.toContain("alone-first");
    expect(viewFor(second.state, "therapist").safety?.checks).toEqual({
      a: { answer: "not-now", at: at(1) },
      b: { answer: "alone-first", at: at(2) },
    });
    // A partner may change their answer while waiting.
    s = act(second.state, "a", { type: "safety-check", answer: "yes" }, at(3));
    expect(viewFor(s, "therapist").safety?.checks.a?.answer).toBe("yes");
  });

  it("is asked before admission only, in therapist sessions only", () => {
    const { state } = therapistSession("typed", true);
    expectRefused(state, "a", { type: "safety-check", answer: "yes" }, "ALREADY_ADMITTED");
    expectRefused(guidedSession(), "a", { type: "safety-check", answer: "yes" }, "NOT_IN_MODE");
    expectRefused(state, "therapist", { type: "safety-check", answer: "yes" }, "PARTNER_ONLY");
    expectRefused(
      therapistSession("typed", false).state,
      "a",
      { type: "safety-check", answer: "maybe" },
      "INVALID_COMMAND",
    );
  });
});

describe("the quiet signal", () => {
  it("reaches the therapist at once and privately; the other partner's screen gets nothing of it", () => {
    let s = therapistSession("typed", true).state;
    s = act(s, "therapist", { type: "start-exercise", exerciseId: "fx-dialogue" }, at(1));
    s = act(s, "a", { type: "say", text: "I'd like to start" }, at(2));
    const asked = sent(s, "b", { type: "ask-alone" }, at(3));
    expect(asked.frames.therapist).toContain('"alone-asked"');
    expect(viewFor(asked.state, "therapist").safety?.asks.b).toEqual({ at: at(3), seen: false });
    expect(viewFor(asked.state, "b").yourSafety).toEqual({ asked: { at: at(3), seen: false } });
    expect(asked.frames.a).not.toContain("alone-asked");
    expect(asked.frames.a).not.toContain('"asks"');
    expect(asked.frames.a).not.toContain('"safety":');
    // Nothing of it in the shared conversation, and the exercise goes on as it was.
    expect(asked.state.transcript).toEqual(s.transcript);
    expect(asked.state.turn).toEqual(s.turn);
    const update = updateFor(coreOf(s), coreOf(asked.state), {}, "a", []);
    expect(update).toEqual({ version: asked.state.version, from: s.version, events: [] });

    // The therapist marks it seen, and may then step the other partner out.
    const seen = sent(asked.state, "therapist", { type: "seen-ask", partner: "b" }, at(4));
    expect(viewFor(seen.state, "b").yourSafety?.asked?.seen).toBe(true);
    expect(seen.frames.a).not.toContain('"seen"');
    const out = act(seen.state, "therapist", { type: "step-out", partner: "a" }, at(5));
    expect(out.steppedOut).toBe("a");
  });

  it("is open from the waiting room and the waiting space, for partners of therapist sessions only", () => {
    const waiting = therapistSession("typed", false).state;
    expect(act(waiting, "a", { type: "ask-alone" }).safety.asks.a).toBeDefined();
    let s = therapistSession("typed", true).state;
    s = act(s, "therapist", { type: "step-out", partner: "a" });
    expect(act(s, "a", { type: "ask-alone" }).safety.asks.a).toBeDefined();
    expectRefused(guidedSession(), "a", { type: "ask-alone" }, "NOT_IN_MODE");
    expectRefused(s, "therapist", { type: "ask-alone" }, "PARTNER_ONLY");
    expectRefused(
      therapistSession("typed", true).state,
      "therapist",
      { type: "seen-ask", partner: "a" },
      "NOT_IN_MODE",
    );
    const admitted = act(act(waiting, "therapist", { type: "admit", partners: ["a", "b"] }), "a", {
      type: "ask-alone",
    });
    expectRefused(admitted, "b", { type: "seen-ask", partner: "a" }, "THERAPIST_ONLY");
  });
});
