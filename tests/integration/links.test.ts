/**
 * Links as capabilities: revoking one seat's link (live sockets told and dropped), issuing a fresh one, and
 * erasing a session on request, each with its authorization rules.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Notice, Participant } from "../../client/headless/participant.ts";
import { createTestSession, startTestServer, storeVariants, tokenOf } from "../support/server.ts";

const variants = await storeVariants();
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

async function join(link: string): Promise<Participant> {
  const p = await Participant.join(link, { reconnection: false });
  open.push(p);
  return p;
}

async function call(url: string, method: string, path: string, token?: string) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string }; link?: string; ok?: boolean } };
}

function noticeOf(p: Participant): Promise<{ notice: Notice; reason: string }> {
  return new Promise((resolve) => {
    let notice: Notice | undefined;
    p.on("notice", (n) => {
      notice = n;
    });
    p.socket.once("disconnect", (reason) => resolve({ notice: notice!, reason }));
  });
}

describe.each(variants)("links ($name store)", (variant) => {
  it("a partner revokes their own link: the live socket is told TOKEN_REVOKED and dropped; not the other's", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    const [a, b] = [tokenOf(created.links.a), tokenOf(created.links.b)];
    const pa = await join(created.links.a);
    const pb = await join(created.links.b);
    const dropped = noticeOf(pa);

    expect((await call(server.url, "POST", `/api/sessions/${created.id}/links/a/revoke`)).status).toBe(401);
    const bad = await call(server.url, "POST", `/api/sessions/${created.id}/links/a/revoke`, "nope");
    expect(bad).toMatchObject({ status: 401, body: { error: { code: "TOKEN_UNKNOWN" } } });
    const others = await call(server.url, "POST", `/api/sessions/${created.id}/links/a/revoke`, b);
    expect(others).toMatchObject({ status: 403, body: { error: { code: "UNAUTHORIZED" } } });
    const noSeat = await call(server.url, "POST", `/api/sessions/${created.id}/links/therapist/revoke`, b);
    expect(noSeat.status).toBe(400);
    const wrongSession = await call(server.url, "POST", `/api/sessions/not-this-one/links/b/revoke`, b);
    expect(wrongSession.status).toBe(403);

    const own = await call(server.url, "POST", `/api/sessions/${created.id}/links/a/revoke`, a);
    expect(own).toMatchObject({ status: 200, body: { ok: true } });
    const { notice, reason } = await dropped;
    expect(notice.code).toBe("TOKEN_REVOKED");
    expect(reason).toBe("io server disconnect");
    await pb.waitFor((v) => !v.presence.a);
    expect(pb.connected).toBe(true);
    // A revoked token no longer authorizes anything, not even revoking again.
    const again = await call(server.url, "POST", `/api/sessions/${created.id}/links/a/revoke`, a);
    expect(again).toMatchObject({ status: 401, body: { error: { code: "TOKEN_REVOKED" } } });
  });

  it("the therapist revokes a partner's link and issues a fresh one; the old link stays dead", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, { mode: "therapist", channel: "typed" });
    const t = tokenOf(created.links.therapist!);
    const b = tokenOf(created.links.b);
    expect((await call(server.url, "POST", `/api/sessions/${created.id}/links/b/revoke`, t)).status).toBe(200);
    const fresh = await call(server.url, "POST", `/api/sessions/${created.id}/links/b`, t);
    expect(fresh.status).toBe(201);
    expect(fresh.body.link).toMatch(new RegExp(`^${server.url}/join/`));
    expect(tokenOf(fresh.body.link!)).not.toBe(b);
    const pb = await join(fresh.body.link!);
    expect(pb.view.you.seat).toBe("b");
    await expect(join(created.links.b)).rejects.toThrow(/TOKEN_REVOKED/);
    // A partner may rotate only their own link; the new one replaces the old at once.
    const a = tokenOf(created.links.a);
    expect((await call(server.url, "POST", `/api/sessions/${created.id}/links/b`, a)).status).toBe(403);
    const rotated = await call(server.url, "POST", `/api/sessions/${created.id}/links/a`, a);
    expect(rotated.status).toBe(201);
    await expect(join(created.links.a)).rejects.toThrow(/TOKEN_REVOKED/);
    expect((await join(rotated.body.link!)).view.you.seat).toBe("a");
  });

  it("erasing: a partner erases a guided session, every socket is told and the links die", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    const pa = await join(created.links.a);
    const pb = await join(created.links.b);
    const droppedA = noticeOf(pa);
    const droppedB = noticeOf(pb);
    const erased = await call(server.url, "DELETE", `/api/sessions/${created.id}`, tokenOf(created.links.b));
    expect(erased).toMatchObject({ status: 200, body: { ok: true } });
    expect((await droppedA).notice.code).toBe("SESSION_NOT_FOUND");
    expect((await droppedB).notice.code).toBe("SESSION_NOT_FOUND");
    await expect(join(created.links.a)).rejects.toThrow(/TOKEN_UNKNOWN/);
    const twice = await call(server.url, "DELETE", `/api/sessions/${created.id}`, tokenOf(created.links.a));
    expect(twice.status).toBe(401);
    expect(await server.store.load(created.id)).toBeNull();
  });

  it("erasing a therapist-led session is the therapist's call", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, { mode: "therapist", channel: "typed" });
    const byPartner = await call(server.url, "DELETE", `/api/sessions/${created.id}`, tokenOf(created.links.a));
    expect(byPartner).toMatchObject({ status: 403, body: { error: { code: "THERAPIST_ONLY" } } });
    expect(await server.store.load(created.id)).not.toBeNull();
    const byTherapist = await call(
      server.url,
      "DELETE",
      `/api/sessions/${created.id}`,
      tokenOf(created.links.therapist!),
    );
    expect(byTherapist.status).toBe(200);
    expect(await server.store.load(created.id)).toBeNull();
  });
});
