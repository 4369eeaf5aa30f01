/**
 * Safety a partner can reach without the other seeing (issue 13), in Chromium with a browser context per person
 * (partner a and partner b on phones, the therapist on a laptop): the quick exit by button and by keyboard (the
 * page blanks at once, the tab's Attune data is gone, Back does not return to the room, the other partner sees
 * only that this partner is not there); the quiet "talk to my therapist alone" signal and the waiting room's
 * safe-time answers, which reach the therapist's console while the other partner's page and every frame its
 * socket receives stay free of them; neither is offered on one shared device; the guided note with and without
 * SUPPORT_URL. Axe (serious/critical) on every new screen, light and dark; screenshots at 390x844 and 1280x800
 * in test-output/e2e/safety/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAttune } from "../../server/app.ts";
import type { CreateSessionRequest } from "../../shared/protocol.ts";
import {
  buildClient,
  chromiumAvailable,
  launchBrowser,
  resetScreenshots,
  screenshot,
  seriousAxeViolations,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { createTestSession, startTestServer } from "../support/server.ts";
import { waitForVersion } from "./driver.ts";

const SUITE = "safety";
const runs = requireService("chromium", chromiumAvailable());
const NEUTRAL = "https://neutral.example/weather";
const SUPPORT = "https://support.example/help";
const PHONE = { width: 390, height: 844 } as const;
const LAPTOP = { width: 1280, height: 800 } as const;
type Scheme = "light" | "dark";

interface Person {
  context: BrowserContext;
  page: Page;
  errors: string[];
  /** Every Socket.IO frame the page received: long-polling bodies and websocket frames, in arrival order. */
  frames: string[];
  /** Waits for the polling bodies still being read. */
  settled: () => Promise<void>;
}

/**
 * A fresh context (a separate device). The neutral page is answered by the test (no network needed); `hold`
 * makes it wait until released, so the test can look at the Attune page between the exit and the new page.
 */
async function person(
  browser: Browser,
  viewport: { width: number; height: number },
  colorScheme: Scheme = "light",
): Promise<Person & { holdNeutral: () => () => void }> {
  const context = await browser.newContext({ viewport, reducedMotion: "reduce", colorScheme });
  context.setDefaultTimeout(10_000);
  let gate: Promise<void> | null = null;
  await context.route("https://neutral.example/**", async (route) => {
    if (gate) await gate;
    await route.fulfill({
      contentType: "text/html; charset=utf-8",
      body: "<!doctype html><html lang=en><title>Weather</title><h1>Weather today</h1></html>",
    });
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  const frames: string[] = [];
  const reading: Promise<void>[] = [];
  page.on("websocket", (ws) => {
    ws.on("framereceived", (frame) => {
      frames.push(typeof frame.payload === "string" ? frame.payload : frame.payload.toString("utf8"));
    });
  });
  page.on("response", (res) => {
    if (!res.url().includes("/socket.io/") || res.request().method() !== "GET") return;
    reading.push(
      res.text().then(
        (body) => void frames.push(body),
        () => undefined,
      ),
    );
  });
  return {
    context,
    page,
    errors,
    frames,
    settled: async () => {
      await Promise.all(reading);
    },
    holdNeutral: () => {
      let open: () => void = () => {};
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      return () => {
        gate = null;
        open();
      };
    },
  };
}

/** All text in the page, visible or not, for privacy checks. */
async function bodyText(page: Page): Promise<string> {
  return (await page.locator("body").textContent()) ?? "";
}

/** The page's text once what it fetches at start (the session's expiry setting) has arrived. */
async function settledText(page: Page): Promise<string> {
  if ((await page.getByTestId("room-menu").count()) > 0) {
    await page
      .getByText(/hours? after the last activity/)
      .first()
      .waitFor({ state: "attached" });
  }
  return bodyText(page);
}

/** The Attune keys this tab's storage holds (sessionStorage and localStorage). */
async function attuneKeys(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...Object.keys(sessionStorage), ...Object.keys(localStorage)].filter((k) => k.startsWith("attune")),
  );
}

/** Controls (buttons, links, fields, chips) the fixed quick-exit button covers at the current scroll position. */
async function coveredByQuickExit(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const exit = document.querySelector(".quick-exit-button")?.getBoundingClientRect();
    if (!exit) return ["no quick-exit button"];
    const covered: string[] = [];
    for (const el of document.querySelectorAll("button, a[href], input, select, textarea, summary, label.chip")) {
      if (el.closest(".quick-exit")) continue;
      const r = el.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) continue;
      if (r.left < exit.right && r.right > exit.left && r.top < exit.bottom && r.bottom > exit.top) {
        covered.push(`${el.tagName.toLowerCase()} "${(el.textContent ?? "").trim().slice(0, 30)}"`);
      }
    }
    return covered;
  });
}

/** The quick-exit button is on the page and covers no control. */
async function expectQuickExitClear(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Quick exit" }).waitFor();
  expect(await coveredByQuickExit(page)).toEqual([]);
}

/** Fails when the frames carry any trace of a partner's safety answers or signal. */
function traces(frames: string[], extra: string[] = []): string[] {
  const all = frames.join("\n");
  const found = ['"safety":', '"asks"', '"checks"', '"asked"', "alone-asked", "safety-answered", ...extra].filter((t) =>
    all.includes(t),
  );
  // A partner's own safety field is always present (empty until they answer): anything inside it is a trace.
  if (/"yourSafety":\{[^}]/.test(all)) found.push("yourSafety with content");
  return found;
}

describe.runIf(runs)("safety a partner can reach without the other seeing", () => {
  let server: RunningAttune;
  let plain: RunningAttune;
  let browser: Browser;
  const people: Person[] = [];

  beforeAll(async () => {
    buildClient();
    resetScreenshots(SUITE);
    server = await startTestServer({ quickExitUrl: NEUTRAL, supportUrl: SUPPORT });
    plain = await startTestServer({ quickExitUrl: NEUTRAL });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const p of people) expect(p.errors).toEqual([]);
    await browser?.close();
  });

  async function open(viewport: { width: number; height: number } = PHONE, scheme: Scheme = "light") {
    const p = await person(browser, viewport, scheme);
    people.push(p);
    return p;
  }

  function create(body: Partial<CreateSessionRequest> = {}, on = server) {
    return createTestSession(on.url, {
      mode: "therapist",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: "Robin", b: "Kai" },
      ...body,
    } as CreateSessionRequest);
  }

  /** A therapist session with both partners admitted and in the lobby. */
  async function admittedRoom(scheme: Scheme = "light") {
    const created = await create();
    const therapist = await open(LAPTOP, scheme);
    const a = await open(PHONE, scheme);
    const b = await open(PHONE, scheme);
    await therapist.page.goto(created.links.therapist!);
    await a.page.goto(created.links.a);
    await b.page.goto(created.links.b);
    await a.page.getByRole("heading", { name: "You're in the waiting room" }).waitFor();
    await b.page.getByRole("heading", { name: "You're in the waiting room" }).waitFor();
    await therapist.page.getByRole("button", { name: "Admit both" }).click();
    for (const p of [a, b]) await p.page.getByRole("heading", { name: "Welcome. Settle in together." }).waitFor();
    return { created, therapist, a, b };
  }

  it("quick exit button: the page blanks at once, the tab forgets the seat, Back does not return, the other partner sees only that Robin left", async () => {
    const { a, b } = await admittedRoom();
    await expectQuickExitClear(a.page);
    await expect.poll(() => b.page.locator(".presence-chip", { hasText: "Robin" }).textContent()).toContain("· here");
    const kaiBefore = await settledText(b.page);
    expect((await attuneKeys(a.page)).length).toBeGreaterThan(0);
    await screenshot(a.page, SUITE, "quick-exit-390-light-room");

    const release = a.holdNeutral();
    // The button is clicked inside the page and the page read in the same task: the blanking is synchronous.
    const meanwhile = await a.page.evaluate(() => {
      document.querySelector<HTMLButtonElement>(".quick-exit-button")?.click();
      return {
        text: document.body.textContent,
        children: document.body.childElementCount,
        title: document.title,
        keys: [...Object.keys(sessionStorage), ...Object.keys(localStorage)].filter((k) => k.startsWith("attune")),
      };
    });
    expect(meanwhile).toEqual({ text: "", children: 0, title: "", keys: [] });
    release();
    await a.page.waitForURL(NEUTRAL);
    await a.page.getByRole("heading", { name: "Weather today" }).waitFor();

    // Back does not return to the room (the room's history entry was replaced).
    await a.page.goBack().catch(() => null);
    expect(a.page.url()).not.toContain("/room");
    expect(await bodyText(a.page)).not.toContain("Settle in together");
    // The token is gone from this tab: opening the room again finds no seat.
    await a.page.goto(`${server.url}/room`);
    await a.page.getByRole("heading", { name: "No session open here" }).waitFor();
    expect(await attuneKeys(a.page)).toEqual([]);

    // Kai sees only that Robin has left (presence), nothing about how or why.
    await expect.poll(() => b.page.locator(".presence-chip", { hasText: "Robin" }).textContent()).toContain("left");
    expect(await bodyText(b.page)).toBe(kaiBefore.replace("Robin · here", "Robin · left"));
  });

  it("quick exit by keyboard: three presses of Escape, or of Shift; capital letters typed with Shift never trigger it", async () => {
    const { therapist, a, b } = await admittedRoom();
    // The therapist types a note with capitals: Shift pressed before each letter, never three in a row alone.
    await therapist.page.getByRole("radio", { name: /^Note/ }).check();
    const note = therapist.page.getByLabel("New note");
    await note.click();
    for (const letter of ["I", "A", "M"]) {
      await therapist.page.keyboard.down("Shift");
      await therapist.page.keyboard.press(`Key${letter}`);
      await therapist.page.keyboard.up("Shift");
    }
    await therapist.page.waitForTimeout(200);
    expect(therapist.page.url()).toContain("/room");
    expect(await note.inputValue()).toBe("IAM");

    // Robin leaves with Escape, Escape, Escape; Kai with Shift, Shift, Shift.
    for (const [p, key] of [
      [a, "Escape"],
      [b, "Shift"],
    ] as const) {
      for (let i = 0; i < 3; i++) await p.page.keyboard.press(key);
      await p.page.waitForURL(NEUTRAL);
      await p.page.goBack().catch(() => null);
      expect(p.page.url()).not.toContain("/room");
      await p.page.goto(`${server.url}/room`);
      await p.page.getByRole("heading", { name: "No session open here" }).waitFor();
      expect(await attuneKeys(p.page)).toEqual([]);
    }
    // The therapist's console shows both gone.
    await expect.poll(() => therapist.page.getByTestId("partner-a").textContent()).toContain("not connected");
    await expect.poll(() => therapist.page.getByTestId("partner-b").textContent()).toContain("not connected");

    // From the home page too.
    const home = await open();
    await home.page.goto(`${server.url}/`);
    await expectQuickExitClear(home.page);
    for (let i = 0; i < 3; i++) await home.page.keyboard.press("Escape");
    await home.page.waitForURL(NEUTRAL);
  });

  it("the private signal: the therapist sees it at once and can step Kai out; Kai's page and every frame Kai's socket receives show nothing", async () => {
    const { therapist, a, b } = await admittedRoom();
    const kaiBefore = await settledText(b.page);
    const kaiFramesBefore = b.frames.length;
    const ask = a.page.getByRole("button", { name: "I'd like to talk to my therapist alone" });
    await expectQuickExitClear(a.page);
    await ask.click();
    await a.page.getByText("Your therapist has been told. Only they can see this.").waitFor();
    const version = Number(await a.page.locator("[data-version]").first().getAttribute("data-version"));

    const t = therapist.page;
    await t.getByRole("heading", { name: "Robin would like to talk to you alone" }).waitFor();
    await t.getByTestId("ask-a").getByText("Kai can't see this request.").waitFor();
    await expect
      .poll(() => t.getByTestId("announcer").textContent())
      .toContain("Robin would like to talk to you alone");
    await screenshot(t, SUITE, "signal-1280-light-console");
    await screenshot(a.page, SUITE, "signal-390-light-robin");
    expect(await seriousAxeViolations(t)).toEqual([]);
    expect(await seriousAxeViolations(a.page)).toEqual([]);

    // Kai's page has caught up with the version and shows exactly what it showed before.
    await waitForVersion(b.page, version);
    expect(await bodyText(b.page)).toBe(kaiBefore);
    await b.settled();
    await therapist.settled();
    expect(b.frames.length).toBeGreaterThan(kaiFramesBefore);
    expect(traces(b.frames)).toEqual([]);
    // The same check over the therapist's frames finds the signal: it would catch a leak.
    expect(traces(therapist.frames)).toEqual(expect.arrayContaining(['"safety":', '"asks"', "alone-asked"]));

    // Step Kai out: Kai gets the calm waiting space; Robin and the therapist are alone.
    await t.getByTestId("safety-panel").getByRole("button", { name: "Step Kai out" }).click();
    await b.page.getByRole("heading", { name: "A short pause for you" }).waitFor();
    await expectQuickExitClear(b.page);
    await screenshot(b.page, SUITE, "signal-390-light-kai-stepped-out");
    await a.page.getByRole("heading", { name: "Just you and your therapist" }).waitFor();
    await t.getByRole("button", { name: "Mark as seen" }).click();
    await a.page.getByText("Your therapist has seen your request. Only they can see it.").waitFor();
    await t.getByTestId("ask-a").getByText("marked as seen").waitFor();
    expect(await t.getByRole("heading", { name: "Robin would like to talk to you alone" }).count()).toBe(0);
    // Robin can put the line away again.
    await a.page.getByRole("button", { name: "Hide this" }).click();
    await ask.waitFor();

    await b.settled();
    expect(traces(b.frames)).toEqual([]);
    expect(await bodyText(b.page)).not.toContain("Robin asked");
  });

  it("the safe-time check: each partner answers alone in the waiting room, can change it, and only the therapist sees it", async () => {
    const created = await create();
    const therapist = await open(LAPTOP);
    const a = await open();
    const b = await open();
    await therapist.page.goto(created.links.therapist!);
    await a.page.goto(created.links.a);
    await b.page.goto(created.links.b);
    const question = (p: Page) => p.getByRole("group", { name: "Is this a safe time and place to talk?" });
    await question(a.page).waitFor();
    await question(b.page).waitFor();
    await expectQuickExitClear(a.page);
    await expect.poll(() => therapist.page.getByTestId("safe-answer-a").textContent()).toContain("no answer yet");
    const kaiBefore = await settledText(b.page);

    await question(a.page).getByRole("radio", { name: "Not right now" }).check();
    await a.page.getByText("Thank you. Your therapist has your answer.").waitFor();
    const t = therapist.page;
    await expect.poll(() => t.getByTestId("safe-answer-a").textContent()).toContain("Not right now");
    await screenshot(a.page, SUITE, "safe-check-390-light-robin");
    await screenshot(t, SUITE, "safe-check-1280-light-console");
    expect(await seriousAxeViolations(a.page)).toEqual([]);
    expect(await seriousAxeViolations(t)).toEqual([]);

    // Robin changes the answer before being let in.
    await question(a.page).getByRole("radio", { name: "I'd like to talk to my therapist alone first" }).check();
    await expect
      .poll(() => t.getByTestId("safe-answer-a").textContent())
      .toContain("Would like to talk to you alone first");
    expect(await question(a.page).getByRole("radio", { name: "Not right now" }).isChecked()).toBe(false);

    const version = Number(await t.locator("[data-version]").first().getAttribute("data-version"));
    await waitForVersion(b.page, version);
    expect(await bodyText(b.page)).toBe(kaiBefore);
    await b.settled();
    await therapist.settled();
    expect(traces(b.frames, ["not-now", "alone-first"])).toEqual([]);
    expect(traces(therapist.frames, ["not-now", "alone-first"])).toEqual(
      expect.arrayContaining(['"checks"', "safety-answered", "not-now", "alone-first"]),
    );

    // Admitted alone first (the therapist's choice), Robin no longer sees the question; Kai still waits.
    await t.getByTestId("safety-panel").getByRole("button", { name: "Admit Robin" }).click();
    await a.page.getByRole("heading", { name: "Welcome. Settle in together." }).waitFor();
    expect(await question(a.page).count()).toBe(0);
    await question(b.page).waitFor();
    await b.settled();
    expect(traces(b.frames, ["not-now", "alone-first"])).toEqual([]);
  });

  it("the summary page has the quick exit too, and it works there", async () => {
    const { therapist, a } = await admittedRoom();
    await therapist.page.getByRole("button", { name: "End session" }).click();
    await therapist.page.getByRole("button", { name: "Yes, end session" }).click();
    await a.page.getByRole("heading", { name: "Session complete" }).waitFor();
    await expectQuickExitClear(a.page);
    await a.page.getByRole("button", { name: "Quick exit" }).click({ noWaitAfter: true });
    await a.page.waitForURL(NEUTRAL);
    await a.page.goBack().catch(() => null);
    expect(a.page.url()).not.toContain("/room");
  });

  it("on one shared device neither the safe-time question nor the private signal is offered", async () => {
    const created = await create();
    const therapist = await open(LAPTOP);
    const device = await open();
    await therapist.page.goto(created.links.therapist!);
    await device.page.goto(created.links.a);
    await device.page.getByRole("heading", { name: "You're in the waiting room" }).waitFor();
    await device.page.goto(created.links.b);
    await device.page.locator(".device-holder").waitFor();
    await device.page.getByRole("heading", { name: "You're in the waiting room" }).waitFor();
    expect(await device.page.getByTestId("safe-check").count()).toBe(0);
    await therapist.page.getByRole("button", { name: "Admit both" }).click();
    await device.page.getByRole("heading", { name: "Welcome. Settle in together." }).waitFor();
    expect(await device.page.getByTestId("ask-alone").count()).toBe(0);
    await expectQuickExitClear(device.page);
  });

  it("guided sessions: a note before the first exercise, with the support link only when SUPPORT_URL is set; once put away it stays away", async () => {
    const guided: Partial<CreateSessionRequest> = { mode: "guided", agenda: ["appreciation"] };
    const withSupport = await create(guided);
    const a = await open();
    await a.page.goto(withSupport.links.a);
    const note = a.page.getByTestId("safety-note");
    await note.getByRole("heading", { name: "Before you start" }).waitFor();
    await note.getByText("These exercises are for couples who feel safe with each other.", { exact: false }).waitFor();
    await note.getByText("Time-out", { exact: true }).waitFor();
    const link = note.getByRole("link", { name: "Find support you can talk to (opens in a new tab)" });
    expect(await link.getAttribute("href")).toBe(SUPPORT);
    expect(await a.page.getByTestId("ask-alone").count()).toBe(0);
    await expectQuickExitClear(a.page);
    await screenshot(a.page, SUITE, "guided-note-390-light");
    expect(await seriousAxeViolations(a.page)).toEqual([]);
    await note.getByRole("button", { name: "Got it" }).click();
    expect(await note.count()).toBe(0);
    await a.page.reload();
    await a.page.getByRole("heading", { name: "Welcome. Settle in together." }).waitFor();
    expect(await a.page.getByTestId("safety-note").count()).toBe(0);

    // Without SUPPORT_URL: the same note, no link.
    const without = await create(guided, plain);
    const b = await open();
    await b.page.goto(without.links.b);
    await b.page.getByTestId("safety-note").getByRole("heading", { name: "Before you start" }).waitFor();
    expect(await b.page.getByTestId("safety-note").getByRole("link").count()).toBe(0);
    expect(await bodyText(b.page)).not.toContain("support.example");
  });

  it("every new screen is axe clean in dark mode and reads well at 390x844 and 1280x800", async () => {
    const { therapist, a, b } = await admittedRoom("dark");
    await a.page.getByRole("button", { name: "I'd like to talk to my therapist alone" }).click();
    await therapist.page.getByRole("heading", { name: "Robin would like to talk to you alone" }).waitFor();
    await screenshot(therapist.page, SUITE, "signal-1280-dark-console");
    await screenshot(a.page, SUITE, "signal-390-dark-robin");
    await screenshot(b.page, SUITE, "signal-390-dark-kai");
    for (const p of [therapist, a, b]) expect(await seriousAxeViolations(p.page)).toEqual([]);

    const waiting = await create();
    const robin = await open(PHONE, "dark");
    await robin.page.goto(waiting.links.a);
    await robin.page.getByRole("radio", { name: "Yes" }).check();
    await robin.page.getByText("Thank you. Your therapist has your answer.").waitFor();
    await screenshot(robin.page, SUITE, "safe-check-390-dark-robin");
    expect(await seriousAxeViolations(robin.page)).toEqual([]);

    const guided = await create({ mode: "guided", agenda: ["appreciation"] });
    const couple = await open(PHONE, "dark");
    await couple.page.goto(guided.links.a);
    await couple.page.getByTestId("safety-note").waitFor();
    await screenshot(couple.page, SUITE, "guided-note-390-dark");
    expect(await seriousAxeViolations(couple.page)).toEqual([]);

    const home = await open(PHONE, "dark");
    await home.page.goto(`${server.url}/`);
    await expectQuickExitClear(home.page);
    await screenshot(home.page, SUITE, "home-390-dark");
    const wide = await open(LAPTOP, "light");
    await wide.page.goto(`${server.url}/`);
    await expectQuickExitClear(wide.page);
    await screenshot(wide.page, SUITE, "home-1280-light");
    // Four pages, three axe scans and a dozen screenshots: more than one ordinary test's time on a busy machine.
  }, 90_000);
});
