/**
 * The headless waiting room (client/headless/waiting.ts): partners wait at a practice's standing link as the page
 * does, take the seat the therapist starts them into, open their keys in an encrypted session, and play; keys that
 * do not open mean no join, never a join without them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { parseRoomLink, WaitingPartner } from "../../client/headless/waiting.ts";
import { privacyCode } from "../../shared/key-exchange.ts";
import { generateSessionKeys, linkWithKeys, sealNames } from "../../shared/session-crypto.ts";
import { api, tokenIn, wrapForSeats } from "../support/practice-api.ts";
import { startTestServer } from "../support/server.ts";

const KEY = "practice-key-0123456789abcdef";
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

async function practice() {
  const server = await startTestServer({ therapistApiKeys: [KEY] });
  const made = await api(server.url, "POST", "/api/practices", KEY, { displayName: "Dr Rivera" });
  expect(made.status).toBe(201);
  return { server, owner: tokenIn(made.body.links.practice), roomLink: made.body.links.room as string };
}

/** What the console does for an encrypted start: keys made there, names sealed, each fragment wrapped to its page. */
async function startEncrypted(url: string, owner: string, a: WaitingPartner, b: WaitingPartner, swap = false) {
  const listed = (await api(url, "GET", "/api/practice", owner)).body.waiting as { id: string; publicKey: string }[];
  const keyOf = (w: WaitingPartner) => listed.find((x) => x.id === w.waitingId)!.publicKey;
  const keys = await generateSessionKeys();
  const wrapped = await wrapForSeats(keys, {
    a: { publicKey: keyOf(swap ? b : a), waitingId: a.waitingId },
    b: { publicKey: keyOf(b), waitingId: b.waitingId },
  });
  const names = await sealNames(keys, { a: "Quillon", b: "Mirabeau" });
  const started = await api(url, "POST", "/api/practice/sessions", owner, {
    a: a.waitingId,
    b: b.waitingId,
    channel: "typed",
    names,
    wrappedKeys: wrapped,
  });
  expect(started.status).toBe(201);
  return { keys, therapistLink: linkWithKeys(started.body.links.therapist, keys, "therapist", "therapist") };
}

describe("the headless waiting room", { timeout: 30_000 }, () => {
  it("two partners wait with keys, take their seats once the therapist starts, and talk end-to-end encrypted", async () => {
    const { server, owner, roomLink } = await practice();
    const robin = await WaitingPartner.waitAt(roomLink, "Quillon");
    const kai = await WaitingPartner.waitAt(roomLink, "Mirabeau");
    expect(robin.practiceName).toBe("Dr Rivera");
    // The code each partner can read aloud is the one the console computes from the key the server listed.
    const listed = (await api(server.url, "GET", "/api/practice", owner)).body.waiting as { publicKey: string }[];
    expect([robin.privacyCode, kai.privacyCode]).toEqual(
      await Promise.all(listed.map((w) => privacyCode(w.publicKey))),
    );
    // Both ask while the therapist has not started yet: they keep waiting, then get their seats.
    const seats = Promise.all([robin.takeSeat({ pollMs: 100 }), kai.takeSeat({ pollMs: 100 })]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { therapistLink } = await startEncrypted(server.url, owner, robin, kai);
    const [a, b] = await seats;
    const therapist = await Participant.join(therapistLink);
    open.push(a, b, therapist);
    for (const p of [a, b, therapist]) {
      await p.waitFor((v) => v.admitted.a && v.admitted.b);
      expect(p.view.encrypted).toBe(true);
      expect((await p.opened()).names).toEqual({ a: "Quillon", b: "Mirabeau" });
    }
    expect([a.view.you.seat, b.view.you.seat]).toEqual(["a", "b"]);
    const ack = await therapist.send({ type: "start-exercise", exerciseId: "intentional-dialogue", firstSpeaker: "a" });
    expect(ack.ok).toBe(true);
    await a.waitFor((v) => v.exercise?.step.yourMove === true);
    const said = await a.send({ type: "say", text: "the words stay ours" });
    if (!said.ok) throw new Error(said.error.message);
    await b.waitForVersion(said.version);
    expect((await b.opened()).transcript.map((e) => e.text)).toContain("the words stay ours");
    expect(b.opener.failures).toBe(0);
    // The seat was handed out once: asking again finds the wait over.
    await expect(robin.takeSeat()).rejects.toThrow(/the wait ended without a seat \(404\)/);
  });

  it("keys wrapped to another page do not open: no join, and a plain reason", async () => {
    const { server, owner, roomLink } = await practice();
    const robin = await WaitingPartner.waitAt(roomLink, "Quillon");
    const kai = await WaitingPartner.waitAt(roomLink, "Mirabeau");
    await startEncrypted(server.url, owner, robin, kai, true);
    await expect(robin.takeSeat()).rejects.toThrow(/cannot be opened on this page/);
    const b = await kai.takeSeat();
    open.push(b);
    expect((await b.opened()).names.b).toBe("Mirabeau");
  });

  it("a partner who waits without a key joins an unencrypted session; a bad link or name is refused plainly", async () => {
    const { server, owner, roomLink } = await practice();
    const robin = await WaitingPartner.waitAt(roomLink, "Quillon", { withoutKey: true });
    const kai = await WaitingPartner.waitAt(roomLink, "Mirabeau", { withoutKey: true });
    expect(robin.privacyCode).toBeNull();
    const started = await api(server.url, "POST", "/api/practice/sessions", owner, {
      a: robin.waitingId,
      b: kai.waitingId,
      channel: "typed",
      encrypted: false,
    });
    expect(started.status).toBe(201);
    const a = await robin.takeSeat();
    open.push(a);
    await a.waitFor((v) => v.admitted.a);
    expect(a.view.encrypted).toBeFalsy();
    expect(a.view.names.a).toBe("Quillon");

    await expect(WaitingPartner.waitAt(roomLink, "   ")).rejects.toThrow(/cannot wait here \(400\)/);
    await expect(WaitingPartner.waitAt(`${server.url}/wait/r.nothing-here`, "Quillon")).rejects.toThrow(
      /cannot wait here \(401\)/,
    );
    expect(() => parseRoomLink(`${server.url}/join/abc`)).toThrow(/not a waiting room link/);
    // Nobody starts this one: the wait gives up after its time-out, saying so.
    const lone = await WaitingPartner.waitAt(roomLink, "Solo");
    await expect(lone.takeSeat({ pollMs: 50, waitTimeoutMs: 200 })).rejects.toThrow(/no session started within 200 ms/);
  });
});
