/**
 * Two Attune servers sharing one Redis: presence, takeover, revocation and erase reach sockets held by the
 * other process (the notice arrives before the disconnect), and updates fan out both ways.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Notice, Participant } from "../../client/headless/participant.ts";
import { REDIS_URL, redisAvailable, requireService } from "../support/env.ts";
import { createTestSession, redisTestPrefix, startTestServer, tokenOf } from "../support/server.ts";

const runs = requireService("Redis", await redisAvailable());
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

async function join(link: string, origin: string): Promise<Participant> {
  // Same token, other server: the link's path is kept, its origin replaced.
  const p = await Participant.join(`${origin}${new URL(link).pathname}`, { reconnection: false });
  open.push(p);
  return p;
}

function dropped(p: Participant): Promise<{ notice?: Notice; reason: string }> {
  return new Promise((resolve) => {
    let notice: Notice | undefined;
    p.on("notice", (n) => {
      notice = n;
    });
    p.socket.once("disconnect", (reason) => resolve({ notice, reason }));
  });
}

async function twoServers() {
  const prefix = redisTestPrefix("attune-cluster");
  const one = await startTestServer({ redisUrl: REDIS_URL, redisPrefix: prefix });
  const two = await startTestServer({ redisUrl: REDIS_URL, redisPrefix: prefix });
  return { one, two };
}

describe.runIf(runs)("two processes, one Redis", () => {
  it("partners on different servers see each other's moves and presence", async () => {
    const { one, two } = await twoServers();
    const created = await createTestSession(one.url, { mode: "guided", channel: "typed", agenda: ["check-in"] });
    const a = await join(created.links.a, one.url);
    const b = await join(created.links.b, two.url);
    await a.waitFor((v) => v.presence.b);
    await b.waitFor((v) => v.presence.a);
    const start = await b.send({ type: "start-exercise" });
    expect(start.ok).toBe(true);
    await a.waitFor((v) => v.exercise !== null);
    const [x, y] = await Promise.all([
      a.send({ type: "answer", answer: { rating: 5, feeling: "calm" } }),
      b.send({ type: "answer", answer: { rating: 6, feeling: "tired" } }),
    ]);
    expect(x!.ok && y!.ok).toBe(true);
    await Promise.all([a.waitFor((v) => v.checkIns.length === 1), b.waitFor((v) => v.checkIns.length === 1)]);
    b.close();
    await a.waitFor((v) => !v.presence.b);
  });

  it("a takeover on the other server tells the old socket why", async () => {
    const { one, two } = await twoServers();
    const created = await createTestSession(one.url, { mode: "guided", channel: "typed" });
    const first = await join(created.links.a, one.url);
    const gone = dropped(first);
    const second = await join(created.links.a, two.url);
    expect(await gone).toEqual({
      notice: expect.objectContaining({ code: "SEAT_TAKEN_OVER" }),
      reason: "io server disconnect",
    });
    expect(second.connected).toBe(true);
    const b = await join(created.links.b, one.url);
    expect(b.view.presence.a).toBe(true);
  });

  it("revoking and erasing through one server drop the sockets held by the other", async () => {
    const { one, two } = await twoServers();
    const created = await createTestSession(one.url, { mode: "guided", channel: "typed" });
    const a = await join(created.links.a, two.url);
    const b = await join(created.links.b, two.url);
    const aGone = dropped(a);
    const revoke = await fetch(`${one.url}/api/sessions/${created.id}/links/a/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokenOf(created.links.a)}` },
    });
    expect(revoke.status).toBe(200);
    expect((await aGone).notice?.code).toBe("TOKEN_REVOKED");
    const bGone = dropped(b);
    const erase = await fetch(`${one.url}/api/sessions/${created.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${tokenOf(created.links.b)}` },
    });
    expect(erase.status).toBe(200);
    expect((await bGone).notice?.code).toBe("SESSION_NOT_FOUND");
  });
});
