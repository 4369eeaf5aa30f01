/**
 * Airtime measured from the floor: each partner's time holding it (only while the clock runs) and their turns, per
 * exercise and for the session, in the therapist's view alone; the guided speaker who held it far longer gets only
 * the moment from which a kind suggestion applies, and the other partner never learns of it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { apply, updateFor, viewFor } from "../../shared/engine.ts";
import { FLOOR_SUGGESTION_MARGIN_MS } from "../../shared/engine/airtime.ts";
import type { Actor, Command, Partner, SessionState } from "../../shared/protocol.ts";
import { act, guidedSession, T0, therapistSession } from "./fixtures.ts";

const s_ = (seconds: number) => T0 + seconds * 1000;

function floorSession(): SessionState {
  return act(therapistSession().state, "therapist", { type: "start-exercise", exerciseId: "fx-floor" }, s_(0));
}

describe("airtime in the engine", () => {
  it("counts each partner's floor time while the clock runs, and their turns, per exercise and session", () => {
    let s = floorSession();
    expect(s.airtime?.floor).toEqual({ speaker: "a", exerciseId: "fx-floor", ms: 0, since: s_(0) });
    s = act(s, "a", { type: "say", text: "one" }, s_(30)); // a held it 30 s
    s = act(s, "b", { type: "say", text: "two" }, s_(40)); // b 10 s
    s = act(s, "therapist", { type: "pause" }, s_(50)); // a 10 s, then the clock stops
    expect(s.airtime?.floor).toMatchObject({ speaker: "a", ms: 10_000, since: null });
    s = act(s, "therapist", { type: "resume" }, s_(80)); // 30 s paused: not counted
    s = act(s, "a", { type: "say", text: "three" }, s_(100)); // a 20 s more
    const airtime = s.airtime!;
    expect(airtime.session).toEqual({ a: { ms: 60_000, turns: 2 }, b: { ms: 10_000, turns: 2 } });
    expect(airtime.runs).toEqual([
      { exerciseId: "fx-floor", startedAt: s_(0), a: { ms: 60_000, turns: 2 }, b: { ms: 10_000, turns: 2 } },
    ]);
    expect(airtime.turns.map((t) => [t.speaker, t.ms])).toEqual([
      ["a", 30_000],
      ["b", 10_000],
      ["a", 30_000],
    ]);
    expect(airtime.floor).toEqual({ speaker: "b", exerciseId: "fx-floor", ms: 0, since: s_(100) });

    // A second exercise gets its own run; the session adds both up.
    s = act(s, "therapist", { type: "end-exercise" }, s_(130)); // b 30 s
    expect(s.airtime?.floor).toBeNull();
    s = act(s, "therapist", { type: "start-exercise", exerciseId: "fx-floor", firstSpeaker: "b" }, s_(200));
    s = act(s, "b", { type: "say", text: "four" }, s_(260));
    expect(s.airtime!.runs.map((r) => [r.a.ms, r.b.ms, r.a.turns, r.b.turns])).toEqual([
      [60_000, 40_000, 2, 2],
      [0, 60_000, 1, 1],
    ]);
    expect(s.airtime!.session).toEqual({ a: { ms: 60_000, turns: 3 }, b: { ms: 100_000, turns: 3 } });
  });

  it("leaves airtime untouched by commands that do not move the floor or the clock", () => {
    const s = floorSession();
    for (const [actor, command] of [
      ["system", { type: "presence", seat: "a", online: true }],
      ["therapist", { type: "note", text: "calm start" }],
      ["therapist", { type: "nudge", to: "a", text: "take your time" }],
      ["therapist", { type: "adjust-timer", seconds: 60 }],
    ] as [Actor, Command][]) {
      const r = apply(s, command, actor, s_(20));
      if (!r.ok) continue;
      expect(r.state.airtime).toBe(s.airtime);
    }
  });

  it("stops the clock on a time-out and a step-out too", () => {
    let s = floorSession();
    s = act(s, "b", { type: "call-time-out", minutes: 20 }, s_(10));
    s = act(s, "b", { type: "end-time-out" }, s_(70));
    s = act(s, "therapist", { type: "step-out", partner: "b" }, s_(80));
    s = act(s, "therapist", { type: "bring-back" }, s_(200));
    s = act(s, "a", { type: "say", text: "done" }, s_(210));
    expect(s.airtime!.session.a.ms).toBe(30_000);
  });
});

describe("who sees airtime", () => {
  const seatsOf: Partner[] = ["a", "b"];
  const moves: [Actor, Command][] = [
    ["a", { type: "say", text: "mine" }],
    ["b", { type: "say", text: "yours" }],
    ["therapist", { type: "pause" }],
    ["therapist", { type: "resume" }],
    ["therapist", { type: "hand-floor" }],
    ["therapist", { type: "note", text: "n" }],
    ["b", { type: "call-time-out", minutes: 20 }],
    ["a", { type: "end-time-out" }],
    ["therapist", { type: "end-exercise" }],
    ["therapist", { type: "start-exercise", exerciseId: "fx-floor" }],
    ["therapist", { type: "start-exercise", exerciseId: "fx-dialogue" }],
    ["therapist", { type: "skip-step" }],
  ];

  it("partners' views and updates never carry airtime; the therapist's always do once there is any", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(moves.length - 1), fc.integer({ min: 0, max: 200_000 })), { maxLength: 40 }),
        (plan) => {
          let s = floorSession();
          let now = s_(0);
          for (const [i, dt] of plan) {
            now += dt;
            const [actor, command] = moves[i]!;
            const r = apply(s, command, actor, now);
            if (!r.ok) continue;
            for (const p of seatsOf) {
              const view = viewFor(r.state, p);
              expect(JSON.stringify(view)).not.toMatch(/airtime|floorSuggestion|"ms"/);
              const update = updateFor(s, r.state, r.appended, p, r.events);
              expect(JSON.stringify(update ?? {})).not.toMatch(/airtime|floorSuggestion|"ms"/);
            }
            expect(viewFor(r.state, "therapist").airtime).toEqual(r.state.airtime);
            s = r.state;
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("guided: the speaker who held the floor far longer, and only they, get the moment of a kind suggestion", () => {
    let s = act(guidedSession("typed"), "a", { type: "start-exercise", exerciseId: "fx-floor" }, s_(0));
    // Early on, the suggestion lies in the future: nobody has held the floor far longer yet.
    expect(viewFor(s, "a").floorSuggestion).toEqual({ from: s_(0) + FLOOR_SUGGESTION_MARGIN_MS });
    expect(viewFor(s, "b").floorSuggestion).toBeNull();
    s = act(s, "a", { type: "say", text: "a long story" }, s_(360)); // a: 6 min
    s = act(s, "b", { type: "say", text: "short" }, s_(390)); // b: 30 s
    // a is back on the floor with 6 min against 30 s: the suggestion applies from now on, to a alone.
    expect(viewFor(s, "a").floorSuggestion).toEqual({ from: s_(390) });
    expect(viewFor(s, "b").floorSuggestion).toBeNull();
    expect(JSON.stringify(viewFor(s, "b"))).not.toMatch(/airtime|"from"|"ms"/);
    // Paused, nobody is holding a running floor: no suggestion.
    const paused = act(s, "b", { type: "pause" }, s_(400));
    expect(viewFor(paused, "a").floorSuggestion).toBeNull();
    // Once a hands it over, b would need far longer still before any suggestion.
    s = act(s, "a", { type: "say", text: "over to you" }, s_(420));
    expect(viewFor(s, "a").floorSuggestion).toBeNull();
    const forB = viewFor(s, "b").floorSuggestion!;
    expect(forB.from).toBeGreaterThan(s_(420) + 10 * 60_000);
  });

  it("a therapist-led session never suggests anything to a partner", () => {
    let s = floorSession();
    s = act(s, "a", { type: "say", text: "x" }, s_(900));
    s = act(s, "b", { type: "say", text: "y" }, s_(905));
    for (const p of seatsOf) expect(viewFor(s, p).floorSuggestion).toBeUndefined();
    expect(viewFor(s, "therapist").floorSuggestion).toBeUndefined();
  });
});
