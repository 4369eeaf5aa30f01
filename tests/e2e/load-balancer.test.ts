/**
 * Two partners in two browsers through nginx (the deployment template) onto two different Attune nodes on one
 * Redis: each browser starts on long-polling and upgrades to a websocket, every request of its Engine.IO session
 * reaching the node that holds it; they play an intentional dialogue to the end, each update crossing nodes.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildClient,
  chromiumAvailable,
  launchBrowser,
  numberedScreenshots,
  openPhone,
  resetScreenshots,
  seriousAxeViolations,
  type TestPage,
} from "../support/browser.ts";
import { REDIS_URL, redisAvailable, requireService } from "../support/env.ts";
import { type AttuneCluster, nginxAvailable, startAttuneCluster } from "../support/nginx.ts";
import { createTestSession, redisTestPrefix } from "../support/server.ts";
import { makeMove, shownStep, waitForVersion } from "./driver.ts";

const SUITE = "load-balancer";
const runs =
  requireService("chromium", chromiumAvailable()) &&
  requireService("Redis", await redisAvailable()) &&
  requireService("nginx", nginxAvailable());

/** Every Engine.IO session id a page used, from its polling requests and its websocket. */
function recordSessionIds(page: Page): { sids: Set<string>; websockets: string[] } {
  const seen = { sids: new Set<string>(), websockets: [] as string[] };
  const note = (url: string) => {
    const sid = new URL(url).searchParams.get("sid");
    if (url.includes("/socket.io/") && sid) seen.sids.add(sid);
  };
  page.on("request", (req) => note(req.url()));
  page.on("websocket", (ws) => {
    seen.websockets.push(ws.url());
    note(ws.url());
  });
  return seen;
}

describe.runIf(runs)("two browsers through nginx on two nodes", { timeout: 120_000 }, () => {
  let cluster: AttuneCluster;
  let browser: Browser;
  const snap = numberedScreenshots(SUITE);

  beforeAll(async () => {
    buildClient();
    resetScreenshots(SUITE);
    cluster = await startAttuneCluster({ REDIS_URL, REDIS_PREFIX: redisTestPrefix("attune-lb-e2e") });
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  it("seats each partner on its own node and plays an intentional dialogue to the end", async () => {
    const { nginx, nodes } = cluster;
    const created = await createTestSession(nginx.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: "Sam", b: "Alex" },
    });

    /** Opens a seat's link in a fresh browser context; resolves once its room is live, with the node it is on. */
    async function openSeat(link: string, ownName: string) {
      const phone: TestPage = await openPhone(browser);
      const seen = recordSessionIds(phone.page);
      await phone.page.goto(link);
      await phone.page.getByText(`${ownName} (you) · here`).waitFor();
      // Long-polling first, then the websocket: both under one session id, so on one node.
      await expect.poll(() => seen.websockets.length, { timeout: 10_000 }).toBeGreaterThan(0);
      const onNodes = new Set([...seen.sids].map((sid) => cluster.nodeOf(sid)));
      expect(onNodes.size).toBe(1);
      return { phone, seen, node: [...onNodes][0]! };
    }

    const sam = await openSeat(created.links.a, "Sam");
    // New connections go to the least busy node, so Alex lands on the other one; should an earlier reconnect
    // have tilted the count, opening the link afresh (as a reload would) evens it out.
    let alex = await openSeat(created.links.b, "Alex");
    for (let tries = 0; alex.node === sam.node && tries < 3; tries++) {
      await alex.phone.context.close();
      alex = await openSeat(created.links.b, "Alex");
    }
    expect(alex.node).not.toBe(sam.node);
    // Each websocket went through nginx to its page's node, and each node's log shows its own seat joining.
    for (const [who, seat] of [
      [sam, "a"],
      [alex, "b"],
    ] as const) {
      expect(who.seen.websockets.every((url) => url.startsWith(`ws://127.0.0.1:${nginx.port}/socket.io/`))).toBe(true);
      expect(nodes[who.node]!.output()).toMatch(new RegExp(`"session":"${created.id}","seat":"${seat}".*"msg":"join"`));
    }
    await sam.phone.page.getByText("Alex · here").waitFor();
    await snap(sam.phone.page, "lobby-sam");

    const [s, a] = [sam.phone.page, alex.phone.page];
    await s.getByRole("button", { name: "Start Intentional dialogue" }).click();
    await Promise.all([s, a].map((p) => p.locator("section.step[data-step-id=invite]").waitFor()));
    expect(await seriousAxeViolations(a)).toEqual([]);
    let moves = 0;
    while (moves++ < 80) {
      if ((await s.locator("[data-testid=exercise-ended]").count()) > 0) break;
      const samStep = await shownStep(s);
      const alexStep = await shownStep(a);
      if (!samStep || !alexStep) throw new Error("the step vanished before the exercise ended");
      expect(alexStep.id).toBe(samStep.id);
      const [mover, other] = samStep.yourMove ? [s, a] : [a, s];
      const option = samStep.id === "check" ? "Yes, you got it" : undefined;
      const v = await makeMove(mover, { text: `words at ${samStep.id}, move ${moves}`, ...(option ? { option } : {}) });
      // The other partner, on the other node, sees the move.
      await waitForVersion(other, v);
    }
    for (const page of [s, a]) {
      await page.locator("[data-testid=exercise-ended]").getByText("You finished Intentional dialogue").waitFor();
    }
    await snap(a, "dialogue-ended-alex");
    // Still on the node each started on: no reconnects, no script or CSP errors.
    for (const who of [sam, alex]) {
      expect(new Set([...who.seen.sids].map((sid) => cluster.nodeOf(sid)))).toEqual(new Set([who.node]));
      expect(who.phone.errors).toEqual([]);
    }
  });
});
