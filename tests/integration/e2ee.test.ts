/**
 * End-to-end encryption, proven on the wire, in the store and in the logs: typed sessions played by headless
 * participants (which seal and open with the keys of their links, as the browser does) through a raw TCP proxy
 * that keeps every byte the server receives and sends. Every distinctive word, name and note typed is then searched
 * for in those bytes, in everything the store holds (the memory store's records, or every Redis key and stream of
 * the session's namespace, the adapter's stream included) and in every log line (also as base64). None may appear;
 * the seats themselves must read every word. Runs on memory and on Redis.
 */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { createLogger } from "../../server/log.ts";
import { MemoryStore } from "../../server/store/memory.ts";
import type { Command, SessionView } from "../../shared/protocol.ts";
import { UNOPENED_TEXT } from "../../shared/session-crypto.ts";
import { type ByteTap, startByteTap } from "../support/byte-tap.ts";
import { REDIS_URL } from "../support/env.ts";
import { redisDump } from "../support/store-dump.ts";
import { createEncryptedTestSession, createTestSession, startTestServer, storeVariants } from "../support/server.ts";

const variants = await storeVariants();

const open: Participant[] = [];
const taps: ByteTap[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) p.close();
  await Promise.all(taps.splice(0).map((t) => t.close()));
});

/** Words nobody would type by chance: each is typed once, somewhere, and searched for everywhere. */
class Words {
  readonly used: string[] = [];
  #n = 0;
  next(label: string): string {
    const word = `Zq${label}${(this.#n++).toString(36)}Vex`;
    this.used.push(word);
    return word;
  }
}

function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger("debug", stream) };
}

async function join(link: string): Promise<Participant> {
  const p = await Participant.join(link);
  open.push(p);
  return p;
}

async function ok(p: Participant, command: Command): Promise<number> {
  const ack = await p.send(command);
  if (!ack.ok) throw new Error(`${p.seat} ${command.type} refused: ${ack.error.code} ${ack.error.message}`);
  return ack.version;
}

/** Plays the running exercise to its end, every typed text a fresh distinctive word. */
async function playTyped(a: Participant, b: Participant, words: Words): Promise<void> {
  const doneBefore = a.view.completed.length;
  for (let i = 0; i < 200; i++) {
    const version = Math.max(a.version, b.version);
    await Promise.all([a.waitForVersion(version), b.waitForVersion(version)]);
    if (a.view.completed.length > doneBefore || !a.view.exercise) return;
    const movers = [a, b].filter((p) => p.view.exercise?.step.yourMove);
    if (movers.length === 0) throw new Error(`nobody may act at ${a.view.exercise.step.id}`);
    for (const p of movers) {
      const step = p.view.exercise!.step;
      let command: Command;
      if (step.kind === "say") command = { type: "say", text: `I said ${words.next("say")} to you` };
      else if (step.kind === "choose") command = { type: "choose", option: step.options![0]!.id };
      else if (step.kind === "private-answer") {
        const f = step.answerFields ?? {};
        command = {
          type: "answer",
          answer: {
            ...(f.rating ? { rating: f.rating.max } : {}),
            ...(f.feelings ? { feeling: f.feelings[0] } : {}),
            ...(f.note ? { note: `my note ${words.next("note")}` } : {}),
            ...(f.ideas ? { ideas: [`go to ${words.next("idea")}`, words.next("idea")] } : {}),
          },
        };
      } else if (step.kind === "pick") {
        // Both pick the idea the pick step lists last (the other partner's second one, for b).
        command = { type: "pick", option: step.pick!.options.at(-1)!.id };
      } else if (step.kind === "agreement") {
        // One offers a time and a detail, the other acknowledges: one move per round, so they do not cross.
        const offer = step.agreement?.offer;
        if (offer && offer.by !== p.seat) command = { type: "acknowledge" };
        else if (offer) continue;
        else {
          const when = new Date(Date.now() + 2 * 24 * 3_600_000).toISOString();
          command = { type: "agree", when, what: `bring ${words.next("agree")}` };
        }
        await ok(p, command);
        break;
      } else if (step.kind === "talk") {
        await ok(p, { type: "post", text: words.next("post") });
        command = { type: "end-turn" };
      } else command = { type: "end-turn" };
      await ok(p, command);
    }
  }
  throw new Error("the exercise did not end");
}

async function memoryDump(store: MemoryStore, id: string): Promise<string> {
  return JSON.stringify([await store.load(id), await store.loadWorking(id), await store.loadLog(id)]);
}

function expectNoWord(where: string, haystack: string, words: string[]): void {
  const found = words.filter((w) => haystack.includes(w));
  expect(found, `${where} holds typed words in clear`).toEqual([]);
}

function expectNoBase64(where: string, haystack: string, words: string[]): void {
  const forms = words.flatMap((w) => {
    const b = Buffer.from(w);
    return [b.toString("base64").replace(/=+$/, ""), b.toString("base64url")];
  });
  expect(
    forms.filter((f) => haystack.includes(f)),
    `${where} holds typed words as base64`,
  ).toEqual([]);
}

/** Every text of a view once opened, for the positive check that the seats did read the words. */
function textsOf(view: SessionView): string {
  return JSON.stringify(view);
}

describe.each(variants)("end-to-end encrypted sessions ($name store)", (variant) => {
  let lastOptions: { redisPrefix: string } | undefined;
  async function setUp() {
    const { lines, logger } = captureLogs();
    const options = variant.options();
    lastOptions = options as { redisPrefix: string };
    const store = variant.name === "memory" ? new MemoryStore() : undefined;
    const server = await startTestServer({ ...options, logger, commandRate: 10_000, ...(store ? { store } : {}) });
    const tap = await startByteTap(server.url);
    taps.push(tap);
    const dump = async (id: string) =>
      store ? memoryDump(store, id) : redisDump((options as { redisPrefix: string }).redisPrefix);
    return { lines, tap, dump };
  }

  it("guided: a check-in, a dialogue, a plan with ideas and the closing reflection leave no word on the server", async () => {
    const { lines, tap, dump } = await setUp();
    const words = new Words();
    const names = { a: words.next("nameA"), b: words.next("nameB") };
    const created = await createEncryptedTestSession(tap.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["check-in", "intentional-dialogue", "plan-time"],
      names,
    });
    expect(created.links.a).toContain(`${tap.url}/join/`);
    expect(created.links.a).toContain("#k=");
    const a = await join(created.links.a);
    const b = await join(created.links.b);
    expect(a.view.encrypted).toBe(true);

    await ok(a, { type: "start-exercise", exerciseId: "check-in" });
    await playTyped(a, b, words);
    await ok(a, { type: "start-exercise", exerciseId: "intentional-dialogue", firstSpeaker: "b" });
    await playTyped(a, b, words);
    // Ideas listed alone, one picked together, a time and a detail agreed about it.
    const ideasFrom = words.used.length;
    await ok(a, { type: "start-exercise", exerciseId: "plan-time" });
    await playTyped(a, b, words);
    const ideas = words.used.slice(ideasFrom).filter((w) => w.startsWith("Zqidea"));
    expect(ideas).toHaveLength(4);
    // In clear, the engine refuses it and nothing changes.
    const before = a.version;
    const clear = await a.socket.emitWithAck("command", {
      id: "clear-text-0001",
      command: { type: "post", text: words.next("clear") },
    });
    expect(clear).toMatchObject({ ok: false, error: { code: "TEXT_NOT_SEALED" } });
    await ok(a, { type: "end-session" });
    await ok(a, { type: "reflect", heard: 8, word: words.next("wordA"), keep: false });
    const last = await ok(b, { type: "reflect", heard: 6, word: words.next("wordB"), keep: false });
    await Promise.all([a.waitForVersion(last), b.waitForVersion(last)]);
    expect(last).toBeGreaterThan(before);

    // The seats read every word they may (the refused one was never stored) ...
    const seen = textsOf(await a.opened()) + textsOf(await b.opened());
    const typed = words.used.filter((w) => !w.startsWith("Zqclear"));
    expect(typed.filter((w) => !seen.includes(w))).toEqual([]);
    expect(seen).not.toContain(UNOPENED_TEXT);
    expect(a.opener.failures + b.opener.failures).toBe(0);
    // The idea picked is b's second one, read as such in the pick, the agreement and the kept record.
    const plan = await b.opened();
    const kept = plan.agreements.find((g) => g.exerciseId === "plan-time");
    expect(kept).toMatchObject({ picked: ideas[3], pickedFrom: { stepId: "ideas", by: "b", index: 1 } });
    expect(kept?.what).toMatch(/^bring Zqagree/);
    expect(plan.transcript.find((e) => e.stepId === "pick")?.label).toBe(ideas[3]);
    const revealed = plan.checkIns.find((c) => c.exerciseId === "plan-time")?.answers;
    expect(revealed).toEqual({
      a: { ideas: [`go to ${ideas[0]}`, ideas[1]] },
      b: { ideas: [`go to ${ideas[2]}`, ideas[3]] },
    });

    // ... and the server was given, kept, sent and logged none of them (the refused clear word aside: it was
    // sent in clear on purpose, so only the store, the other seats and the logs are searched for it).
    const received = tap.received().toString("utf8");
    expect(tap.problems).toEqual([]);
    expect(received).toMatch(/e1\.[A-Za-z0-9_-]{16}\./);
    expectNoWord("what the server received", received, typed);
    expectNoWord("what the server sent", tap.sent().toString("utf8"), words.used);
    const stored = await dump(created.id);
    expect(stored).toContain(created.id);
    expect(stored).toMatch(/e1\.[A-Za-z0-9_-]{16}\./);
    expectNoWord("the store", stored, words.used);
    const logs = lines.join("\n");
    expect(lines.length).toBeGreaterThan(5);
    expectNoWord("the logs", logs, words.used);
    expectNoBase64("the logs", logs, words.used);
  });

  it("therapist: nudges, notes, a message to both, a step-out and private messages leave no word", async () => {
    const { lines, tap, dump } = await setUp();
    const words = new Words();
    const created = await createEncryptedTestSession(tap.url, {
      mode: "therapist",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: words.next("nameA"), b: words.next("nameB") },
    });
    const t = await join(created.links.therapist!);
    const a = await join(created.links.a);
    const b = await join(created.links.b);
    await t.waitFor((v) => v.presence.a && v.presence.b);
    await ok(t, { type: "admit", partners: ["a", "b"] });
    await ok(t, { type: "start-exercise", exerciseId: "intentional-dialogue", firstSpeaker: "a" });
    await t.waitForVersion(a.version);
    await a.waitFor((v) => v.exercise?.step.yourMove === true);
    const said = words.next("say");
    await ok(a, { type: "say", text: said });
    const nudgeA = words.next("nudgeA");
    const nudgeB = words.next("nudgeB");
    await ok(t, { type: "nudge", to: "a", text: nudgeA });
    await ok(t, { type: "nudge", to: "b", text: nudgeB });
    const note = words.next("note");
    await ok(t, { type: "note", text: note });
    const both = words.next("both");
    await ok(t, { type: "message-both", text: both });
    await ok(t, { type: "step-out", partner: "b" });
    const fromT = words.next("privT");
    await ok(t, { type: "private-message", text: fromT });
    await a.waitFor((v) => v.privateMessages.length === 1);
    const fromA = words.next("privA");
    const last = await ok(a, { type: "private-message", text: fromA });
    await t.waitForVersion(last);
    await ok(t, { type: "bring-back" });
    await Promise.all([t, a, b].map((p) => p.waitFor((v) => v.steppedOut === null && v.transcript.length >= 2)));

    const tv = await t.opened();
    expect(tv.nudges.map((n) => n.text)).toEqual([nudgeA, nudgeB]);
    expect(tv.notes.map((n) => n.text)).toEqual([note]);
    expect(tv.privateMessages.map((m) => m.text)).toEqual([fromT, fromA]);
    expect(tv.transcript.map((e) => e.text)).toEqual(expect.arrayContaining([said, both]));
    const av = await a.opened();
    expect(av.nudges.map((n) => n.text)).toEqual([nudgeA]);
    expect(av.privateMessages.map((m) => m.text)).toEqual([fromT, fromA]);
    const bv = await b.opened();
    expect(bv.nudges.map((n) => n.text)).toEqual([nudgeB]);
    expect(bv.notes).toEqual([]);
    expect(bv.names).toEqual({ a: words.used[0], b: words.used[1] });

    expect(tap.problems).toEqual([]);
    expectNoWord("what the server received", tap.received().toString("utf8"), words.used);
    expectNoWord("what the server sent", tap.sent().toString("utf8"), words.used);
    expectNoWord("the store", await dump(created.id), words.used);
    const logs = lines.join("\n");
    expectNoWord("the logs", logs, words.used);
    expectNoBase64("the logs", logs, words.used);
  });

  it("the same scan finds the words of an unencrypted session everywhere (the search itself works)", async () => {
    const { lines, tap, dump } = await setUp();
    const words = new Words();
    const created = await createTestSession(tap.url, {
      mode: "guided",
      channel: "typed",
      encrypted: false,
      names: { a: words.next("nameA"), b: words.next("nameB") },
    });
    const a = await join(created.links.a);
    const b = await join(created.links.b);
    await ok(a, { type: "start-exercise", exerciseId: "intentional-dialogue", firstSpeaker: "a" });
    const said = words.next("say");
    const version = await ok(a, { type: "say", text: said });
    await b.waitForVersion(version);
    expect(tap.received().toString("utf8")).toContain(said);
    expect(tap.sent().toString("utf8")).toContain(said);
    expect(await dump(created.id)).toContain(said);
    // The logs keep no words even then.
    expectNoWord("the logs", lines.join("\n"), words.used);
  });

  if (variant.name === "redis") {
    it("a ciphertext altered or moved to another step in Redis is refused by the client: could not be opened", async () => {
      const { tap } = await setUp();
      const options = lastOptions;
      const created = await createEncryptedTestSession(tap.url, { mode: "guided", channel: "typed" });
      const a = await join(created.links.a);
      const b = await join(created.links.b);
      await ok(a, { type: "start-exercise", exerciseId: "intentional-dialogue", firstSpeaker: "a" });
      await ok(a, { type: "say", text: "the first thing" });
      await ok(b, { type: "choose", option: "now" });
      const last = await ok(a, { type: "say", text: "the second thing" });
      await b.waitForVersion(last);
      expect((await b.opened()).transcript.flatMap((e) => (e.text ? [e.text] : []))).toEqual([
        "the first thing",
        "the second thing",
      ]);

      const { createClient } = await import("redis");
      const client = createClient({ url: REDIS_URL });
      client.on("error", () => {});
      await client.connect();
      try {
        const key = `${options!.redisPrefix}s:{${created.id}}:c`;
        const entries = await client.lRange(key, 0, -1);
        const said = entries
          .map((raw, index) => ({ index, entry: JSON.parse(raw) as [string, { text?: string; stepId?: string }] }))
          .filter(({ entry }) => entry[0] === "transcript" && entry[1].text !== undefined);
        expect(said).toHaveLength(2);
        const [first, second] = said as [(typeof said)[number], (typeof said)[number]];
        const text = first.entry[1].text!;
        const flipped = text.slice(0, -3) + (text.at(-3) === "A" ? "B" : "A") + text.slice(-2);
        await client.lSet(key, first.index, JSON.stringify([first.entry[0], { ...first.entry[1], text: flipped }]));
        await client.lSet(
          key,
          second.index,
          JSON.stringify([second.entry[0], { ...second.entry[1], stepId: "invite" }]),
        );
      } finally {
        await client.quit().catch(() => {});
      }
      // A fresh device of b reads the session from the store.
      const again = await join(created.links.b);
      const opened = await again.opened();
      expect(opened.transcript.flatMap((e) => (e.text ? [e.text] : []))).toEqual([UNOPENED_TEXT, UNOPENED_TEXT]);
      expect(again.opener.failures).toBe(2);
      expect(JSON.stringify(opened)).not.toMatch(/e1\./);
    });
  }

  it("a partner link without its key reads nothing and sends nothing in clear", async () => {
    const { tap } = await setUp();
    const created = await createEncryptedTestSession(tap.url, { mode: "guided", channel: "typed" });
    const a = await join(created.links.a.split("#")[0]!);
    const b = await join(created.links.b);
    await ok(b, { type: "start-exercise", exerciseId: "intentional-dialogue", firstSpeaker: "a" });
    await a.waitForVersion(b.version);
    const before = a.version;
    await expect(a.send({ type: "say", text: "never sent" })).rejects.toThrow(/missing its key/);
    expect(tap.received().toString("utf8")).not.toContain("never sent");
    expect(a.version).toBe(before);
  });
});
