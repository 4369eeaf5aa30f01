/**
 * Browser-test support: Debian's Chromium driven by playwright-core (never a downloaded browser), the client build,
 * screenshots into test-output/ (git-ignored), axe-core checks, and a page-error collector.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type { RunningAttune } from "../../server/app.ts";
import type { CreateSessionRequest, CreateSessionResponse } from "../../shared/protocol.ts";
import { createTestSession, startTestServer } from "./server.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const OUTPUT_DIR = join(ROOT, "test-output", "e2e");
/** A common phone width: every page must read well here. */
export const PHONE = { width: 375, height: 760 } as const;

/** True when the Debian Chromium binary is installed. */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Builds client/dist when its sources changed (the same script `npm test` runs first). */
export function buildClient(): void {
  execFileSync(process.execPath, [join(ROOT, "scripts", "build-if-needed.mjs")], { cwd: ROOT, stdio: "inherit" });
}

/** Launches headless Chromium with the flags that work in containers and CI. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

export interface TestPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors (CSP violations show up here). */
  errors: string[];
}

/** A fresh browser context (its own storage, like a separate device) with one page of the given size. */
export async function openPage(browser: Browser, viewport: { width: number; height: number }): Promise<TestPage> {
  const context = await browser.newContext({ viewport, reducedMotion: "reduce" });
  // Fail fast: a missing element should fail its test in seconds, not after the 30 s default.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  return { context, page, errors };
}

/** A fresh browser context (its own storage, like a separate device) with one phone-sized page. */
export function openPhone(browser: Browser): Promise<TestPage> {
  return openPage(browser, PHONE);
}

/** The two partners of a browser test, Maya (seat a) and Jordan (seat b), each on a page of their own. */
export interface Couple {
  maya: TestPage;
  jordan: TestPage;
  links: CreateSessionResponse["links"];
}

export interface CoupleOptions {
  /** Page size of both phones (390x844 unless told). */
  viewport?: { width: number; height: number };
  /** Pages opened are pushed here too, so a suite can check their errors and close them after the tests. */
  track?: TestPage[];
  /** Wait until both see the lobby's welcome (the default); false for sessions that open elsewhere. */
  welcome?: boolean;
}

/** Maya and Jordan open their own links, each in a fresh context (its own storage, like a separate device). */
export async function coupleAt(
  browser: Browser,
  links: CreateSessionResponse["links"],
  options: CoupleOptions = {},
): Promise<Couple> {
  const viewport = options.viewport ?? { width: 390, height: 844 };
  const maya = await openPage(browser, viewport);
  const jordan = await openPage(browser, viewport);
  options.track?.push(maya, jordan);
  await maya.page.goto(links.a);
  await jordan.page.goto(links.b);
  if (options.welcome ?? true) {
    for (const p of [maya, jordan]) await p.page.getByRole("heading", { name: /Welcome/ }).waitFor();
  }
  return { maya, jordan, links };
}

/**
 * A session for Maya and Jordan (guided and typed unless told) on the suite's server, both partners in the room.
 * The set-up every room suite shares: create, open one page per partner, go to each link, wait for the lobby.
 */
export async function openCouple(
  browser: Browser,
  serverUrl: string,
  session: Partial<CreateSessionRequest> & Pick<CreateSessionRequest, "agenda">,
  options: CoupleOptions = {},
): Promise<Couple> {
  const created = await createTestSession(serverUrl, {
    mode: "guided",
    channel: "typed",
    names: { a: "Maya", b: "Jordan" },
    ...session,
  });
  return coupleAt(browser, created.links, { ...options, welcome: options.welcome ?? session.mode !== "therapist" });
}

/** Closes both partners' contexts (already closed ones are fine). */
export async function closeCouple(couple: Pick<Couple, "maya" | "jordan">): Promise<void> {
  for (const p of [couple.maya, couple.jordan]) await p.context.close().catch(() => undefined);
}

/** What every browser suite runs against: its own Attune server and one headless Chromium. */
export interface BrowserSuite {
  server: RunningAttune;
  browser: Browser;
}

/** Builds the client, clears the suite's screenshots, then starts a test server and Chromium for the suite. */
export async function startBrowserSuite(suite: string): Promise<BrowserSuite> {
  buildClient();
  resetScreenshots(suite);
  const server = await startTestServer();
  const browser = await launchBrowser();
  return { server, browser };
}

/** Empties a suite's screenshot folder so a run never mixes its pictures with an older run's. */
export function resetScreenshots(suite: string): void {
  rmSync(join(OUTPUT_DIR, suite), { recursive: true, force: true });
}

/** Saves a full-page screenshot as test-output/e2e/<suite>/<name>.png. */
export async function screenshot(page: Page, suite: string, name: string): Promise<void> {
  const dir = join(OUTPUT_DIR, suite);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** A screenshot taker that numbers the suite's pictures in the order they are taken (01-name, 02-name, …). */
export function numberedScreenshots(suite: string): (page: Page, name: string) => Promise<void> {
  let shot = 0;
  return (page, name) => screenshot(page, suite, `${String(++shot).padStart(2, "0")}-${name}`);
}

const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

const AXE_URL_PATH = "/__test-only/axe.min.js";
const routed = new WeakSet<Page>();

/**
 * Runs axe-core on the page; returns the serious and critical violations (empty means the page passes).
 * The app's CSP forbids inline script, so addScriptTag({ path }) (an inline script) is refused: axe is served to
 * this page alone from a same-origin URL answered by the test (page.route), which the CSP allows, and the CSP
 * stays fully in force for the check.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeFinding[]> {
  if (!routed.has(page)) {
    routed.add(page);
    await page.route(`**${AXE_URL_PATH}`, (route) =>
      route.fulfill({ path: AXE_PATH, contentType: "application/javascript; charset=utf-8" }),
    );
  }
  const hasAxe = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== "undefined");
  if (!hasAxe) await page.addScriptTag({ url: AXE_URL_PATH });
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: Document,
            opts: object,
          ) => Promise<{
            violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** Elements whose right edge sticks out past the page width (empty when nothing needs sideways scrolling). */
export async function overflowingElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const limit = document.documentElement.clientWidth;
    return [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > limit + 1)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)}px)`);
  });
}

/** The page's Socket.IO websocket, passed through the test so it can count, drop and hold frames. */
export interface SocketTap {
  /** Every text frame the page sent, in order. */
  sent: string[];
  /** Versions of the `update` frames dropped before they reached the page. */
  dropped: number[];
  /** Resolves once the page's Socket.IO connection has moved onto the websocket (all frames pass here from then). */
  upgraded: Promise<void>;
  /** Drops the next `count` `update` frames on their way to the page. */
  dropUpdates(count: number): void;
  /** Holds the next `snapshot` frame on its way to the page until release() is called. */
  holdNextSnapshot(): void;
  /** Frames held so far (not yet given to the page). */
  held: string[];
  /** Gives the held frames to the page, in order. */
  release(): void;
  /** How many `resync` requests the page sent. */
  resyncs(): number;
}

/** The Engine.IO message carrying a Socket.IO event named `name` (the shape socket.io puts on the wire). */
const eventFrame = (name: string) => new RegExp(`^42\\d*\\["${name}"`);

/**
 * Routes the page's Socket.IO websocket through the test (Playwright's routeWebSocket) before the page opens it.
 * The real server is on the other end; frames pass unchanged unless the test asks to drop or hold one.
 */
export async function tapSocket(page: Page): Promise<SocketTap> {
  let dropUpdates = 0;
  let holdSnapshots = 0;
  let deliver: ((frame: string) => void) | null = null;
  let upgradedNow: () => void = () => {};
  const upgraded = new Promise<void>((resolve) => {
    upgradedNow = resolve;
  });
  const tap: SocketTap = {
    sent: [],
    dropped: [],
    held: [],
    upgraded,
    dropUpdates(count) {
      dropUpdates += count;
    },
    holdNextSnapshot() {
      holdSnapshots += 1;
    },
    release() {
      if (!deliver) throw new Error("no websocket to release frames into");
      for (const frame of tap.held.splice(0)) deliver(frame);
    },
    resyncs: () => tap.sent.filter((frame) => eventFrame("resync").test(frame)).length,
  };
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    deliver = (frame) => ws.send(frame);
    ws.onMessage((message) => {
      if (typeof message === "string") {
        tap.sent.push(message);
        // Engine.IO's "upgrade" packet: the polling transport is done, the websocket carries everything now.
        if (message === "5") upgradedNow();
      }
      server.send(message);
    });
    server.onMessage((message) => {
      if (typeof message === "string" && dropUpdates > 0 && eventFrame("update").test(message)) {
        dropUpdates -= 1;
        const payload = JSON.parse(message.slice(message.indexOf("["))) as [string, { version: number }];
        tap.dropped.push(payload[1].version);
        return;
      }
      if (typeof message === "string" && holdSnapshots > 0 && eventFrame("snapshot").test(message)) {
        holdSnapshots -= 1;
        tap.held.push(message);
        return;
      }
      ws.send(message);
    });
  });
  return tap;
}

/** Starts recording every version the page shows (data-version), so a test can prove it never went backwards. */
export async function recordShownVersions(page: Page): Promise<() => Promise<number[]>> {
  await page.evaluate(() => {
    const seen: number[] = [];
    const note = () => {
      const value = document.querySelector("[data-version]")?.getAttribute("data-version");
      if (value != null && Number(value) !== seen.at(-1)) seen.push(Number(value));
    };
    note();
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
    (window as unknown as { __shownVersions: number[] }).__shownVersions = seen;
  });
  return () => page.evaluate(() => [...(window as unknown as { __shownVersions: number[] }).__shownVersions]);
}
