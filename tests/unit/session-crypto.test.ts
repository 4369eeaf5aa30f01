/**
 * End-to-end encryption of a session's typed words: sealed texts (shared/crypto.ts), the contexts they are bound to
 * and the keys each link carries (shared/session-crypto.ts), and the engine's rule that an encrypted session takes
 * only sealed text (shared/engine/texts.ts) — refusing cleartext and changing nothing.
 */
import { describe, expect, it } from "vitest";
import { isSealedText, openText, sealedTextMax, sealText } from "../../shared/crypto.ts";
import { apply, createSession, viewFor } from "../../shared/engine.ts";
import type { Command, SessionState, SessionView } from "../../shared/protocol.ts";
import { LIMITS } from "../../shared/protocol.ts";
import {
  generateSessionKeys,
  keyFragmentFor,
  linksWithKeys,
  openView,
  readKeyFragment,
  sealCommand,
  sealNames,
  TextOpener,
  textContext,
  UNOPENED_TEXT,
} from "../../shared/session-crypto.ts";
import { act, refuse } from "../support/play.ts";
import { cryptoFailure } from "../support/crypto-failure.ts";

const T0 = Date.UTC(2026, 4, 1, 18, 0, 0);
const PLACE = { sessionId: "sess-1", seat: "a" as const, field: "say.text", exerciseId: "ex", stepId: "send" };

describe("sealed texts", () => {
  it("round-trip any Unicode text with a fresh IV each time, in the e1.<iv>.<ct> form", async () => {
    const { conversation: key } = await generateSessionKeys();
    const words = "Marguerite, j'ai eu peur 🌧️ — 私は";
    const one = await sealText(key, textContext(PLACE), words);
    const two = await sealText(key, textContext(PLACE), words);
    expect(one).not.toBe(two);
    expect(isSealedText(one)).toBe(true);
    expect(one).toMatch(/^e1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(one).not.toContain("Marguerite");
    expect(await openText(key, textContext(PLACE), one)).toBe(words);
  });

  it("fail to open when moved to another session, seat, field, exercise, step or channel partner", async () => {
    const { conversation: key } = await generateSessionKeys();
    const sealed = await sealText(key, textContext(PLACE), "only here");
    const moved = [
      { ...PLACE, sessionId: "sess-2" },
      { ...PLACE, seat: "b" as const },
      { ...PLACE, field: "post.text" },
      { ...PLACE, exerciseId: "other" },
      { ...PLACE, stepId: "mirror" },
      { ...PLACE, partner: "a" as const },
    ];
    for (const place of moved) {
      expect((await cryptoFailure(openText(key, textContext(place), sealed))).problem).toBe("unreadable");
    }
  });

  it("fail to open when altered, cut or opened with another audience's key", async () => {
    const keys = await generateSessionKeys();
    const sealed = await sealText(keys.conversation, textContext(PLACE), "whole");
    const last = sealed.at(-1) === "A" ? "B" : "A";
    expect(
      (await cryptoFailure(openText(keys.conversation, textContext(PLACE), sealed.slice(0, -1) + last))).problem,
    ).toBe("unreadable");
    expect((await cryptoFailure(openText(keys.conversation, textContext(PLACE), sealed.slice(0, 30)))).problem).toBe(
      "malformed",
    );
    expect((await cryptoFailure(openText(keys.notes, textContext(PLACE), sealed))).problem).toBe("unreadable");
    expect((await cryptoFailure(openText(keys.private.a, textContext(PLACE), sealed))).problem).toBe("unreadable");
  });

  it("stay within sealedTextMax for the worst case of each plaintext limit", async () => {
    const { conversation: key } = await generateSessionKeys();
    for (const max of [
      LIMITS.textMax,
      LIMITS.guessTextMax,
      LIMITS.agreementTextMax,
      LIMITS.nameMax,
      LIMITS.reflectionWordMax,
      LIMITS.ideaMax,
    ]) {
      // Three UTF-8 bytes per UTF-16 unit is the worst case (a surrogate pair is 4 bytes for 2 units).
      for (const text of ["€".repeat(max), "😀".repeat(max / 2), "a".repeat(max)]) {
        const sealed = await sealText(key, textContext(PLACE), text);
        expect(sealed.length).toBeLessThanOrEqual(sealedTextMax(max));
      }
      const worst = await sealText(key, textContext(PLACE), "€".repeat(max));
      expect(sealedTextMax(max) - worst.length).toBeLessThanOrEqual(1);
    }
  });
});

describe("keys in links", () => {
  it("give each link only the keys its seat may use", async () => {
    const keys = await generateSessionKeys();
    const links = linksWithKeys(
      { a: "http://x/join/ta", b: "http://x/join/tb", therapist: "http://x/join/tt" },
      keys,
      "therapist",
    );
    const a = await readKeyFragment(new URL(links.a).hash);
    const b = await readKeyFragment(new URL(links.b).hash);
    const t = await readKeyFragment(new URL(links.therapist!).hash);
    expect(a.conversation?.text).toBe(keys.conversation.text);
    expect(a.notes).toBeUndefined();
    expect(a.private).toEqual({ a: expect.objectContaining({ text: keys.private.a.text }) });
    expect(b.private).toEqual({ b: expect.objectContaining({ text: keys.private.b.text }) });
    expect(links.a).not.toContain(keys.private.b.text);
    expect(links.a).not.toContain(keys.notes.text);
    expect(t.notes?.text).toBe(keys.notes.text);
    expect(Object.keys(t.private).sort()).toEqual(["a", "b"]);
    // A guided session has no private channel and no notes: a partner link holds the conversation key only.
    expect(keyFragmentFor(keys, "a", "guided")).toBe(`k=${keys.conversation.text}`);
  });

  it("refuse a mistyped key with a clear error that does not repeat it", async () => {
    const err = await cryptoFailure(readKeyFragment("k=abc"));
    expect(err.problem).toBe("key");
    expect(err.message).not.toContain("abc");
  });
});

function encryptedSession(mode: "guided" | "therapist", names?: { a: string; b: string }): SessionState {
  let s = createSession({
    id: "sess-e2ee",
    mode,
    channel: "typed",
    agenda: ["check-in", "intentional-dialogue"],
    createdAt: T0,
    encrypted: true,
    ...(names ? { names } : {}),
  });
  if (mode === "therapist") s = act(s, "therapist", { type: "admit", partners: ["a", "b"] }, T0).state;
  return s;
}

const TEXT_COMMANDS: Command[] = [
  { type: "say", text: "Ottoline" },
  { type: "post", text: "Ottoline" },
  { type: "guess", text: "Ottoline" },
  { type: "agree", what: "Ottoline" },
  { type: "answer", answer: { rating: 5, feeling: "calm", note: "Ottoline" } },
  { type: "answer", answer: { ideas: ["Ottoline"] } },
  { type: "reflect", heard: 7, word: "Ottoline", keep: false },
  { type: "nudge", to: "a", text: "Ottoline" },
  { type: "message-both", text: "Ottoline" },
  { type: "note", text: "Ottoline" },
  { type: "private-message", text: "Ottoline" },
];

describe("the engine in an encrypted session", () => {
  it.each(TEXT_COMMANDS.map((c) => [c.type, c] as const))(
    "refuses %s in clear with TEXT_NOT_SEALED and changes nothing",
    (_type, command) => {
      const s = encryptedSession("therapist");
      for (const seat of ["a", "therapist"] as const) {
        const error = refuse(s, seat, command, T0 + 1000, "TEXT_NOT_SEALED");
        expect(error.message).not.toContain("Ottoline");
      }
    },
  );

  it("accepts sealed text, stores only the ciphertext, and each seat opens its own words", async () => {
    const keys = await generateSessionKeys();
    const names = await sealNames(keys, { a: "Ottoline", b: "Bartholomew" });
    let s = encryptedSession("guided", names as { a: string; b: string });
    const send = async (seat: "a" | "b", command: Command) => {
      const sealed = await sealCommand(keys, viewFor(s, seat), command);
      s = act(s, seat, sealed, T0 + s.version * 1000).state;
    };
    await send("a", { type: "start-exercise", exerciseId: "check-in" });
    await send("a", { type: "answer", answer: { rating: 6, feeling: "calm", note: "the lighthouse weekend" } });
    await send("b", { type: "answer", answer: { rating: 4, feeling: "tired", note: "quince jam" } });
    expect(JSON.stringify(s)).not.toMatch(/lighthouse|quince|Ottoline|Bartholomew/);
    const opened = await openView(new TextOpener(keys), viewFor(s, "a"));
    expect(opened.names).toEqual({ a: "Ottoline", b: "Bartholomew" });
    expect(opened.checkIns[0]?.answers.a.note).toBe("the lighthouse weekend");
    expect(opened.checkIns[0]?.answers.b.note).toBe("quince jam");
  });

  it("bounds a sealed text by its plaintext limit: one sealed form too long is TEXT_TOO_LONG", async () => {
    const s = encryptedSession("guided");
    const long = `e1.${"A".repeat(16)}.${"A".repeat(sealedTextMax(LIMITS.agreementTextMax))}`;
    refuse(s, "a", { type: "agree", what: long }, T0, "TEXT_TOO_LONG");
    const fits = `e1.${"A".repeat(16)}.${"A".repeat(sealedTextMax(LIMITS.agreementTextMax) - 20)}`;
    // A sealed form that fits passes the form check and meets the step rules (no agreement step now).
    const result = apply(s, { type: "agree", what: fits }, "a", T0);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).not.toBe("TEXT_TOO_LONG");
  });

  it("leaves an unencrypted session as it was: words in clear, sealed-looking text held to the plaintext limit", () => {
    const s = createSession({ id: "plain", mode: "therapist", channel: "typed", agenda: [], createdAt: T0 });
    const noted = act(s, "therapist", { type: "note", text: "in clear" }, T0).state;
    expect(noted.notes[0]?.text).toBe("in clear");
    refuse(s, "therapist", { type: "note", text: "x".repeat(LIMITS.textMax + 1) }, T0, "TEXT_TOO_LONG");
  });
});

describe("opening a view", () => {
  async function played(): Promise<{ keys: Awaited<ReturnType<typeof generateSessionKeys>>; s: SessionState }> {
    const keys = await generateSessionKeys();
    let s = encryptedSession("therapist");
    const send = async (seat: "a" | "b" | "therapist", command: Command) => {
      const sealed = await sealCommand(keys, viewFor(s, seat), command);
      s = act(s, seat, sealed, T0 + s.version * 1000).state;
    };
    await send("therapist", { type: "start-exercise", exerciseId: "intentional-dialogue" });
    await send("a", { type: "say", text: "about the allotment" });
    await send("therapist", { type: "nudge", to: "b", text: "breathe first" });
    await send("therapist", { type: "note", text: "watch the pacing" });
    await send("therapist", { type: "step-out", partner: "b" });
    await send("a", { type: "private-message", text: "only between us" });
    return { keys, s };
  }

  it("opens every text for the seats that hold its key, and shows the rest as could-not-be-opened", async () => {
    const { keys, s } = await played();
    const therapist = await openView(new TextOpener(keys), viewFor(s, "therapist"));
    expect(therapist.transcript.map((e) => e.text)).toContain("about the allotment");
    expect(therapist.nudges[0]?.text).toBe("breathe first");
    expect(therapist.notes[0]?.text).toBe("watch the pacing");
    expect(therapist.privateMessages[0]?.text).toBe("only between us");
    // A partner's link holds only the conversation key and its own private key.
    const aKeys = await readKeyFragment(keyFragmentFor(keys, "a", "therapist"));
    const a = await openView(new TextOpener(aKeys), viewFor(s, "a"));
    expect(a.privateMessages[0]?.text).toBe("only between us");
    const bKeys = await readKeyFragment(keyFragmentFor(keys, "b", "therapist"));
    const forged: SessionView = { ...viewFor(s, "b"), nudges: viewFor(s, "therapist").nudges };
    const b = await openView(new TextOpener(bKeys), forged);
    expect(b.nudges[0]?.text).toBe("breathe first");
    // Even if the server handed b the private conversation, b's link cannot open it.
    const leaked = await openView(new TextOpener(bKeys), {
      ...forged,
      privateMessages: viewFor(s, "a").privateMessages,
    });
    expect(leaked.privateMessages[0]?.text).toBe(UNOPENED_TEXT);
  });

  it("refuses a ciphertext altered, moved to another step or seat, or replaced by cleartext", async () => {
    const { keys, s } = await played();
    const view = viewFor(s, "therapist");
    const said = view.transcript.find((e) => e.kind === "say")!;
    const flip = (t: string) => t.slice(0, -2) + (t.at(-2) === "A" ? "B" : "A") + t.at(-1);
    const tampered: SessionView = {
      ...view,
      transcript: [
        { ...said, text: flip(said.text!) },
        { ...said, stepId: "send" },
        { ...said, seat: "b" },
        { ...said, text: "injected in clear" },
      ],
      notes: view.notes.map((n) => ({ ...n, text: view.nudges[0]!.text })),
    };
    const opener = new TextOpener(keys);
    const opened = await openView(opener, tampered);
    expect(opened.transcript.map((e) => e.text)).toEqual(Array(4).fill(UNOPENED_TEXT));
    expect(opened.notes[0]?.text).toBe(UNOPENED_TEXT);
    expect(opener.failures).toBe(5);
  });
});

describe("pick-list ideas", () => {
  type Keys = Awaited<ReturnType<typeof generateSessionKeys>>;
  const IDEAS = { a: ["a lighthouse walk", "quince jam night"], b: ["the Ostrava film"] };

  /** A guided, encrypted plan-time played through the engine up to (and, with `all`, past) the agreement. */
  async function planTime(all: boolean): Promise<{ keys: Keys; s: SessionState }> {
    const keys = await generateSessionKeys();
    let s = createSession({
      id: "sess-ideas",
      mode: "guided",
      channel: "typed",
      agenda: ["plan-time"],
      createdAt: T0,
      encrypted: true,
    });
    const send = async (seat: "a" | "b", command: Command) => {
      const sealed = await sealCommand(keys, viewFor(s, seat), command);
      s = act(s, seat, sealed, T0 + s.version * 1000).state;
    };
    await send("a", { type: "start-exercise", exerciseId: "plan-time" });
    await send("a", { type: "answer", answer: { ideas: IDEAS.a } });
    // Before the reveal, a reads back a's own list; b sees that a answered, and nothing of it.
    const own = await openView(new TextOpener(keys), viewFor(s, "a"));
    expect(own.exercise?.step.yourAnswer?.ideas).toEqual(IDEAS.a);
    expect(JSON.stringify(viewFor(s, "b"))).not.toMatch(/e1\./);
    await send("b", { type: "answer", answer: { ideas: IDEAS.b } });
    if (!all) return { keys, s };
    await send("a", { type: "pick", option: "b-0" });
    await send("b", { type: "pick", option: "b-0" });
    const when = new Date(T0 + 3 * 24 * 3_600_000).toISOString();
    await send("a", { type: "agree", when, what: "I'll book the seats" });
    await send("b", { type: "acknowledge" });
    return { keys, s };
  }

  it("are sealed one by one, stored only as ciphertext, and read again wherever the engine copied them", async () => {
    const { keys, s: atPick } = await planTime(false);
    expect(JSON.stringify(atPick)).not.toMatch(/lighthouse|quince|Ostrava/);
    expect(atPick.turn?.ideas?.ideas?.a.every(isSealedText)).toBe(true);
    for (const seat of ["a", "b"] as const) {
      const view = await openView(new TextOpener(keys), viewFor(atPick, seat));
      expect(view.exercise?.step.pick?.from).toBe("ideas");
      expect(view.exercise?.step.pick?.options).toEqual([
        { id: "a-0", label: IDEAS.a[0], by: "a", index: 0 },
        { id: "b-0", label: IDEAS.b[0], by: "b", index: 0 },
        { id: "a-1", label: IDEAS.a[1], by: "a", index: 1 },
      ]);
      expect(view.checkIns[0]?.answers).toEqual({ a: { ideas: IDEAS.a }, b: { ideas: IDEAS.b } });
    }

    const { keys: k2, s } = await planTime(true);
    expect(JSON.stringify(s)).not.toMatch(/lighthouse|quince|Ostrava|book the seats/);
    const opener = new TextOpener(k2);
    const view = await openView(opener, viewFor(s, "b"));
    expect(view.transcript.find((e) => e.kind === "choice")).toMatchObject({
      stepId: "pick",
      option: "b-0",
      label: IDEAS.b[0],
      idea: { stepId: "ideas", by: "b", index: 0 },
    });
    expect(view.agreements).toEqual([
      expect.objectContaining({
        what: "I'll book the seats",
        picked: IDEAS.b[0],
        pickedFrom: { stepId: "ideas", by: "b", index: 0 },
      }),
    ]);
    expect(opener.failures).toBe(0);
  });

  it("opens the picked idea on the agreement step, before anything is kept", async () => {
    const { s: atPick, keys: k } = await planTime(false);
    let s = atPick;
    for (const seat of ["a", "b"] as const)
      s = act(s, seat, { type: "pick", option: "a-1" }, T0 + s.version * 1000).state;
    const view = await openView(new TextOpener(k), viewFor(s, "a"));
    expect(view.exercise?.step.id).toBe("when");
    expect(view.exercise?.step.agreement).toMatchObject({
      picked: IDEAS.a[1],
      pickedFrom: { stepId: "ideas", by: "a", index: 1 },
    });
  });

  it("show could-not-be-opened when moved to another slot, partner or step, altered, or stripped of origin", async () => {
    const { keys, s } = await planTime(false);
    const view = viewFor(s, "a");
    const exercise = view.exercise!;
    const pick = exercise.step.pick!;
    const [a0, b0, a1] = pick.options as [(typeof pick.options)[0], (typeof pick.options)[0], (typeof pick.options)[0]];
    const flip = (t: string) => t.slice(0, -2) + (t.at(-2) === "A" ? "B" : "A") + t.at(-1);
    const tampered: SessionView = {
      ...view,
      exercise: {
        ...exercise,
        step: {
          ...exercise.step,
          pick: {
            ...pick,
            options: [
              { ...a0, label: a1.label }, // another slot of the same partner
              { ...b0, label: a0.label }, // another partner's slot
              { ...a1, label: flip(a1.label) }, // altered
              { ...a0, id: "b-0" }, // an id that names another slot than the one shown
              { ...b0, label: "injected in clear" },
            ],
          },
        },
      },
      checkIns: view.checkIns.map((c) => ({
        ...c,
        answers: { a: { ideas: [...c.answers.a.ideas!].reverse() }, b: c.answers.b },
      })),
    };
    const opener = new TextOpener(keys);
    const opened = await openView(opener, tampered);
    expect(opened.exercise?.step.pick?.options.map((o) => o.label)).toEqual(Array(5).fill(UNOPENED_TEXT));
    expect(opened.checkIns[0]?.answers.a.ideas).toEqual([UNOPENED_TEXT, UNOPENED_TEXT]);
    expect(opened.checkIns[0]?.answers.b.ideas).toEqual(IDEAS.b);
    // The whole pick pointed at another step.
    const elsewhere = await openView(new TextOpener(keys), {
      ...view,
      exercise: { ...exercise, step: { ...exercise.step, pick: { ...pick, from: "pick" } } },
    });
    expect(elsewhere.exercise?.step.pick?.options.map((o) => o.label)).toEqual(Array(3).fill(UNOPENED_TEXT));
    expect(opener.failures).toBe(7);

    const { keys: k2, s: done } = await planTime(true);
    const after = viewFor(done, "a");
    const kept = after.agreements[0]!;
    const choice = after.transcript.find((e) => e.kind === "choice")!;
    const { idea: _origin, ...choiceWithoutOrigin } = choice;
    const { pickedFrom: _from, ...keptWithoutOrigin } = kept;
    const again = await openView(new TextOpener(k2), {
      ...after,
      transcript: [
        { ...choice, idea: { ...choice.idea!, index: 1 } },
        { ...choice, idea: { ...choice.idea!, by: "a" } },
        choiceWithoutOrigin,
      ],
      agreements: [{ ...kept, pickedFrom: { ...kept.pickedFrom!, stepId: "when" } }, keptWithoutOrigin],
    });
    expect(again.transcript.map((e) => e.label)).toEqual(Array(3).fill(UNOPENED_TEXT));
    expect(again.agreements.map((a) => a.picked)).toEqual([UNOPENED_TEXT, UNOPENED_TEXT]);
    expect(JSON.stringify(again)).not.toMatch(/e1\./);
  });

  it("in clear are refused with TEXT_NOT_SEALED and change nothing; a sealed one too long is TEXT_TOO_LONG", async () => {
    const keys = await generateSessionKeys();
    let s = createSession({
      id: "sess-clear-ideas",
      mode: "guided",
      channel: "typed",
      agenda: ["plan-time"],
      createdAt: T0,
      encrypted: true,
    });
    s = act(s, "a", { type: "start-exercise", exerciseId: "plan-time" }, T0).state;
    const error = refuse(s, "a", { type: "answer", answer: { ideas: ["Ottoline's picnic"] } }, T0, "TEXT_NOT_SEALED");
    expect(error.message).toContain("answer.ideas[0]");
    expect(error.message).not.toContain("Ottoline");
    // One sealed idea does not carry a clear one beside it.
    const sealed = await sealCommand(keys, viewFor(s, "a"), { type: "answer", answer: { ideas: ["a walk"] } });
    const one = sealed.type === "answer" ? sealed.answer.ideas![0]! : "";
    refuse(s, "a", { type: "answer", answer: { ideas: [one, "in clear"] } }, T0, "TEXT_NOT_SEALED");
    const long = `e1.${"A".repeat(16)}.${"A".repeat(sealedTextMax(LIMITS.ideaMax))}`;
    refuse(s, "a", { type: "answer", answer: { ideas: [long] } }, T0, "TEXT_TOO_LONG");
    // The longest idea a person may write, in the widest characters, seals within bounds and is accepted.
    const widest = await sealCommand(keys, viewFor(s, "a"), {
      type: "answer",
      answer: { ideas: ["€".repeat(LIMITS.ideaMax), "😀".repeat(LIMITS.ideaMax / 2)] },
    });
    expect(act(s, "a", widest, T0).state.turn?.answers.a?.ideas).toHaveLength(2);
  });

  it("stay in clear, and are copied as before, in an unencrypted session", () => {
    let s = createSession({ id: "plain", mode: "guided", channel: "typed", agenda: ["plan-time"], createdAt: T0 });
    s = act(s, "a", { type: "start-exercise", exerciseId: "plan-time" }, T0).state;
    s = act(s, "a", { type: "answer", answer: { ideas: ["a walk"] } }, T0).state;
    s = act(s, "b", { type: "answer", answer: { ideas: ["a film"] } }, T0).state;
    expect(viewFor(s, "a").exercise?.step.pick?.options.map((o) => o.label)).toEqual(["a walk", "a film"]);
    expect(s.turn?.ideas?.ideas).toEqual({ a: ["a walk"], b: ["a film"] });
    // Held to the plaintext limit, whatever the step (the form of a text is checked first).
    refuse(s, "a", { type: "answer", answer: { ideas: ["x".repeat(LIMITS.ideaMax + 1)] } }, T0, "TEXT_TOO_LONG");
  });
});
