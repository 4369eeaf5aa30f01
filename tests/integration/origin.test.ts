/**
 * The origin check answers alike on both transports, as docs/protocol.md says: a websocket upgrade and a polling
 * request from a foreign Origin both get 403 {"code":4,"message":"ORIGIN_NOT_ALLOWED"}. The scheme is part of
 * the origin: an https page may not open a socket on an http server, unless a trusted proxy says the client
 * reached it over https (X-Forwarded-Proto).
 */
import { describe, expect, it } from "vitest";
import { pollingRequest, type RawAnswer, upgradeRequest } from "../support/raw-http.ts";
import { startTestServer } from "../support/server.ts";

const REFUSAL = { status: 403, contentType: "application/json", body: '{"code":4,"message":"ORIGIN_NOT_ALLOWED"}' };

/** What both transports answered for the same headers. */
async function both(url: string, headers: Record<string, string>): Promise<{ polling: RawAnswer; upgrade: RawAnswer }> {
  return { polling: await pollingRequest(url, headers), upgrade: await upgradeRequest(url, headers) };
}

describe("origin refusals", () => {
  it("a foreign Origin gets the documented 403 JSON on the websocket upgrade, exactly as on polling", async () => {
    const server = await startTestServer();
    const { polling, upgrade } = await both(server.url, { origin: "http://evil.example" });
    expect(upgrade).toEqual(REFUSAL);
    expect(polling).toEqual(REFUSAL);

    // The same origin, or no Origin at all (a non-browser client), is let through on both.
    const own = new URL(server.url).origin;
    expect((await upgradeRequest(server.url, { origin: own })).status).toBe(101);
    expect((await pollingRequest(server.url, { origin: own })).status).toBe(200);
    expect((await upgradeRequest(server.url)).status).toBe(101);
    // "null" (a sandboxed or file page) is no origin of ours.
    expect((await upgradeRequest(server.url, { origin: "null" })).status).toBe(403);
  });

  it("with ALLOWED_ORIGINS, unlisted origins are refused alike on both transports", async () => {
    const server = await startTestServer({ allowedOrigins: ["https://app.example"] });
    expect((await both(server.url, { origin: "https://app.example" })).upgrade.status).toBe(101);
    const own = await both(server.url, { origin: new URL(server.url).origin });
    expect(own).toEqual({ polling: REFUSAL, upgrade: REFUSAL });
  });

  it("the scheme counts: https://host is not the origin of an http server", async () => {
    const server = await startTestServer({ trustProxy: [] });
    const host = new URL(server.url).host;
    expect(await both(server.url, { origin: `https://${host}` })).toEqual({ polling: REFUSAL, upgrade: REFUSAL });
    // Without a trusted proxy, a client cannot talk its way in by claiming https itself.
    expect(await both(server.url, { origin: `https://${host}`, "x-forwarded-proto": "https" })).toEqual({
      polling: REFUSAL,
      upgrade: REFUSAL,
    });
    expect((await upgradeRequest(server.url, { origin: `http://${host}` })).status).toBe(101);
  });

  it("behind a trusted proxy terminating TLS, the scheme comes from X-Forwarded-Proto", async () => {
    const server = await startTestServer();
    const host = new URL(server.url).host;
    const https = await both(server.url, { origin: `https://${host}`, "x-forwarded-proto": "https" });
    expect(https.upgrade.status).toBe(101);
    expect(https.polling.status).toBe(200);
    // An http page behind that https front door is a different origin.
    expect(await both(server.url, { origin: `http://${host}`, "x-forwarded-proto": "https" })).toEqual({
      polling: REFUSAL,
      upgrade: REFUSAL,
    });
    // Links handed out carry the scheme the client used.
    const res = await fetch(`${server.url}/api/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-proto": "https" },
      body: JSON.stringify({ mode: "guided", channel: "typed" }),
    });
    const created = (await res.json()) as { links: { a: string } };
    expect(created.links.a.startsWith(`https://${host}/join/`)).toBe(true);
  });
});
