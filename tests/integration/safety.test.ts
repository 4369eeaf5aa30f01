/**
 * Safety over real sockets (issue 13): the waiting room's safe-time answers and the quiet "talk to my therapist
 * alone" signal reach the therapist's socket at once, and no frame the other partner's socket receives carries a
 * trace of either — on the memory store and on Redis.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import type { Command } from "../../shared/protocol.ts";
import { createTestSession, startTestServer, storeVariants } from "../support/server.ts";

const variants = await storeVariants();
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

/** Joins and records every frame the socket receives (its first snapshot included). */
async function recorded(link: string): Promise<{ p: Participant; frames: string[] }> {
  const p = await Participant.join(link);
  open.push(p);
  const frames = [JSON.stringify({ event: "snapshot", args: [p.view] })];
  p.socket.onAny((event: string, ...args: unknown[]) => frames.push(JSON.stringify({ event, args })));
  return { p, frames };
}

/** Fails when a frame carries any trace of the other partner's safety answers or signal. */
function expectNoTrace(frames: string[], what: string[]): void {
  const all = frames.join("\n");
  for (const trace of ['"safety":', '"checks"', '"asks"', "alone-asked", "safety-answered", ...what]) {
    expect(all, `a frame carried "${trace}"`).not.toContain(trace);
  }
}

describe.each(variants)("safety a partner can reach alone ($name)", ({ options }) => {
  async function room() {
    const server = await startTestServer({ ...options(), commandRate: 1000 });
    const created = await createTestSession(server.url, {
      mode: "therapist",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: "Robin", b: "Kai" },
    });
    const t = await recorded(created.links.therapist!);
    const a = await recorded(created.links.a);
    const b = await recorded(created.links.b);
    await t.p.waitFor((v) => v.presence.a && v.presence.b);
    const send = async (who: Participant, command: Command) => {
      const ack = await who.send(command);
      if (!ack.ok) throw new Error(`${who.seat} ${command.type}: ${ack.error.code}`);
      await Promise.all([t.p, a.p, b.p].map((p) => p.waitForVersion(ack.version)));
      return ack.version;
    };
    return { t, a, b, send };
  }

  it("the safe-time answers in the waiting room reach the therapist alone", async () => {
    const { t, a, b, send } = await room();
    await send(a.p, { type: "safety-check", answer: "not-now" });
    expect(t.p.view.safety?.checks.a?.answer).toBe("not-now");
    expect(t.p.events).toContainEqual({ type: "safety-answered", partner: "a" });
    expect(a.p.view.yourSafety).toEqual({ check: "not-now" });
    await send(b.p, { type: "safety-check", answer: "alone-first" });
    expect(t.p.view.safety?.checks.b?.answer).toBe("alone-first");
    // Admitted, each partner's own view keeps their own answer only.
    await send(t.p, { type: "admit", partners: ["a", "b"] });
    expect(a.p.view.yourSafety).toEqual({ check: "not-now" });
    expect(b.p.view.yourSafety).toEqual({ check: "alone-first" });
    expectNoTrace(b.frames, ["not-now"]);
    expectNoTrace(a.frames, ["alone-first"]);
  });

  it("the quiet signal reaches the therapist at once; the other partner sees nothing, then is stepped out", async () => {
    const { t, a, b, send } = await room();
    await send(t.p, { type: "admit", partners: ["a", "b"] });
    await send(t.p, { type: "start-exercise", firstSpeaker: "a" });
    await send(a.p, { type: "say", text: "Can we talk about the evenings?" });
    const mark = b.frames.length;
    await send(b.p, { type: "ask-alone" });
    expect(t.p.view.safety?.asks.b?.seen).toBe(false);
    expect(t.p.events).toContainEqual({ type: "alone-asked", partner: "b" });
    expect(b.p.view.yourSafety?.asked?.seen).toBe(false);
    await send(t.p, { type: "seen-ask", partner: "b" });
    expect(b.p.view.yourSafety?.asked?.seen).toBe(true);
    await send(t.p, { type: "step-out", partner: "a" });
    await send(t.p, { type: "private-message", text: "Kai, you asked to talk. Are you safe right now?" });
    expectNoTrace(a.frames, []);
    // What the partner who asked received for it: their own view, nothing the other could read.
    expect(b.frames.slice(mark).join("\n")).toContain('"yourSafety"');
    // The shared conversation holds nothing of it.
    expect(a.p.view.transcript.map((e) => e.text)).toEqual(["Can we talk about the evenings?"]);
  });
});
