// Builds the browser client when client/dist/index.html is missing or older than any source it is built from
// (client/ except client/dist and client/headless, and shared/). Runs before `npm start` and `npm test`, and from
// the browser tests' setup; a lock directory keeps parallel callers from building into the same folder at once.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const clientDir = join(root, "client");
const distDir = join(clientDir, "dist");
const builtIndex = join(distDir, "index.html");
const lockDir = join(root, "node_modules", ".attune-client-build.lock");
const LOCK_STALE_MS = 120_000;
const JS_BUDGET_BYTES = 150 * 1024;

if (!existsSync(join(clientDir, "vite.config.ts"))) process.exit(0);

/** Newest modification time (ms) of any file under `dir`, skipping the excluded folders. */
function newestMtime(dir, excluded) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (excluded.includes(path)) continue;
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, excluded));
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function isStale() {
  if (!existsSync(builtIndex)) return true;
  const builtAt = statSync(builtIndex).mtimeMs;
  const sources = Math.max(
    newestMtime(clientDir, [distDir, join(clientDir, "headless")]),
    newestMtime(join(root, "shared"), []),
  );
  return sources > builtAt;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes the build lock, waiting for another builder (or clearing a lock left by a crashed one). */
function lock() {
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(lockDir);
      return;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      let age = 0;
      try {
        age = Date.now() - statSync(lockDir).mtimeMs;
      } catch {
        continue;
      }
      if (age > LOCK_STALE_MS || Date.now() > deadline) rmSync(lockDir, { recursive: true, force: true });
      else sleep(200);
    }
  }
}

/** Prints the gzipped size of every built script and fails when together they exceed the budget. */
function reportSize() {
  const assets = join(distDir, "assets");
  let total = 0;
  for (const name of readdirSync(assets)) {
    if (!name.endsWith(".js")) continue;
    const gz = gzipSync(readFileSync(join(assets, name))).length;
    total += gz;
    console.log(`client: ${relative(root, join(assets, name))} ${(gz / 1024).toFixed(1)} KB gzipped`);
  }
  console.log(`client: JavaScript total ${(total / 1024).toFixed(1)} KB gzipped (budget ${JS_BUDGET_BYTES / 1024} KB)`);
  if (total > JS_BUDGET_BYTES) {
    console.error("client: the JavaScript budget is exceeded");
    return false;
  }
  return true;
}

if (!isStale()) process.exit(0);
lock();
try {
  // Another process may have built while we waited for the lock.
  if (isStale()) {
    console.log("client: building (sources changed since the last build)");
    const vite = join(root, "node_modules", "vite", "bin", "vite.js");
    const result = spawnSync(
      process.execPath,
      [vite, "build", "--config", "client/vite.config.ts", "--logLevel", "warn"],
      {
        cwd: root,
        stdio: "inherit",
      },
    );
    if (result.status !== 0) {
      console.error("client: build failed");
      process.exitCode = result.status ?? 1;
    } else if (!reportSize()) {
      process.exitCode = 1;
    }
  }
} finally {
  rmSync(lockDir, { recursive: true, force: true });
}
