/**
 * Dropped connections, page reloads and a second device: the seat resumes at the same step with nothing lost,
 * presence follows the live sockets, and a takeover tells the older socket why it was dropped.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Notice, Participant } from "../../client/headless/participant.ts";
import { createTestSession, startTestServer, storeVariants } from "../support/server.ts";

const variants = await storeVariants();
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

async function join(link: string): Promise<Participant> {
  const p = await Participant.join(link);
  open.push(p);
  return p;
}

async function ok(p: Participant, command: Parameters<Participant["send"]>[0]): Promise<number> {
  const ack = await p.send(command);
  if (!ack.ok) throw new Error(`${command.type} refused: ${ack.error.code}`);
  return ack.version;
}

/** Starts an intentional dialogue and plays invite and ready, so the speaker is at "send". */
async function midExercise(url: string) {
  const created = await createTestSession(url, { mode: "guided", channel: "typed", agenda: ["intentional-dialogue"] });
  const a = await join(created.links.a);
  const b = await join(created.links.b);
  await ok(a, { type: "start-exercise", firstSpeaker: "a" });
  await ok(a, { type: "say", text: "Could we talk about the weekend plans?" });
  const v = await ok(b, { type: "choose", option: "now" });
  await Promise.all([a.waitForVersion(v), b.waitForVersion(v)]);
  expect(a.view.exercise?.step.id).toBe("send");
  return { created, a, b };
}

describe.each(variants)("reconnecting ($name store)", (variant) => {
  it("a dropped connection reconnects by itself and resumes at the same step", async () => {
    const server = await startTestServer(variant.options());
    const { a, b } = await midExercise(server.url);
    const before = a.view;
    const reconnected = new Promise<void>((resolve) => a.socket.io.once("reconnect", () => resolve()));
    // Kill the transport under the socket, as a network drop would.
    a.socket.io.engine.close();
    await reconnected;
    await a.waitFor((v) => v.presence.a && v.version >= before.version);
    expect(a.view.exercise?.step.id).toBe("send");
    expect(a.view.transcript).toEqual(before.transcript);
    const v = await ok(a, { type: "say", text: "I would like one quiet day." });
    await b.waitForVersion(v);
    expect(b.view.exercise?.step.id).toBe("mirror");
  });

  it("a page reload (new socket, same link) resumes the seat; presence goes offline and back", async () => {
    const server = await startTestServer(variant.options());
    const { created, a, b } = await midExercise(server.url);
    const transcript = a.view.transcript;
    a.close();
    await b.waitFor((v) => !v.presence.a);
    const again = await join(created.links.a);
    expect(again.view.you.seat).toBe("a");
    expect(again.view.exercise?.step.id).toBe("send");
    expect(again.view.exercise?.step.yourMove).toBe(true);
    expect(again.view.transcript).toEqual(transcript);
    await b.waitFor((v) => v.presence.a);
    const v = await ok(again, { type: "say", text: "Picking up where I was." });
    await b.waitForVersion(v);
    expect(b.view.transcript.at(-1)?.text).toBe("Picking up where I was.");
  });

  it("opening the link on a second device takes the seat over; the old socket is told why", async () => {
    const server = await startTestServer(variant.options());
    const { created, a, b } = await midExercise(server.url);
    const notices: Notice[] = [];
    a.on("notice", (n) => notices.push(n));
    const disconnected = new Promise<string>((resolve) => a.socket.once("disconnect", (reason) => resolve(reason)));
    const phone = await join(created.links.a);
    expect(await disconnected).toBe("io server disconnect");
    expect(notices.map((n) => n.code)).toEqual(["SEAT_TAKEN_OVER"]);
    expect(phone.view.exercise?.step.id).toBe("send");
    // The seat never went offline: the new device holds it.
    const v = await ok(phone, { type: "say", text: "From my phone now." });
    await b.waitForVersion(v);
    expect(b.view.presence.a).toBe(true);
    const fresh = await b.resync();
    expect(fresh.presence.a).toBe(true);
    expect(a.connected).toBe(false);
  });
});
