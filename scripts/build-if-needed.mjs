// Builds what `npm start` and `npm test` need, only when it is missing or older than its sources:
// - the browser client (vite) into client/dist, each hashed asset precompressed next to it (.br, .gz);
// - the server (tsc, tsconfig.build.json) into build/, the plain JavaScript production runs.
// Runs before `npm start` and `npm test`, and from the tests' setup; a lock directory keeps parallel callers from
// building into the same folder at once. `--force` rebuilds both (`npm run build`).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const clientDir = join(root, "client");
const distDir = join(clientDir, "dist");
const builtIndex = join(distDir, "index.html");
const serverOut = join(root, "build");
const builtMain = join(serverOut, "server", "main.js");
const lockDir = join(root, "node_modules", ".attune-build.lock");
const LOCK_STALE_MS = 120_000;
const JS_BUDGET_BYTES = 150 * 1024;
/** Text assets worth compressing; images other than SVG are compressed already. */
const COMPRESSIBLE = /\.(js|mjs|css|svg|html|json|txt|map)$/;
/** Below this, a compressed copy saves less than its own request overhead. */
const MIN_COMPRESS_BYTES = 1024;
const force = process.argv.includes("--force");

/** Newest modification time (ms) of any file under `dir`, skipping the excluded folders. */
function newestMtime(dir, excluded = []) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (excluded.includes(path)) continue;
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, excluded));
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : 0);

function clientStale() {
  if (!existsSync(join(clientDir, "vite.config.ts"))) return false;
  if (force || !existsSync(builtIndex)) return true;
  const sources = Math.max(
    newestMtime(clientDir, [distDir, join(clientDir, "headless")]),
    newestMtime(join(root, "shared")),
  );
  return sources > statSync(builtIndex).mtimeMs;
}

function serverStale() {
  if (force || !existsSync(builtMain)) return true;
  const sources = Math.max(
    newestMtime(join(root, "server")),
    newestMtime(join(root, "shared")),
    mtime(join(root, "tsconfig.json")),
    mtime(join(root, "tsconfig.build.json")),
  );
  return sources > statSync(builtMain).mtimeMs;
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

/**
 * Writes name.br (brotli, best quality) and name.gz (gzip -9) beside every text asset, once at build time, so the
 * server never compresses per request: it picks the copy the browser accepts (server/static.ts).
 */
function precompress(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      precompress(path);
      continue;
    }
    if (!COMPRESSIBLE.test(entry.name)) continue;
    const data = readFileSync(path);
    if (data.length < MIN_COMPRESS_BYTES) continue;
    const br = brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      },
    });
    const gz = gzipSync(data, { level: 9 });
    if (br.length < data.length) writeFileSync(`${path}.br`, br);
    if (gz.length < data.length) writeFileSync(`${path}.gz`, gz);
  }
}

function run(what, args) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`${what}: build failed`);
    process.exitCode = result.status ?? 1;
    return false;
  }
  return true;
}

function buildClient() {
  console.log("client: building (sources changed since the last build)");
  const vite = join(root, "node_modules", "vite", "bin", "vite.js");
  if (!run("client", [vite, "build", "--config", "client/vite.config.ts", "--logLevel", "warn"])) return;
  precompress(join(distDir, "assets"));
  if (!reportSize()) process.exitCode = 1;
}

function buildServer() {
  console.log("server: compiling TypeScript into build/ (sources changed since the last build)");
  // A clean folder: a source file deleted since the last build must not linger as JavaScript.
  rmSync(serverOut, { recursive: true, force: true });
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  run("server", [tsc, "-p", "tsconfig.build.json"]);
}

if (!clientStale() && !serverStale()) process.exit(0);
lock();
try {
  // Another process may have built while we waited for the lock.
  if (clientStale()) buildClient();
  if (process.exitCode === undefined && serverStale()) buildServer();
} finally {
  rmSync(lockDir, { recursive: true, force: true });
}
