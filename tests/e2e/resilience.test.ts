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
  chromiumAvailable,
  openPhone,
  recordShownVersions,
  type SocketTap,
  screenshot,
  startBrowserSuite,
  tapSocket,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { createTestSession } from "../support/server.ts";
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
    ({ server, browser } = await startBrowserSuite(SUITE));
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
    expect(await alex.page.locator(".transcript").textContent()).toContain("I'd like to talk about our mornings.");
    await screenshot(alex.page, SUITE, "01-after-reload");

    const w = await makeMove(alex.page, { option: "Now works" });
    await waitForVersion(sam.page, w);
    expect((await shownStep(sam.page))?.id).toBe("send");
  });

  it("shows “Reconnecting…” while offline and catches up with what happened meanwhile", async () => {
    const banner = alex.page.getByTestId("connection-banner");
    expect(await banner.textContent()).toBe("");
    await alex.context.setOffline(true);
    await banner.filter({ hasText: "Reconnecting…" }).waitFor();
    await screenshot(alex.page, SUITE, "02-reconnecting");

    // Sam's move lands while Alex is away.
    const v = await makeMove(sam.page, { text: HOSTILE });
    expect(await shownVersion(alex.page)).toBeLessThan(v);

    await alex.context.setOffline(false);
    await waitForVersion(alex.page, v);
    await expect.poll(() => banner.textContent()).toBe("");
    const step = await shownStep(alex.page);
    expect(step).toEqual({ id: "mirror", kind: "say", yourMove: true });
    await screenshot(alex.page, SUITE, "03-recovered");
  });

  it("shows a partner's markup as text and runs none of it", async () => {
    const entries = alex.page.locator(".transcript .entry .what");
    await expect.poll(() => entries.allTextContents()).toContain(HOSTILE);
    expect(await alex.page.locator(".transcript img, .transcript script").count()).toBe(0);
    expect(await sam.page.locator(".transcript img, .transcript script").count()).toBe(0);
    // Give an injected image time to fail and fire its handler, were there one.
    await alex.page.waitForTimeout(200);
    expect(await alex.page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await sam.page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // The mirror goes back the same way: Sam sees Alex's echo as text too.
    const v = await makeMove(alex.page, { text: `What I heard: ${HOSTILE}` });
    await waitForVersion(sam.page, v);
    await expect
      .poll(() => sam.page.locator(".transcript .entry .what").allTextContents())
      .toContain(`What I heard: ${HOSTILE}`);
    expect(await sam.page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await screenshot(sam.page, SUITE, "04-markup-as-text");
    expect(sam.errors.filter((e) => !e.includes("ERR_INTERNET_DISCONNECTED"))).toEqual([]);
    expect(alex.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e))).toEqual([]);
  });

  it("lets a partner call a time-out with an agreed return time, then resumes at the same step", async () => {
    const stepBefore = await shownStep(sam.page);
    await alex.page.getByRole("button", { name: "Time-out" }).click();
    await alex.page.getByLabel(/break for/).selectOption("30");
    const before = await shownVersion(alex.page);
    await alex.page.getByRole("button", { name: "Start the break" }).click();
    await waitForVersion(alex.page, before + 1);
    for (const page of [sam.page, alex.page]) {
      await page.getByRole("heading", { name: "Taking a break" }).waitFor();
      expect(await page.locator(".return-time").textContent()).toMatch(/Back together at \d{1,2}:\d{2}/);
      expect(await page.locator("section.step").count()).toBe(0);
    }
    await sam.page.getByText("Alex called a time-out.").waitFor();
    await screenshot(sam.page, SUITE, "05-break");
    await sam.page.getByRole("button", { name: "End the break" }).click();
    for (const page of [sam.page, alex.page]) {
      await page.locator(`section.step[data-step-id=${stepBefore!.id}]`).waitFor();
    }
  });

  it("pauses and resumes: while paused the step's controls step aside for the paused note, then come back", async () => {
    const stepBefore = await shownStep(sam.page);
    await sam.page.getByRole("button", { name: "Pause", exact: true }).click();
    for (const page of [sam.page, alex.page]) await page.locator(".paused-note").waitFor();
    const mover = stepBefore!.yourMove ? sam.page : alex.page;
    const firstControl = mover.locator("section.step fieldset.options button, section.step textarea").first();
    // No control that cannot be used is shown; the note says why the step waits.
    await expect.poll(() => firstControl.count()).toBe(0);
    expect(await mover.locator(".paused-note").textContent()).toMatch(/Paused/);
    await screenshot(mover, SUITE, "06-paused");
    await alex.page.getByRole("button", { name: "Resume", exact: true }).click();
    for (const page of [sam.page, alex.page]) {
      await expect.poll(() => page.locator(".paused-note").count()).toBe(0);
    }
    expect(await shownStep(mover)).toEqual(stepBefore);
    expect(await firstControl.isDisabled()).toBe(false);
  });

  it("shows a countdown on a timed step; the listener may write, only the speaker ends the turn", async () => {
    const timed = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["stress-reducing"],
      names: { a: "Sam", b: "Alex" },
    });
    const one = await openPhone(browser);
    const two = await openPhone(browser);
    await one.page.goto(timed.links.a);
    await two.page.goto(timed.links.b);
    await one.page.getByRole("button", { name: /^Start / }).click();
    for (const page of [one.page, two.page]) await page.locator("section.step[data-step-kind=talk]").waitFor();
    const timer = one.page.getByRole("timer");
    const first = await timer.textContent();
    expect(first).toMatch(/^(10:00|9:5\d)$/);
    await expect.poll(() => timer.textContent(), { timeout: 3_000 }).not.toBe(first);
    // The listener writes during the talk but has no "end turn" control; the speaker has.
    expect(await two.page.getByRole("button", { name: "I've finished my turn" }).count()).toBe(0);
    await two.page.getByLabel("Write a message").fill("That sounds exhausting. I'm on your side.");
    await two.page.getByRole("button", { name: "Send", exact: true }).click();
    await one.page.locator(".transcript").getByText("I'm on your side.").waitFor();
    await screenshot(one.page, SUITE, "07-timed-talk");
    const v = await makeMove(one.page);
    await waitForVersion(two.page, v);
    // Roles swap for the second round.
    await two.page.locator(".progress-line", { hasText: "round 2 of 2 · you share" }).waitFor();
    await one.context.close();
    await two.context.close();
  });

  it("says so when the seat is opened on another device, and can take it back", async () => {
    const other = await openPhone(browser);
    await other.page.goto(session.links.b);
    await other.page.locator(".seat-room[data-seat=b]").waitFor();
    const problem = alex.page.getByTestId("link-problem");
    await problem.getByRole("heading", { name: "Your seat is open somewhere else" }).waitFor();
    await screenshot(alex.page, SUITE, "08-taken-over");
    await problem.getByRole("button", { name: "Continue here instead" }).click();
    await alex.page.locator(".seat-room[data-seat=b]").waitFor();
    await other.page.getByTestId("link-problem").waitFor();
    await other.context.close();
  });

  /** A fresh guided session with Sam on a plain page and Alex's socket routed through the test. */
  async function tappedPair(): Promise<{ sam: TestPage; alex: TestPage; tap: SocketTap; start: number }> {
    const pair = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: "Sam", b: "Alex" },
    });
    const one = await openPhone(browser);
    const two = await openPhone(browser);
    const tap = await tapSocket(two.page);
    await one.page.goto(pair.links.a);
    await two.page.goto(pair.links.b);
    await one.page.getByRole("button", { name: "Start Intentional dialogue" }).click();
    await two.page.locator("section.step[data-step-id=invite]").waitFor();
    // Frames only pass through the tap once Socket.IO has left HTTP polling for the websocket.
    await tap.upgraded;
    const start = await shownVersion(one.page);
    await waitForVersion(two.page, start);
    return { sam: one, alex: two, tap, start };
  }

  it("misses one update, notices the version gap, asks for a resync and converges", async () => {
    const { sam: one, alex: two, tap, start } = await tappedPair();
    expect(tap.resyncs()).toBe(0);
    tap.dropUpdates(1);
    const moved = await makeMove(one.page, { text: "Can we talk about the weekend?" });
    await expect.poll(() => tap.dropped).toEqual([moved]);
    // The page never saw that update: it still shows the invite step.
    expect(await shownVersion(two.page)).toBe(start);
    expect((await shownStep(two.page))?.id).toBe("invite");

    // The next update skips a version; the page must ask for the full picture.
    await one.page.getByRole("button", { name: "Pause", exact: true }).click();
    await waitForVersion(one.page, moved + 1);
    await waitForVersion(two.page, moved + 1);
    await expect.poll(() => tap.resyncs()).toBe(1);
    await two.page.locator(".paused-note").waitFor();
    expect(await shownStep(two.page)).toMatchObject({ id: "ready", kind: "choose" });
    expect(await two.page.locator(".transcript").textContent()).toContain("Can we talk about the weekend?");
    await screenshot(two.page, SUITE, "09-after-gap");

    // And it carries on normally from there.
    await two.page.getByRole("button", { name: "Resume", exact: true }).click();
    await expect.poll(() => two.page.locator(".paused-note").count()).toBe(0);
    expect(await shownStep(two.page)).toEqual({ id: "ready", kind: "choose", yourMove: true });
    const chose = await makeMove(two.page, { option: "Now works" });
    await waitForVersion(one.page, chose);
    expect((await shownStep(one.page))?.id).toBe("send");
    expect(tap.resyncs()).toBe(1);
    expect(two.errors).toEqual([]);
    await one.context.close();
    await two.context.close();
  });

  it("holds an update that follows a missing version until the resync answer lands, and never steps back", async () => {
    const { sam: one, alex: two, tap } = await tappedPair();
    const shown = await recordShownVersions(two.page);
    tap.dropUpdates(1);
    tap.holdNextSnapshot();
    const moved = await makeMove(one.page, { text: "Something small first." });
    await expect.poll(() => tap.dropped).toEqual([moved]);
    await one.page.getByRole("button", { name: "Pause", exact: true }).click();
    // The gap makes the page ask; its answer (the paused view) is held back on the way...
    await expect.poll(() => tap.held.length).toBe(1);
    // ...while a newer update (resumed) arrives. The page cannot build on a version it lacks: it holds the update
    // and keeps what it shows rather than guess.
    await one.page.getByRole("button", { name: "Resume", exact: true }).click();
    await waitForVersion(one.page, moved + 2);
    // Time for the update to reach the second page too (a negative can only be checked after a while).
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await shown()).at(-1)).toBe(moved - 1);
    tap.release();
    // The snapshot lands, then the held update on top of it.
    await waitForVersion(two.page, moved + 2);
    // Later updates follow the released snapshot on the same socket: once they show, the snapshot was handled.
    await one.page.getByRole("button", { name: "Pause", exact: true }).click();
    await waitForVersion(two.page, moved + 3);
    await one.page.getByRole("button", { name: "Resume", exact: true }).click();
    await waitForVersion(two.page, moved + 4);
    const versions = await shown();
    expect(versions.at(-1)).toBe(moved + 4);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(tap.resyncs()).toBe(1);
    const chose = await makeMove(two.page, { option: "Now works" });
    await waitForVersion(one.page, chose);
    expect(two.errors).toEqual([]);
    await one.context.close();
    await two.context.close();
  });

  it("explains a link that does not work, and a room opened without any link", async () => {
    const stranger = await openPhone(browser);
    await stranger.page.goto(`${server.url}/join/AAAAAAAAAAAAAAAAAAAAA.zzzzzzz`);
    await stranger.page.getByTestId("link-problem").waitFor();
    expect(await stranger.page.getByTestId("link-problem").textContent()).toMatch(/link/i);
    expect(new URL(stranger.page.url()).pathname).toBe("/room");
    await screenshot(stranger.page, SUITE, "10-bad-link");

    const empty = await openPhone(browser);
    await empty.page.goto(`${server.url}/room`);
    await empty.page.getByRole("heading", { name: "No session open here" }).waitFor();
    await stranger.context.close();
    await empty.context.close();
  });
});
