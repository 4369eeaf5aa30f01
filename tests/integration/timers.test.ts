/**
 * Step timers run on the server: when a timed step's deadline passes, the process serving the session applies
 * a system time-up and everyone gets the update; a paused timer does not fire.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { createTestSession, startTestServer, storeVariants } from "../support/server.ts";

const variants = await storeVariants();
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

async function ok(p: Participant, command: Parameters<Participant["send"]>[0]): Promise<number> {
  const ack = await p.send(command);
  if (!ack.ok) throw new Error(`${command.type} refused: ${ack.error.code}`);
  return ack.version;
}

describe.each(variants)("server timers ($name store)", (variant) => {
  it("a timed turn ends by itself at its deadline, and not while paused", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, {
      mode: "therapist",
      channel: "spoken",
      agenda: ["stress-reducing"],
    });
    const t = await Participant.join(created.links.therapist!);
    const a = await Participant.join(created.links.a);
    const b = await Participant.join(created.links.b);
    open.push(t, a, b);
    await ok(t, { type: "admit", partners: ["a", "b"] });
    await ok(t, { type: "start-exercise", firstSpeaker: "a" });
    await a.waitFor((v) => v.exercise?.step.kind === "talk");
    expect(a.view.exercise?.speaker).toBe("a");
    expect(a.view.exercise?.step.deadline).toBeGreaterThan(Date.now() + 500_000);

    // Paused with the clock run down: nothing fires while paused.
    await ok(t, { type: "pause" });
    const v = await ok(t, { type: "adjust-timer", seconds: -3600 });
    await a.waitForVersion(v);
    expect(a.view.exercise?.step.remainingMs).toBe(0);
    await new Promise((r) => setTimeout(r, 150));
    expect((await a.resync()).exercise?.speaker).toBe("a");

    // Resumed: the deadline is now, so the server's time-up swaps the floor to b with no one sending it.
    await ok(t, { type: "resume" });
    const swapped = await b.waitFor((view) => view.exercise?.speaker === "b", 3000);
    expect(swapped.exercise?.step.id).toBe("talk");
    expect(swapped.exercise?.cycle).toBe(1);
    expect(swapped.exercise?.step.yourMove).toBe(true);
    await a.waitFor((view) => view.exercise?.speaker === "b");
    // The new turn has its own full time box.
    expect(swapped.exercise?.step.deadline).toBeGreaterThan(Date.now() + 500_000);
  });

  it("a session created with timers: false runs its timed turns untimed, and a bad timers value is refused", async () => {
    const server = await startTestServer(variant.options());
    const refused = await fetch(`${server.url}/api/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mode: "guided", channel: "spoken", agenda: ["stress-reducing"], timers: "no" }),
    });
    expect(refused.status).toBe(400);
    const error = ((await refused.json()) as { error: { code: string; field?: string } }).error;
    expect(error).toMatchObject({ code: "INVALID_COMMAND", field: "timers" });

    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "spoken",
      agenda: ["stress-reducing"],
      timers: false,
    });
    const a = await Participant.join(created.links.a);
    const b = await Participant.join(created.links.b);
    open.push(a, b);
    await ok(a, { type: "start-exercise", firstSpeaker: "a" });
    for (const p of [a, b]) {
      const view = await p.waitFor((v) => v.exercise?.step.kind === "talk");
      expect(view.exercise?.step.deadline).toBeUndefined();
      expect(view.exercise?.step.remainingMs).toBeUndefined();
      expect(view.exercise?.step.durationSeconds).toBeUndefined();
      expect(view.exercise?.step.untimed).toBe(true);
    }
    const extend = await a.send({ type: "adjust-timer", seconds: 120 });
    expect(extend.ok ? "applied" : extend.error.code).toBe("NO_TIMER");
    const timeUp = await b.send({ type: "time-up" });
    expect(timeUp.ok ? "applied" : timeUp.error.code).toBe("NO_TIMER");
    // The floor stays with the talker until they end their turn.
    await new Promise((r) => setTimeout(r, 200));
    expect((await b.resync()).exercise?.speaker).toBe("a");
    await ok(a, { type: "end-turn" });
    const swapped = await b.waitFor((v) => v.exercise?.speaker === "b");
    expect(swapped.exercise?.step.deadline).toBeUndefined();
  });
});
