/**
 * `npm run lighthouse`: Lighthouse's mobile profile (a mid-range phone on a throttled connection, simulated) over
 * the home page and a seat's room, served by the built server exactly as production runs it, in Debian's
 * Chromium. Prints the performance, accessibility and best-practices scores with every audit that cost points
 * in the last two, and exits 1 unless accessibility and best practices are both 100.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CATEGORIES = ["performance", "accessibility", "best-practices"] as const;
const MUST_BE_PERFECT: readonly string[] = ["accessibility", "best-practices"];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  execFileSync(process.execPath, ["scripts/build-if-needed.mjs"], { cwd: ROOT, stdio: "inherit" });
  const port = await freePort();
  const child = spawn(process.execPath, ["build/server/main.js"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", NODE_OPTIONS: "" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (
    !(await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error("the built server did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child };
}

async function roomLink(url: string): Promise<string> {
  const res = await fetch(`${url}/api/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    // Audited without keys in the link, so the session is explicitly unencrypted.
    body: JSON.stringify({ mode: "guided", channel: "typed", encrypted: false, names: { a: "Sam", b: "Alex" } }),
  });
  if (res.status !== 201) throw new Error(`could not create a session: ${res.status}`);
  return ((await res.json()) as { links: { a: string } }).links.a;
}

const { url, child } = await startServer();
const chrome = await chromeLauncher.launch({
  chromePath: CHROMIUM,
  chromeFlags: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
let failed = false;
try {
  const pages: [string, string][] = [
    ["home", `${url}/`],
    ["room", await roomLink(url)],
  ];
  for (const [name, pageUrl] of pages) {
    const result = await lighthouse(pageUrl, {
      port: chrome.port,
      output: "json",
      logLevel: "error",
      onlyCategories: [...CATEGORIES],
    });
    if (!result) throw new Error(`Lighthouse returned nothing for ${name}`);
    const { categories, audits } = result.lhr;
    const scores = CATEGORIES.map((id) => `${id} ${Math.round((categories[id]?.score ?? 0) * 100)}`);
    const metric = (id: string) => audits[id]?.displayValue ?? "?";
    console.log(
      `${name}: ${scores.join(", ")} (first contentful paint ${metric("first-contentful-paint")}, largest ` +
        `${metric("largest-contentful-paint")}, blocking ${metric("total-blocking-time")}, ` +
        `layout shift ${metric("cumulative-layout-shift")}, speed index ${metric("speed-index")})`,
    );
    for (const id of MUST_BE_PERFECT) {
      const category = categories[id];
      if (!category || category.score === 1) continue;
      failed = true;
      for (const ref of category.auditRefs) {
        const audit = audits[ref.id];
        if (ref.weight > 0 && audit && audit.score !== null && audit.score < 1) {
          console.log(`  ${id}: ${audit.id} - ${audit.title}`);
        }
      }
    }
  }
} finally {
  chrome.kill();
  child.kill("SIGTERM");
}
if (failed) {
  console.error("lighthouse: accessibility and best practices must both be 100");
  process.exitCode = 1;
}
