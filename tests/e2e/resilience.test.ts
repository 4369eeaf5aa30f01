/**
 * The room under stress: a reload in the middle of an exercise resumes the same seat at the same step; a
 * dropped connection shows "Reconnecting…" and catches up when the network returns; a partner's text full of
 * markup shows as plain text and runs nothing; a bad or missing link says so plainly.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreateSessionResponse } from "../../shared/protocol.ts";
import type { RunningAttune } from "../../server/app.ts";
import {
  buildClient,
  chromiumAvailable,
  launchBrowser,
  openPhone,
  resetScreenshots,
  screenshot,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { createTestSession, startTestServer } from "../support/server.ts";
import { makeMove, shownStep, shownVersion, waitForVersion } from "./driver.ts";

const SUITE = "resilience";
const runs = requireService("chromium", chromiumAvailable());
const HOSTILE = `<img src=x onerror="window.__xss=(window.__xss||0)+1"> <script>window.__xss=1</script> & "quotes"`;

describe.runIf(runs)("reload, network loss and hostile text", () => {
  let server: RunningAttune;
  let browser: Browser;
  let sam: TestPage;
  let alex: TestPage;
  let session: CreateSessionResponse;

  beforeAll(async () => {
    buildClient();
    resetScreenshots(SUITE);
    server = await startTestServer();
    browser = await launchBrowser();
    sam = await openPhone(browser);
    alex = await openPhone(browser);
    session = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: "Sam", b: "Alex" },
    });
    await sam.page.goto(session.links.a);
    await alex.page.goto(session.links.b);
    await sam.page.getByRole("button", { name: "Start Intentional dialogue" }).click();
    await alex.page.locator("section.step[data-step-id=invite]").waitFor();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("resumes the same seat at the same step after a reload, with no token in the address bar", async () => {
    const v = await makeMove(sam.page, { text: "I'd like to talk about our mornings." });
    await waitForVersion(alex.page, v);
    expect((await shownStep(alex.page))?.id).toBe("ready");

    await alex.page.reload();
    expect(new URL(alex.page.url()).pathname).toBe("/room");
    await alex.page.locator("section.step[data-step-id=ready]").waitFor();
    expect(await shownStep(alex.page)).toEqual({ id: "ready", kind: "choose", yourMove: true });
    await alex.page.getByText("Alex (you) · here").waitFor();
    expect(await alex.page.locator(".transcript").innerText()).toContain("I'd like to talk about our mornings.");
    await screenshot(alex.page, SUITE, "01-after-reload");

    const w = await makeMove(alex.page, { option: "Now works" });
    await waitForVersion(sam.page, w);
    expect((await shownStep(sam.page))?.id).toBe("send");
  });

  it("shows “Reconnecting…” while offline and catches up with what happened meanwhile", async () => {
    const banner = alex.page.getByTestId("connection-banner");
    expect(await banner.innerText()).toBe("");
    await alex.context.setOffline(true);
    await banner.filter({ hasText: "Reconnecting…" }).waitFor();
    await screenshot(alex.page, SUITE, "02-reconnecting");

    // Sam's move lands while Alex is away.
    const v = await makeMove(sam.page, { text: HOSTILE });
    expect(await shownVersion(alex.page)).toBeLessThan(v);

    await alex.context.setOffline(false);
    await waitForVersion(alex.page, v);
    await expect.poll(() => banner.innerText()).toBe("");
    const step = await shownStep(alex.page);
    expect(step).toEqual({ id: "mirror", kind: "say", yourMove: true });
    await screenshot(alex.page, SUITE, "03-recovered");
  });

  it("shows a partner's markup as text and runs none of it", async () => {
    const entries = alex.page.locator(".transcript .entry .what");
    await expect.poll(() => entries.allInnerTexts()).toContain(HOSTILE);
    expect(await alex.page.locator(".transcript img, .transcript script").count()).toBe(0);
    expect(await sam.page.locator(".transcript img, .transcript script").count()).toBe(0);
    // Give an injected image time to fail and fire its handler, were there one.
    await alex.page.waitForTimeout(200);
    expect(await alex.page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await sam.page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // The mirror goes back the same way: Sam sees Alex's echo as text too.
    const v = await makeMove(alex.page, { text: `What I heard: ${HOSTILE}` });
    await waitForVersion(sam.page, v);
    await expect.poll(() => sam.page.locator(".transcript .entry .what").allInnerTexts()).toContain(`What I heard: ${HOSTILE}`);
    expect(await sam.page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await screenshot(sam.page, SUITE, "04-markup-as-text");
    expect(sam.errors.filter((e) => !e.includes("ERR_INTERNET_DISCONNECTED"))).toEqual([]);
    expect(alex.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e))).toEqual([]);
  });

  it("explains a link that does not work, and a room opened without any link", async () => {
    const stranger = await openPhone(browser);
    await stranger.page.goto(`${server.url}/join/AAAAAAAAAAAAAAAAAAAAA.zzzzzzz`);
    await stranger.page.getByTestId("link-problem").waitFor();
    expect(await stranger.page.getByTestId("link-problem").innerText()).toMatch(/link/i);
    expect(new URL(stranger.page.url()).pathname).toBe("/room");
    await screenshot(stranger.page, SUITE, "05-bad-link");

    const empty = await openPhone(browser);
    await empty.page.goto(`${server.url}/room`);
    await empty.page.getByRole("heading", { name: "No session open here" }).waitFor();
    await stranger.context.close();
    await empty.context.close();
  });
});
