/**
 * The benchmark orchestrator (`npm run bench`). It starts each server as its own process, creates rooms over
 * REST, forks the load generator (bench/load.ts) and reads the server's CPU time and RSS from /proc and Redis'
 * INFO commandstats around a measured window. Attune and the bare relay (bench/relay-server.ts) run alternately
 * under the same load shape, and every figure is reported as a ratio Attune / relay as well.
 *
 * Modes: default (all variants, 2 rounds), --quick (under a minute), --sweep (raise R until p99 peer update
 * > 100 ms or errors), --soak[=minutes] (steady load, RSS growth). Options: --rooms=N --period=MS --window=S
 * --warmup=S --rounds=N --variants=memory,redis,redis2,nginx,cluster,memory-encrypted,redis-encrypted
 * --redis-url=URL (default: a private
 * redis-server). `nginx`: two processes behind nginx (the tested deployment template), both partners through it;
 * `cluster`: one process on a local Redis Cluster of three masters.
 * Everything listens on and connects to 127.0.0.1 only, and every wait is bounded.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createNetServer, connect as netConnect } from "node:net";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { nextMove } from "../client/headless/bot.ts";
import { NODE_NAMES, type RunningNginx, startNginx } from "../scripts/lib/nginx.ts";
import { type LocalCluster, startRedisCluster } from "../scripts/lib/redis-cluster.ts";
import { Participant } from "../client/headless/participant.ts";
import { generateSessionKeys, linksWithKeys, sealNames } from "../shared/session-crypto.ts";
import type { LoadConfig, LoadMessage, ParentMessage, RoomSpec, WindowStats } from "./load.ts";
import { median } from "./stats.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const HOST = "127.0.0.1";
const CLK_TCK = 100;

export type Variant = "memory" | "redis" | "redis2" | "nginx" | "cluster" | "memory-encrypted" | "redis-encrypted";
const VARIANT_LABEL: Record<Variant, string> = {
  "memory-encrypted": "Attune, MemoryStore, 1 process, end-to-end encrypted",
  "redis-encrypted": "Attune, RedisStore, 1 process, end-to-end encrypted",
  nginx: "Attune, RedisStore, 2 processes behind nginx",
  cluster: "Attune, RedisStore on a 3-master Redis Cluster, 1 process",
  memory: "Attune, MemoryStore, 1 process",
  redis: "Attune, RedisStore, 1 process",
  redis2: "Attune, RedisStore, 2 processes",
};

/** An encrypted variant runs its base variant's deployment; only the rooms differ (sealed texts, keyed links). */
function deploymentOf(variant: Variant | "relay"): Variant | "relay" {
  if (variant === "memory-encrypted") return "memory";
  if (variant === "redis-encrypted") return "redis";
  return variant;
}

function encryptedVariant(variant: Variant | "relay"): boolean {
  return variant === "memory-encrypted" || variant === "redis-encrypted";
}

interface Options {
  mode: "standard" | "quick" | "sweep" | "soak";
  rooms: number;
  periodMs: number;
  warmupMs: number;
  windowMs: number;
  rounds: number;
  variants: Variant[];
  redisUrl?: string;
  soakMinutes: number;
  /** Sweep upper bound on rooms. */
  sweepMax: number;
  /** Start the Attune processes with --cpu-prof and summarise where their CPU time went. */
  profile: boolean;
  /** Watch MONITOR at the start of each window to tell round trips from script-internal commands. */
  monitor: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    mode: "standard",
    rooms: 2000,
    periodMs: 2000,
    warmupMs: 10_000,
    windowMs: 30_000,
    rounds: 2,
    variants: ["memory", "redis", "redis2"],
    soakMinutes: 10,
    sweepMax: 6000,
    profile: false,
    monitor: true,
  };
  const set: Record<string, string> = {};
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg} (see the header of bench/run.ts)`);
    set[m[1]!] = m[2] ?? "";
  }
  const num = (name: string, min: number, max: number): number | undefined => {
    if (set[name] === undefined) return undefined;
    const n = Number(set[name]);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in ${min}..${max}`);
    return n;
  };
  if ("quick" in set) {
    Object.assign(opts, { mode: "quick", rooms: 100, periodMs: 500, warmupMs: 1000, windowMs: 2500, rounds: 1 });
  }
  if ("sweep" in set) Object.assign(opts, { mode: "sweep", variants: ["redis"], warmupMs: 5000, windowMs: 15_000 });
  if ("soak" in set) {
    opts.mode = "soak";
    opts.soakMinutes = set.soak ? Number(set.soak) : 10;
    if (!(opts.soakMinutes > 0 && opts.soakMinutes <= 240)) throw new Error("--soak=MINUTES must be in (0, 240]");
    Object.assign(opts, { rooms: 500, variants: ["redis"], warmupMs: 10_000 });
  }
  opts.rooms = num("rooms", 1, 20_000) ?? opts.rooms;
  opts.periodMs = num("period", 10, 60_000) ?? opts.periodMs;
  opts.windowMs = (num("window", 1, 3600) ?? opts.windowMs / 1000) * 1000;
  opts.warmupMs = (num("warmup", 0, 600) ?? opts.warmupMs / 1000) * 1000;
  opts.rounds = num("rounds", 1, 10) ?? opts.rounds;
  opts.sweepMax = num("sweep-max", 10, 20_000) ?? opts.sweepMax;
  opts.profile = "profile" in set;
  opts.monitor = !("no-monitor" in set);
  if (set.variants !== undefined) {
    const list = set.variants.split(",").filter(Boolean);
    for (const v of list) if (!(v in VARIANT_LABEL)) throw new Error(`unknown variant ${v}`);
    opts.variants = list as Variant[];
  }
  if (set["redis-url"]) {
    const url = new URL(set["redis-url"]);
    if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") throw new Error("--redis-url must be local");
    opts.redisUrl = set["redis-url"];
  }
  return opts;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every process the bench started and has not yet seen exit: none may outlive the bench. */
const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function stopChildrenAndExit(code: number): void {
  for (const child of children) child.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const child of children) child.kill("SIGKILL");
    process.exit(code);
  }, 3000);
  timer.unref();
  const check = setInterval(() => {
    if (children.size === 0) process.exit(code);
  }, 50);
  check.unref();
}

process.once("SIGINT", () => stopChildrenAndExit(130));
process.once("SIGTERM", () => stopChildrenAndExit(143));
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once("error", reject);
    srv.listen(0, HOST, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect(port, HOST);
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listened on ${HOST}:${port} within ${timeoutMs} ms`);
}

// ---------------------------------------------------------------------------------------------------------
// Processes and /proc

interface ServerProc {
  child: ChildProcess;
  port: number;
  origin: string;
  stderr: string[];
}

function keepTail(lines: string[], chunk: Buffer): void {
  lines.push(chunk.toString());
  if (lines.length > 50) lines.splice(0, lines.length - 50);
}

async function startProcess(
  script: string,
  env: NodeJS.ProcessEnv,
  readyPath?: string,
  nodeArgs: string[] = [],
): Promise<ServerProc> {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, [...nodeArgs, "--import", "tsx", script], {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: String(port), HOST },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  const stderr: string[] = [];
  child.stdout?.on("data", () => {});
  child.stderr?.on("data", (c: Buffer) => keepTail(stderr, c));
  const proc = { child, port, origin: `http://${HOST}:${port}`, stderr };
  try {
    await waitForPort(port, 30_000, child);
    if (readyPath) {
      const end = Date.now() + 15_000;
      for (;;) {
        const res = await fetch(`${proc.origin}${readyPath}`).catch(() => null);
        if (res?.ok) break;
        if (Date.now() > end) throw new Error(`${readyPath} did not answer 200 within 15 s`);
        await sleep(100);
      }
    }
  } catch (err) {
    await stopProcess(proc);
    throw new Error(`${script}: ${(err as Error).message}\n${stderr.join("").slice(-2000)}`);
  }
  return proc;
}

async function stopProcess(proc: { child: ChildProcess }): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), 5000);
    }),
  ]);
  clearTimeout(timer);
  if (!killed) {
    child.kill("SIGKILL");
    await exited;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at field 3; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The whole machine's CPU time so far, all cores, in clock ticks (/proc/stat): all of it, idle, and stolen. */
interface HostCpu {
  total: number;
  idle: number;
  /** Time a hypervisor gave to someone else while this machine wanted to run. */
  steal: number;
}

function hostCpu(): HostCpu {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const parts = [user, nice, system, idle, iowait, irq, softirq, steal].map((v) => v ?? 0);
  return { total: parts.reduce((x, y) => x + y, 0), idle: (idle ?? 0) + (iowait ?? 0), steal: steal ?? 0 };
}

/** Resident set size in bytes, from /proc/<pid>/status. */
function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------------------
// Redis

interface RedisHandle {
  url: string;
  /** Private: started by the bench, nothing else uses it. Shared: other clients' commands count too. */
  kind: "private" | "shared";
  stop(): Promise<void>;
}

async function startPrivateRedis(): Promise<RedisHandle> {
  const port = await freePort();
  const child = track(
    spawn(
      "redis-server",
      ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--maxclients", "1000"],
      { stdio: ["ignore", "ignore", "pipe"] },
    ),
  );
  const failed = new Promise<never>((_, reject) => child.once("error", reject));
  await Promise.race([waitForPort(port, 10_000, child), failed]);
  return { url: `redis://${HOST}:${port}`, kind: "private", stop: () => stopProcess({ child }) };
}

async function pingRedis(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/**
 * The Redis the bench counts commands on: --redis-url, else a private redis-server, else (with a warning, since
 * other clients' commands then count too) the local REDIS_URL; null when there is none.
 */
async function benchRedis(opts: Options): Promise<RedisHandle | null> {
  if (opts.redisUrl) return { url: opts.redisUrl, kind: "shared", stop: async () => {} };
  try {
    return await startPrivateRedis();
  } catch (err) {
    const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    const host = new URL(url).hostname;
    if ((host === "127.0.0.1" || host === "localhost") && (await pingRedis(url))) {
      log(
        `could not start a private redis-server (${(err as Error).message}); using ${url}, shared: its commandstats include other clients`,
      );
      return { url, kind: "shared", stop: async () => {} };
    }
    log(`no Redis available (${(err as Error).message}): the Redis variants are skipped`);
    return null;
  }
}

async function commandStats(url: string): Promise<{ calls: Record<string, number>; usedMemory: number }> {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  try {
    const stats = await client.info("commandstats");
    const memory = await client.info("memory");
    const calls: Record<string, number> = {};
    for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]!] = Number(m[2]);
    const used = /^used_memory:(\d+)/m.exec(memory);
    return { calls, usedMemory: used ? Number(used[1]) : Number.NaN };
  } finally {
    await client.quit().catch(() => {});
  }
}

/** Commands of the Socket.IO adapter (fan-out between processes), as opposed to the session store's. */
const FANOUT_COMMANDS = new Set(["xadd", "xread", "xrange", "publish", "pubsub|numsub", "subscribe", "psubscribe"]);

interface MonitorSample {
  /** Per command: calls a client sent (a round trip each) and calls made inside a Lua script (no round trip). */
  client: Record<string, number>;
  script: Record<string, number>;
}

/**
 * Watches MONITOR for `ms` to tell round trips from commands run inside Lua scripts, which commandstats
 * counts alike. MONITOR slows Redis a lot, so it runs after the measured window, under the same load.
 */
async function monitorSample(url: string, ms: number): Promise<MonitorSample> {
  const sample: MonitorSample = { client: {}, script: {} };
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  try {
    await client.monitor((line: string) => {
      const m = /^\S+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
      if (!m) return;
      const bucket = m[1] === "lua" ? sample.script : sample.client;
      const cmd = m[2]!.toLowerCase();
      bucket[cmd] = (bucket[cmd] ?? 0) + 1;
    });
    await sleep(ms);
  } finally {
    client.destroy();
  }
  return sample;
}

// ---------------------------------------------------------------------------------------------------------
// Rooms

/**
 * Creates `count` rooms. Encrypted rooms are made as a browser makes them: keys here, names sealed, links keyed
 * (the participants then seal and open every text); the others are explicitly unencrypted, words in clear.
 */
async function createRooms(origin: string, count: number, encrypted = false): Promise<{ a: string; b: string }[]> {
  const links: { a: string; b: string }[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      for (let attempt = 0; ; attempt++) {
        const keys = encrypted ? await generateSessionKeys() : undefined;
        const names = keys ? await sealNames(keys, { a: "Sam", b: "Alex" }) : { a: "Sam", b: "Alex" };
        const res = await fetch(`${origin}/api/sessions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            mode: "guided",
            channel: "typed",
            agenda: ["speaker-listener"],
            names,
            encrypted,
          }),
        });
        if (res.status === 201) {
          const body = (await res.json()) as { links: { a: string; b: string } };
          links[i] = keys ? linksWithKeys(body.links, keys, "guided") : body.links;
          break;
        }
        if (res.status === 429 && attempt < 20) {
          await sleep(250);
          continue;
        }
        throw new Error(`POST /api/sessions answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, count) }, worker));
  return links;
}

/** The same link, pointed at another process of the same deployment. */
function onOrigin(link: string, origin: string): string {
  const url = new URL(link);
  // The fragment (an encrypted room's keys) stays with the link.
  return `${origin}${url.pathname}${url.hash}`;
}

// ---------------------------------------------------------------------------------------------------------
// One run

export interface RunResult {
  target: "relay" | "attune";
  variant: Variant | "relay";
  label: string;
  rooms: number;
  periodMs: number;
  processes: number;
  stats: WindowStats;
  server: {
    /** Server CPU seconds in the measured window (all server processes). */
    cpuSeconds: number;
    /** Server CPU milliseconds per applied command (relay: per relayed event). */
    cpuMsPerCommand: number;
    /** Server CPU use while rooms are connected but quiet, percent of one core. */
    idleCpuPercent: number;
    rssBaseMB: number;
    rssIdleMB: number;
    rssLoadMB: number;
    /** (RSS under load - RSS before any room) / rooms. */
    rssPerRoomKB: number;
    /** (RSS idle with rooms connected - RSS before any room) / rooms. */
    rssPerIdleRoomKB: number;
  };
  redis?: {
    /** Every command Redis executed (commandstats), per applied command, including those inside Lua scripts. */
    callsPerApplied: number;
    /** Commands sent by a client (each a network round trip), per applied command: all, and the store's alone. */
    roundTripsPerApplied: number;
    storeRoundTripsPerApplied: number;
    fanoutRoundTripsPerApplied: number;
    breakdownPerApplied: Record<string, number>;
    usedMemoryPerRoomKB: number;
  };
  joinMs: number;
  progress?: {
    atMs: number;
    rssMB: number;
    cpuSeconds: number;
    stats: WindowStats;
    readings?: SoakReadings;
    /** The machine's CPU and the load generator's, to tell a slower server from a busier machine. */
    host?: HostCpu;
    loadCpuSeconds?: number;
  }[];
  /** With --profile: where the server's CPU time went (self time), by area and by function. */
  profile?: ProfileSummary;
}

interface RunSpec {
  target: "relay" | "attune";
  variant: Variant | "relay";
  rooms: number;
  periodMs: number;
  warmupMs: number;
  windowMs: number;
  redisUrl?: string;
  progressEveryMs?: number;
  /** How long the idle CPU is sampled with rooms connected and quiet (ms). */
  idleSampleMs: number;
  /** When set, Attune runs with --cpu-prof writing here. */
  profileDir?: string;
  monitor?: boolean;
  /** The cluster variant's nodes (redis:// URLs). */
  clusterUrls?: string[];
  /** Soak: read the server's own metrics (GET /metrics) and Redis' CPU and call times at every progress sample. */
  readings?: boolean;
}

/**
 * Totals read at one soak sample, to tell where time goes as rooms age: the server's own view (command time from
 * arrival to ack, store round trips, garbage collection, event-loop delay) and Redis' (CPU, time inside commands).
 */
interface SoakReadings {
  /** Applied commands: count and summed seconds from arrival to acknowledgement (prom-client histogram). */
  commands: { count: number; seconds: number };
  /** The store's compare-and-set of a command ("update"): count and summed seconds. */
  storeUpdates: { count: number; seconds: number };
  /** Seconds spent in garbage collection so far, all kinds. */
  gcSeconds: number;
  /** Event-loop delay p99 since the previous scrape (prom-client resets it at each), seconds. */
  eventLoopP99: number;
  /** The server's V8 heap in use, bytes (what RSS holds that is live JavaScript). */
  heapUsedBytes: number;
  /** Redis: CPU seconds (user + system) and microseconds spent inside commands, all commands. */
  redisCpuSeconds: number;
  redisUsec: number;
  redisUsedMemory: number;
}

/** The value of one Prometheus sample line (`name{labels} value`), summed over lines whose labels include `match`. */
function promSum(text: string, name: string, match = ""): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})?\s+([-+0-9.eE]+|NaN)$/.exec(line);
    if (!m || m[1] !== name || !(m[2] ?? "").includes(match)) continue;
    total += Number(m[3]);
  }
  return total;
}

async function readSoak(origin: string, token: string, redisUrl: string | undefined): Promise<SoakReadings> {
  const res = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  const out: SoakReadings = {
    commands: {
      count: promSum(text, "attune_command_duration_seconds_count", 'result="applied"'),
      seconds: promSum(text, "attune_command_duration_seconds_sum", 'result="applied"'),
    },
    storeUpdates: {
      count: promSum(text, "attune_store_call_duration_seconds_count", 'op="update"'),
      seconds: promSum(text, "attune_store_call_duration_seconds_sum", 'op="update"'),
    },
    gcSeconds: promSum(text, "nodejs_gc_duration_seconds_sum"),
    eventLoopP99: promSum(text, "nodejs_eventloop_lag_p99_seconds"),
    heapUsedBytes: promSum(text, "nodejs_heap_size_used_bytes"),
    redisCpuSeconds: Number.NaN,
    redisUsec: Number.NaN,
    redisUsedMemory: Number.NaN,
  };
  if (redisUrl) {
    const client = createClient({ url: redisUrl, socket: { reconnectStrategy: false } });
    client.on("error", () => {});
    await client.connect();
    try {
      const cpu = await client.info("cpu");
      const stats = await client.info("commandstats");
      const memory = await client.info("memory");
      const num = (re: RegExp, t: string) => Number(re.exec(t)?.[1] ?? Number.NaN);
      out.redisCpuSeconds = num(/^used_cpu_sys:([0-9.]+)/m, cpu) + num(/^used_cpu_user:([0-9.]+)/m, cpu);
      let usec = 0;
      for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm))
        if (m[1] !== "info") usec += Number(m[2]);
      out.redisUsec = usec;
      out.redisUsedMemory = num(/^used_memory:(\d+)/m, memory);
    } finally {
      await client.quit().catch(() => {});
    }
  }
  return out;
}

async function withLoad(
  config: LoadConfig,
  hooks: {
    onJoined(joinMs: number): Promise<void>;
    onWindowStart(): Promise<void>;
    /** A progress sample; `loadPid` is the load generator's process. */
    onProgress?(atMs: number, stats: WindowStats, loadPid: number | undefined): void;
    /** Runs as soon as the window closes, before the load generator disconnects its sockets. */
    onWindowEnd(): Promise<void>;
  },
): Promise<WindowStats> {
  const child = track(
    fork(join(ROOT, "bench/load.ts"), [], {
      cwd: ROOT,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  const post = (msg: ParentMessage) => child.send(msg);
  const limitMs = config.warmupMs + config.durationMs + 10 * 60_000;
  try {
    return await new Promise<WindowStats>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("load generator did not finish in time")), limitMs);
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`load generator exited (${code}) before reporting`));
      });
      child.on("message", (msg: LoadMessage) => {
        const handle = async () => {
          if (msg.type === "joined") {
            await hooks.onJoined(msg.joinMs);
            post({ type: "go" });
          } else if (msg.type === "window-start") {
            await hooks.onWindowStart();
          } else if (msg.type === "progress") {
            hooks.onProgress?.(msg.atMs, msg.stats, child.pid);
          } else if (msg.type === "window-end") {
            clearTimeout(timer);
            await hooks.onWindowEnd();
            resolve(msg.stats);
          } else if (msg.type === "error") {
            clearTimeout(timer);
            reject(new Error(`load generator: ${msg.message}`));
          }
        };
        handle().catch((err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
      });
      post({ type: "config", config });
    });
  } finally {
    if (child.connected) post({ type: "stop" });
    if (child.exitCode === null) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise((r) => child.once("exit", r)),
        new Promise((r) => {
          timer = setTimeout(r, 10_000);
        }),
      ]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }
}

export interface ProfileSummary {
  files: string[];
  byArea: { area: string; percent: number }[];
  byFunction: { fn: string; percent: number }[];
}

interface CpuProfile {
  nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
}

/** Where a script lives, in words: a package, one of our folders, Node itself, or V8's own bookkeeping. */
function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return "node internals";
  const ours = /\/(server|shared|client)\/(.*)$/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]!.split("/")[0]}`;
  return url;
}

/** Self-time summary of the .cpuprofile files Attune wrote into `dir`. */
function summariseProfiles(dir: string): ProfileSummary | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  } catch {
    return undefined;
  }
  if (files.length === 0) return undefined;
  const area = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0;
      if (!hits) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === "(idle)") continue;
      total += hits;
      const a = areaOf(url, functionName);
      area.set(a, (area.get(a) ?? 0) + hits);
      const where = url
        ? `${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(server|shared|client)\//, "$1/")}:${lineNumber + 1}`
        : "";
      const key = `${functionName || "(anonymous)"} ${where}`.trim();
      fns.set(key, (fns.get(key) ?? 0) + hits);
    }
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, n)
      .map(([k, v]) => ({ k, percent: Math.round((v / Math.max(1, total)) * 1000) / 10 }));
  return {
    files: files.map((f) => join(dir, f)),
    byArea: top(area, 12).map(({ k, percent }) => ({ area: k, percent })),
    byFunction: top(fns, 20).map(({ k, percent }) => ({ fn: k, percent })),
  };
}

async function runOnce(spec: RunSpec): Promise<RunResult> {
  const result = await runOnceInner(spec);
  if (spec.profileDir && spec.target === "attune") {
    const profile = summariseProfiles(spec.profileDir);
    if (profile) result.profile = profile;
  }
  return result;
}

async function runOnceInner(spec: RunSpec): Promise<RunResult> {
  const servers: ServerProc[] = [];
  const metricsToken = randomBytes(24).toString("hex");
  let nginx: RunningNginx | undefined;
  const prefix = `bench:${randomBytes(4).toString("hex")}:`;
  // Server RSS before any room exists: a room's cost is what it adds to this.
  let rssBeforeRooms = 0;
  try {
    let roomSpecs: RoomSpec[];
    if (spec.target === "relay") {
      servers.push(await startProcess("bench/relay-server.ts", {}));
      roomSpecs = Array.from({ length: spec.rooms }, (_, i) => ({
        kind: "relay" as const,
        a: servers[0]!.origin,
        b: servers[0]!.origin,
        room: `room-${i}`,
      }));
    } else {
      const env: NodeJS.ProcessEnv = {
        LOG_LEVEL: "warn",
        NODE_ENV: "production",
        // The per-socket rate limit stays at its default unless a short --period would trip it.
        COMMANDS_PER_10S: String(Math.max(40, Math.ceil(20_000 / spec.periodMs))),
        SESSIONS_PER_HOUR: "1000000", // every bench room is created from this one address
      };
      if (spec.variant === "cluster") {
        Object.assign(env, {
          REDIS_URL: "",
          REDIS_CLUSTER_NODES: (spec.clusterUrls ?? []).join(","),
          REDIS_PREFIX: prefix,
        });
      } else if (deploymentOf(spec.variant) !== "memory") {
        Object.assign(env, { REDIS_URL: spec.redisUrl, REDIS_PREFIX: prefix });
      } else env.REDIS_URL = "";
      if (spec.readings) env.METRICS_TOKEN = metricsToken;
      const count = spec.variant === "redis2" || spec.variant === "nginx" ? 2 : 1;
      const nodeArgs = spec.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${spec.profileDir}`] : [];
      for (let i = 0; i < count; i++) {
        const named = spec.variant === "nginx" ? { ...env, NODE_NAME: NODE_NAMES[i]! } : env;
        servers.push(await startProcess("server/main.ts", named, "/readyz", nodeArgs));
      }
      rssBeforeRooms = sum(servers.map((s) => rssBytes(s.child.pid!)));
      if (spec.variant === "nginx") {
        nginx = await startNginx(servers.map((s) => `${HOST}:${s.port}`));
        const links = await createRooms(nginx.url, spec.rooms, encryptedVariant(spec.variant));
        roomSpecs = links.map((l) => ({ kind: "attune" as const, a: l.a, b: l.b }));
      } else {
        const links = await createRooms(servers[0]!.origin, spec.rooms, encryptedVariant(spec.variant));
        const other = servers[servers.length - 1]!.origin;
        roomSpecs = links.map((l) => ({ kind: "attune" as const, a: l.a, b: onOrigin(l.b, other) }));
      }
    }
    const pids = servers.map((s) => s.child.pid!);
    const cpu = () => sum(pids.map(cpuSeconds));
    const rss = () => sum(pids.map(rssBytes));
    if (spec.target === "relay") rssBeforeRooms = rss();
    let rssIdle = 0;
    let idleCpuPercent = 0;
    let cpuStart = 0;
    let redisStart: Awaited<ReturnType<typeof commandStats>> | null = null;
    let monitoring: Promise<MonitorSample> | null = null;
    let redisEnd: Awaited<ReturnType<typeof commandStats>> | null = null;
    let cpuSpent = 0;
    let rssLoad = 0;
    let joinMs = 0;
    const progress: NonNullable<RunResult["progress"]> = [];
    const readingsDue: Promise<void>[] = [];
    const stats = await withLoad(
      {
        rooms: roomSpecs,
        periodMs: spec.periodMs,
        warmupMs: spec.warmupMs,
        durationMs: spec.windowMs,
        joinConcurrency: 50,
        progressEveryMs: spec.progressEveryMs ?? 0,
        ackTimeoutMs: 10_000,
      },
      {
        onJoined: async (ms) => {
          joinMs = ms;
          // Let the joins settle (presence updates) before calling the server idle.
          await sleep(spec.idleSampleMs / 2);
          const c0 = cpu();
          const t0 = performance.now();
          await sleep(spec.idleSampleMs);
          idleCpuPercent = ((cpu() - c0) / ((performance.now() - t0) / 1000)) * 100;
          rssIdle = rss();
        },
        onWindowStart: async () => {
          cpuStart = cpu();
          if (
            spec.redisUrl &&
            deploymentOf(spec.variant) !== "memory" &&
            spec.variant !== "cluster" &&
            spec.target === "attune"
          ) {
            redisStart = await commandStats(spec.redisUrl);
          }
        },
        onProgress: (atMs, s, loadPid) => {
          const sample: (typeof progress)[number] = {
            atMs,
            rssMB: rss() / 2 ** 20,
            cpuSeconds: cpu(),
            stats: s,
            host: hostCpu(),
            ...(loadPid ? { loadCpuSeconds: cpuSeconds(loadPid) } : {}),
          };
          progress.push(sample);
          if (spec.readings && spec.target === "attune" && servers.length === 1) {
            const redisUrl = deploymentOf(spec.variant) !== "memory" ? spec.redisUrl : undefined;
            readingsDue.push(
              readSoak(servers[0]!.origin, metricsToken, redisUrl).then(
                (r) => {
                  sample.readings = r;
                },
                (err: Error) => log(`soak readings failed: ${err.message}`),
              ),
            );
          }
        },
        onWindowEnd: async () => {
          cpuSpent = cpu() - cpuStart;
          rssLoad = rss();
          if (redisStart && spec.redisUrl) {
            redisEnd = await commandStats(spec.redisUrl);
            // MONITOR slows Redis down a lot: it watches the same load only after the measured window.
            if (spec.monitor) monitoring = monitorSample(spec.redisUrl, 2000);
            await monitoring;
          }
        },
      },
    );
    await Promise.all(readingsDue);
    let redis: RunResult["redis"];
    if (redisStart && redisEnd) {
      const before: Awaited<ReturnType<typeof commandStats>> = redisStart;
      const after: Awaited<ReturnType<typeof commandStats>> = redisEnd;
      // Without a MONITOR sample, round trips cannot be told from script-internal calls: they stay unknown (NaN).
      const sample: MonitorSample | null = monitoring ? await (monitoring as Promise<MonitorSample>) : null;
      const applied = Math.max(1, stats.applied);
      const breakdown: Record<string, number> = {};
      let total = 0;
      let store = 0;
      let fanout = 0;
      for (const [cmd, calls] of Object.entries(after.calls)) {
        // Our own INFO and MONITOR calls are not the server's.
        if (cmd === "info" || cmd === "monitor") continue;
        const delta = calls - (before.calls[cmd] ?? 0);
        if (delta <= 0) continue;
        total += delta;
        breakdown[cmd] = delta / applied;
        const fromClient = sample?.client[cmd] ?? 0;
        const fromScript = sample?.script[cmd] ?? 0;
        let share = fromClient + fromScript > 0 ? fromClient / (fromClient + fromScript) : 1;
        if (!sample) share = Number.NaN;
        if (FANOUT_COMMANDS.has(cmd)) fanout += delta * share;
        else store += delta * share;
      }
      redis = {
        callsPerApplied: total / applied,
        roundTripsPerApplied: (store + fanout) / applied,
        storeRoundTripsPerApplied: store / applied,
        fanoutRoundTripsPerApplied: fanout / applied,
        breakdownPerApplied: breakdown,
        usedMemoryPerRoomKB: after.usedMemory / 1024 / spec.rooms,
      };
    }
    const base = rssBeforeRooms;
    const result: RunResult = {
      target: spec.target,
      variant: spec.variant,
      label: spec.target === "relay" ? "Bare Socket.IO relay (baseline)" : VARIANT_LABEL[spec.variant as Variant],
      rooms: spec.rooms,
      periodMs: spec.periodMs,
      processes: servers.length,
      stats,
      server: {
        cpuSeconds: cpuSpent,
        cpuMsPerCommand: (cpuSpent * 1000) / Math.max(1, stats.applied),
        idleCpuPercent,
        rssBaseMB: base / 2 ** 20,
        rssIdleMB: rssIdle / 2 ** 20,
        rssLoadMB: rssLoad / 2 ** 20,
        rssPerRoomKB: (rssLoad - base) / 1024 / spec.rooms,
        rssPerIdleRoomKB: (rssIdle - base) / 1024 / spec.rooms,
      },
      joinMs,
    };
    if (redis) result.redis = redis;
    if (progress.length) result.progress = progress;
    return result;
  } finally {
    await nginx?.stop();
    await Promise.all(servers.map(stopProcess));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reports

function machine() {
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

const f = (x: number | undefined, digits = 1) =>
  x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits).replace(/\.0+$/, "");

interface Pairing {
  variant: Variant;
  attune: RunResult[];
  relay: RunResult[];
}

function ratios(p: Pairing) {
  const med = (rs: RunResult[], pick: (r: RunResult) => number) => median(rs.map(pick));
  const m = (pick: (r: RunResult) => number) => ({ attune: med(p.attune, pick), relay: med(p.relay, pick) });
  return {
    peerP50: m((r) => r.stats.peer.p50),
    peerP99: m((r) => r.stats.peer.p99),
    ackP99: m((r) => r.stats.ack.p99),
    cpuMs: m((r) => r.server.cpuMsPerCommand),
    perRoomKB: m((r) => r.server.rssPerRoomKB),
    appliedPerSec: m((r) => r.stats.appliedPerSec),
  };
}

function markdown(report: BenchReport): string {
  const mc = report.machine;
  const lines: string[] = [];
  lines.push(
    `Bench (${report.mode}) ${report.finishedAt}: ${mc.cores} cores (${mc.cpuModel}), ${mc.memoryGB} GB, Node ${mc.node}, ${mc.platform}.`,
  );
  if (report.redis === "shared") {
    lines.push("Redis was shared with other clients: the Redis figures include their commands.");
  }
  lines.push("");
  if (report.runs.length) {
    lines.push(
      "| run | rooms | cmd/s | ack p50/p99 ms | peer p50/p95/p99/max ms | errors | CPU ms/cmd | RSS/room KB (idle/load) | bytes/update mean (p99) | Redis round trips/cmd: store + fan-out (all calls) |",
    );
    lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of report.runs) {
      const s = r.stats;
      const errors = s.timeouts + s.disconnects + sum(Object.values(s.refused));
      lines.push(
        `| ${r.label} | ${r.rooms} | ${f(s.appliedPerSec)} | ${f(s.ack.p50, 2)} / ${f(s.ack.p99, 2)} | ${f(s.peer.p50, 2)} / ${f(s.peer.p95, 2)} / ${f(s.peer.p99, 2)} / ${f(s.peer.max, 1)} | ${errors} | ${f(r.server.cpuMsPerCommand, 3)} | ${f(r.server.rssPerIdleRoomKB)} / ${f(r.server.rssPerRoomKB)} | ${s.updateBytes ? `${s.updateBytes.mean} (${s.updateBytes.p99})` : "–"} | ${r.redis ? `${f(r.redis.storeRoundTripsPerApplied, 2)} + ${f(r.redis.fanoutRoundTripsPerApplied, 2)} (${f(r.redis.callsPerApplied, 1)})` : "–"} |`,
      );
    }
    lines.push("");
  }
  if (report.pairings.length) {
    lines.push("Ratios Attune / relay (medians over rounds, each Attune run next to a relay run):");
    lines.push("");
    lines.push("| variant | peer p50 | peer p99 | ack p99 | CPU per command | RSS per room |");
    lines.push("|---|---:|---:|---:|---:|---:|");
    for (const p of report.pairings) {
      const r = ratios(p);
      const q = (x: { attune: number; relay: number }) => `${f(x.attune / x.relay, 2)}×`;
      lines.push(
        `| ${VARIANT_LABEL[p.variant]} | ${q(r.peerP50)} | ${q(r.peerP99)} | ${q(r.ackP99)} | ${q(r.cpuMs)} | ${q(r.perRoomKB)} |`,
      );
    }
    lines.push("");
  }
  if (report.updateSize) {
    const u = report.updateSize;
    lines.push(
      `Update size (${u.store}, one room of typed speaker–listener turns): ${u.early} bytes per update frame over turns 10–19, ${u.late} over turns 300–309 (${u.late >= u.early ? "+" : ""}${f(((u.late - u.early) / u.early) * 100, 1)} %).`,
    );
    lines.push("");
  }
  if (report.encryptedUpdateSize) {
    const e = report.encryptedUpdateSize;
    const plain = report.updateSize;
    const ratio = plain ? ` (${f(e.early / plain.early, 2)}x the cleartext room's)` : "";
    lines.push(
      `Update size, end-to-end encrypted (${e.store}, the same turns, every text sealed): ${e.early} bytes per update frame over turns 10–19${ratio}, ${e.late} over turns 300–309.`,
    );
    lines.push("");
  }
  if (report.targets.length) {
    lines.push("Targets:");
    lines.push("");
    for (const t of report.targets) lines.push(`- ${t.met ? "met" : "MISSED"}: ${t.name} — measured ${t.measured}`);
    lines.push("");
  }
  for (const r of report.runs) {
    if (!r.profile) continue;
    lines.push(`Profile of ${r.label}, ${r.rooms} rooms (self time, whole process life):`);
    lines.push("");
    lines.push(`- by area: ${r.profile.byArea.map((a) => `${a.area} ${a.percent}%`).join(", ")}`);
    lines.push(
      `- top functions: ${r.profile.byFunction
        .slice(0, 10)
        .map((x) => `${x.fn} ${x.percent}%`)
        .join("; ")}`,
    );
    lines.push("");
  }
  if (report.sweep) {
    lines.push(
      `Sweep (${VARIANT_LABEL[report.sweep.variant]}): largest R that held (p99 peer <= 100 ms, no errors): **${report.sweep.largestHeld ?? "none"}**`,
    );
    lines.push("");
    lines.push("| rooms | peer p99 ms | errors | cmd/s |");
    lines.push("|---:|---:|---:|---:|");
    for (const s of report.sweep.steps)
      lines.push(`| ${s.rooms} | ${f(s.peerP99, 2)} | ${s.errors} | ${f(s.appliedPerSec)} |`);
    lines.push("");
  }
  if (report.soak) {
    const s = report.soak;
    lines.push(
      `Soak (${VARIANT_LABEL[s.variant]}, ${s.rooms} rooms, ${s.minutes} min): RSS ${f(s.rssStartMB)} MB -> ${f(s.rssEndMB)} MB (growth ${f(s.rssGrowthMB)} MB, ${f(s.rssGrowthPerRoomKB)} KB/room; trend ${f(s.rssSlopeMBPerMin, 2)} MB/min), errors ${s.errors}, peer p99 ${f(s.peerP99, 2)} ms.`,
    );
    lines.push("");
    if (s.flat) {
      const ok = (pct: number) => (Math.abs(pct) <= 10 ? "met" : "MISSED");
      lines.push(
        `- ${ok(s.flat.rssChangePct)}: RSS flat after warm-up (within 10 % from minute 5 to the end) — ${f(s.flat.rss5MB)} MB -> ${f(s.flat.rssEndMB)} MB (${f(s.flat.rssChangePct, 1)} %)`,
      );
      lines.push(
        `- ${ok(s.flat.p99ChangePct)}: p99 peer update flat (interval p99, within 10 %) — ${f(s.flat.p99At5, 2)} ms -> ${f(s.flat.p99End, 2)} ms (${f(s.flat.p99ChangePct, 1)} %)`,
      );
      lines.push(`- ${s.errors === 0 ? "met" : "MISSED"}: 0 errors — ${s.errors}`);
      lines.push("");
    }
    lines.push(
      "| minute | RSS MB | interval p99 ms | server CPU ms per command (interval) | load generator's event-loop delay p99 ms | load generator CPU % of a core | machine busy % (all cores) | stolen by the host % |",
    );
    lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const p of s.samples)
      lines.push(
        `| ${f(p.minute)} | ${f(p.rssMB)} | ${f(p.intervalPeerP99, 2)} | ${f(p.cpuMsPerCommand ?? Number.NaN, 3)} | ${f(p.loadLagP99, 2)} | ${f(p.loadCpuPct ?? Number.NaN, 1)} | ${f(p.hostBusyPct ?? Number.NaN, 1)} | ${f(p.hostStealPct ?? Number.NaN, 1)} |`,
      );
    lines.push("");
    if (s.samples.some((p) => p.commandMeanMs !== undefined)) {
      const n = (v: number | undefined, digits = 2) => f(v ?? Number.NaN, digits);
      lines.push(
        "Where the time goes, per interval: the server's own metrics (command arrival to ack, the store's compare-and-set, garbage collection, event-loop delay) and Redis' INFO (CPU and time inside commands, per applied command).",
      );
      lines.push("");
      lines.push(
        "| minute | command mean ms | store update mean ms | server GC ms per command | server event-loop p99 ms | server heap used MB | Redis CPU ms per command | Redis µs in commands per command | Redis MB |",
      );
      lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
      for (const p of s.samples)
        lines.push(
          `| ${f(p.minute)} | ${n(p.commandMeanMs, 3)} | ${n(p.storeUpdateMeanMs, 3)} | ${n(p.gcMsPerCommand, 3)} | ${n(p.eventLoopP99Ms)} | ${n(p.heapUsedMB, 1)} | ${n(p.redisCpuMsPerCommand, 3)} | ${n(p.redisUsecPerCommand, 1)} | ${n(p.redisUsedMemoryMB, 1)} |`,
        );
      lines.push("");
    }
  }
  return lines.join("\n");
}

/**
 * Server CPU per applied command between two soak samples (the first interval counts from nothing, so it has
 * none). Applied commands per interval are the interval's received peer updates, one per applied command.
 */
function intervalCpuMsPerCommand(
  before: { cpuSeconds: number } | undefined,
  now: { cpuSeconds: number; stats: WindowStats },
): number | undefined {
  const commands = now.stats.intervalPeer?.n ?? 0;
  if (!before || commands === 0) return undefined;
  return ((now.cpuSeconds - before.cpuSeconds) * 1000) / commands;
}

/**
 * How busy the machine was over one soak interval: all cores together (% of all of them), the share a hypervisor
 * gave to others (steal), and the load generator's own CPU (% of one core). None for the first interval.
 */
function intervalMachine(
  before: { atMs: number; host?: HostCpu; loadCpuSeconds?: number } | undefined,
  now: { atMs: number; host?: HostCpu; loadCpuSeconds?: number },
): { hostBusyPct?: number; hostStealPct?: number; loadCpuPct?: number } {
  if (!before?.host || !now.host) return {};
  const total = now.host.total - before.host.total;
  const out: { hostBusyPct?: number; hostStealPct?: number; loadCpuPct?: number } = {};
  if (total > 0) {
    out.hostBusyPct = ((total - (now.host.idle - before.host.idle)) / total) * 100;
    out.hostStealPct = ((now.host.steal - before.host.steal) / total) * 100;
  }
  const seconds = (now.atMs - before.atMs) / 1000;
  if (before.loadCpuSeconds !== undefined && now.loadCpuSeconds !== undefined && seconds > 0) {
    out.loadCpuPct = ((now.loadCpuSeconds - before.loadCpuSeconds) / seconds) * 100;
  }
  return out;
}

/** What the soak readings say about one interval (absent for the first, which has nothing to count from). */
function intervalReadings(
  before: SoakReadings | undefined,
  now: SoakReadings | undefined,
  commands: number,
): Partial<SoakInterval> {
  if (!before || !now)
    return now ? { eventLoopP99Ms: now.eventLoopP99 * 1000, heapUsedMB: now.heapUsedBytes / 2 ** 20 } : {};
  const dCommands = now.commands.count - before.commands.count;
  const dUpdates = now.storeUpdates.count - before.storeUpdates.count;
  return {
    commandMeanMs: dCommands > 0 ? ((now.commands.seconds - before.commands.seconds) * 1000) / dCommands : Number.NaN,
    storeUpdateMeanMs:
      dUpdates > 0 ? ((now.storeUpdates.seconds - before.storeUpdates.seconds) * 1000) / dUpdates : Number.NaN,
    gcMsPerCommand: commands > 0 ? ((now.gcSeconds - before.gcSeconds) * 1000) / commands : Number.NaN,
    eventLoopP99Ms: now.eventLoopP99 * 1000,
    heapUsedMB: now.heapUsedBytes / 2 ** 20,
    redisCpuMsPerCommand:
      commands > 0 ? ((now.redisCpuSeconds - before.redisCpuSeconds) * 1000) / commands : Number.NaN,
    redisUsecPerCommand: commands > 0 ? (now.redisUsec - before.redisUsec) / commands : Number.NaN,
    redisUsedMemoryMB: now.redisUsedMemory / 2 ** 20,
  };
}

/** One soak interval's diagnostics, from the server's metrics and Redis' INFO. */
interface SoakInterval {
  /** Applied commands' mean time from arrival to acknowledgement, inside the server. */
  commandMeanMs: number;
  /** The store's compare-and-set per command, mean. */
  storeUpdateMeanMs: number;
  /** Server garbage-collection time per applied command. */
  gcMsPerCommand: number;
  /** The server's event-loop delay p99 over the interval. */
  eventLoopP99Ms: number;
  /** The server's V8 heap in use at the sample. */
  heapUsedMB: number;
  redisCpuMsPerCommand: number;
  /** Time Redis spent inside commands, per applied command (µs). */
  redisUsecPerCommand: number;
  redisUsedMemoryMB: number;
}

interface BenchReport {
  mode: Options["mode"];
  /** Mean bytes per update frame early and late in one long-running room. */
  updateSize?: { store: string; early: number; late: number; byTurn: number[] };
  /** The same room end-to-end encrypted (measured when an encrypted variant ran). */
  encryptedUpdateSize?: { store: string; early: number; late: number; byTurn: number[] };
  finishedAt: string;
  machine: ReturnType<typeof machine>;
  options: Options;
  redis: "private" | "shared" | "none";
  runs: RunResult[];
  pairings: Pairing[];
  targets: { name: string; met: boolean; measured: string }[];
  sweep?: {
    variant: Variant;
    largestHeld: number | null;
    steps: { rooms: number; peerP99: number; errors: number; appliedPerSec: number }[];
  };
  soak?: {
    variant: Variant;
    rooms: number;
    minutes: number;
    rssStartMB: number;
    rssEndMB: number;
    rssGrowthMB: number;
    rssGrowthPerRoomKB: number;
    /** Trend of RSS over the soak samples (least squares), MB per minute. */
    rssSlopeMBPerMin: number;
    errors: number;
    peerP99: number;
    /** Per sample (after the warm-up): minute, RSS and the p99 of that interval alone. */
    samples: (Partial<SoakInterval> & {
      minute: number;
      rssMB: number;
      intervalPeerP99: number;
      /** Server CPU time per applied command since the previous sample: does a command cost more as rooms age? */
      cpuMsPerCommand?: number;
      loadLagP99: number;
      /** The machine over the interval: all cores busy, stolen by the host, and the load generator's CPU. */
      hostBusyPct?: number;
      hostStealPct?: number;
      loadCpuPct?: number;
    })[];
    /** RSS and interval p99 at minute 5 and at the end, and the change between them (%). */
    flat?: {
      rss5MB: number;
      rssEndMB: number;
      rssChangePct: number;
      p99At5: number;
      p99End: number;
      p99ChangePct: number;
    };
  };
}

function errorsOf(s: WindowStats): number {
  return s.timeouts + s.disconnects + sum(Object.values(s.refused));
}

function targetsFor(report: BenchReport): BenchReport["targets"] {
  const targets: BenchReport["targets"] = [];
  const p = report.pairings.find((x) => x.variant === "redis");
  if (p && p.attune.length > 0) {
    const r = ratios(p);
    const rooms = p.attune[0]!.rooms;
    const period = p.attune[0]!.periodMs;
    const calls = median(p.attune.map((x) => x.redis?.storeRoundTripsPerApplied ?? Number.NaN));
    const fanout = median(p.attune.map((x) => x.redis?.fanoutRoundTripsPerApplied ?? Number.NaN));
    const at = `${rooms} rooms, one command per room every ${period / 1000} s`;
    const p99Bound = rooms >= 5000 && period >= 10_000 ? 25 : 20;
    targets.push(
      {
        name: `RedisStore, 1 process: p99 peer update <= ${p99Bound} ms (${at})`,
        met: r.peerP99.attune <= p99Bound,
        measured: `${f(r.peerP99.attune, 2)} ms (relay ${f(r.peerP99.relay, 2)} ms)`,
      },
      {
        name: "RedisStore, 1 process: CPU per applied command <= 2x the relay's per relayed event",
        met: r.cpuMs.attune / r.cpuMs.relay <= 2,
        measured: `${f(r.cpuMs.attune, 3)} ms vs ${f(r.cpuMs.relay, 3)} ms = ${f(r.cpuMs.attune / r.cpuMs.relay, 2)}×`,
      },
      {
        name: "RedisStore, 1 process: RSS per room under load <= 1.5x the relay's",
        met: r.perRoomKB.attune / r.perRoomKB.relay <= 1.5,
        measured: `${f(r.perRoomKB.attune)} KB vs ${f(r.perRoomKB.relay)} KB = ${f(r.perRoomKB.attune / r.perRoomKB.relay, 2)}×`,
      },
      {
        name: "RedisStore, 1 process: 1 Redis round trip per applied command, no fan-out message",
        met: Math.round(calls * 100) / 100 <= 1.01 && fanout <= 0.01,
        measured: `${f(calls, 3)} store round trips + ${f(fanout, 3)} fan-out per applied command (the node registry's beat included)`,
      },
    );
  }
  const p2 = report.pairings.find((x) => x.variant === "redis2");
  if (p2 && p2.attune.length > 0) {
    const calls = median(p2.attune.map((x) => x.redis?.storeRoundTripsPerApplied ?? Number.NaN));
    const fanout = median(p2.attune.map((x) => x.redis?.fanoutRoundTripsPerApplied ?? Number.NaN));
    targets.push({
      name: "RedisStore, 2 processes: 1 round trip + 1 message per applied command",
      met: Math.round(calls * 100) / 100 <= 1.01 && Math.round(fanout * 100) / 100 <= 1.01,
      measured: `${f(calls, 3)} store round trips + ${f(fanout, 3)} fan-out messages per applied command`,
    });
  }
  const u = report.updateSize;
  if (u) {
    const change = (u.late - u.early) / u.early;
    targets.push({
      name: "bytes per update after 300 turns within 10 % of after 10 turns",
      met: Math.abs(change) <= 0.1,
      measured: `${u.early} -> ${u.late} bytes (${f(change * 100, 1)} %)`,
    });
  }
  return targets;
}

/**
 * One room, played fast for 310 turns of typed speaker–listener with the bench's texts, on its own server: the mean
 * size of the update frames its partners receive early and late in the conversation.
 */
async function measureUpdateSize(
  redisUrl: string | undefined,
  encrypted = false,
): Promise<NonNullable<BenchReport["updateSize"]>> {
  const env: NodeJS.ProcessEnv = { LOG_LEVEL: "warn", NODE_ENV: "production", COMMANDS_PER_10S: "10000" };
  if (redisUrl) Object.assign(env, { REDIS_URL: redisUrl, REDIS_PREFIX: `bench:${randomBytes(4).toString("hex")}:` });
  else env.REDIS_URL = "";
  const server = await startProcess("server/main.ts", env, "/readyz");
  const participants: Participant[] = [];
  try {
    const [links] = await createRooms(server.origin, 1, encrypted);
    const a = await Participant.join(links!.a);
    const b = await Participant.join(links!.b);
    participants.push(a, b);
    const sizes: number[][] = [];
    let turn = 0;
    for (const p of [a, b]) {
      p.socket.on("update", (msg) => {
        const bytes = JSON.stringify(["update", msg]).length;
        const atTurn = sizes[turn];
        if (atTurn) atTurn.push(bytes);
        else sizes[turn] = [bytes];
      });
    }
    const start = await a.send({ type: "start-exercise" });
    if (!start.ok) throw new Error(`start-exercise refused: ${start.error.code}`);
    await Promise.all([a.waitForVersion(start.version), b.waitForVersion(start.version)]);
    let rounds = 0;
    let texts = 0;
    const choose = (step: { options?: { id: string }[] }) => {
      const ids = step.options?.map((o) => o.id) ?? [];
      rounds++;
      if (rounds % 2 === 0 && ids.includes("hand-floor")) return "hand-floor";
      return ids.includes("more") ? "more" : ids[0]!;
    };
    const textFor = () => LOAD_TEXTS[texts++ % LOAD_TEXTS.length]!;
    for (turn = 1; turn <= 310; turn++) {
      const mover = [a, b].find((p) => nextMove(p.view, { choose, textFor }));
      if (!mover) throw new Error(`nobody may move at turn ${turn}`);
      const ack = await mover.send(nextMove(mover.view, { choose, textFor })!);
      if (!ack.ok) throw new Error(`turn ${turn} refused: ${ack.error.code}`);
      await Promise.all([a.waitForVersion(ack.version), b.waitForVersion(ack.version)]);
    }
    const byTurn = sizes.map((xs) => (xs?.length ? Math.round(sum(xs) / xs.length) : 0));
    const mean = (from: number, to: number) => {
      const xs = sizes.slice(from, to + 1).flat();
      return Math.round(sum(xs) / xs.length);
    };
    return { store: redisUrl ? "RedisStore" : "MemoryStore", early: mean(10, 19), late: mean(300, 309), byTurn };
  } finally {
    for (const p of participants) p.close();
    await stopProcess(server);
  }
}

/** The typed texts the load generator sends (the same lengths, so update sizes compare). */
const LOAD_TEXTS = [
  "I feel stretched thin when the week fills up before I have had a say in it.",
  "What matters to me is that we plan the weekend together, not around each other.",
  "I noticed that I go quiet when I am tired, and then I feel far from you.",
  "From where I stand, the evenings are the only time we really get to talk.",
];

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function describe(r: RunResult): string {
  const s = r.stats;
  return `${r.label}: ${r.rooms} rooms, ${f(s.appliedPerSec)} cmd/s, peer p99 ${f(s.peer.p99, 2)} ms, ack p99 ${f(s.ack.p99, 2)} ms, errors ${errorsOf(s)}, CPU ${f(r.server.cpuMsPerCommand, 3)} ms/cmd, ${f(r.server.rssPerRoomKB)} KB/room${r.redis ? `, Redis ${f(r.redis.storeRoundTripsPerApplied, 2)} store + ${f(r.redis.fanoutRoundTripsPerApplied, 2)} fan-out round trips/cmd` : ""}`;
}

/** The soft limit on open files of this process (inherited by its children), from /proc. */
function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = sum(points.map((p) => p.x)) / n;
  const my = sum(points.map((p) => p.y)) / n;
  const num = sum(points.map((p) => (p.x - mx) * (p.y - my)));
  const den = sum(points.map((p) => (p.x - mx) ** 2));
  return den === 0 ? Number.NaN : num / den;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  // Each partner socket is a file descriptor in the load process and another in the server.
  const maxRooms = opts.mode === "sweep" ? opts.sweepMax : opts.rooms;
  const limit = openFileLimit();
  if (limit < maxRooms * 2 + 256) {
    throw new Error(
      `open-file limit ${limit} is too low for ${maxRooms} rooms: run \`ulimit -n ${maxRooms * 2 + 1024}\` first`,
    );
  }
  const started = Date.now();
  const needsRedis = opts.variants.some((v) => deploymentOf(v) !== "memory");
  let redis: RedisHandle | null = null;
  if (needsRedis) {
    redis = await benchRedis(opts);
    if (!redis) {
      opts.variants = opts.variants.filter((v) => deploymentOf(v) === "memory");
      if (opts.mode !== "standard" && opts.mode !== "quick") throw new Error("this mode needs Redis");
    }
  }
  const report: BenchReport = {
    mode: opts.mode,
    finishedAt: "",
    machine: machine(),
    options: { ...opts },
    redis: redis?.kind ?? "none",
    runs: [],
    pairings: [],
    targets: [],
  };
  const base = {
    periodMs: opts.periodMs,
    warmupMs: opts.warmupMs,
    windowMs: opts.windowMs,
    idleSampleMs: opts.mode === "quick" ? 500 : 2000,
  };
  const redisUrl = redis?.url;
  let cluster: LocalCluster | undefined;
  if (opts.variants.includes("cluster")) {
    cluster = await startRedisCluster(3);
    log(`Redis Cluster of three masters at ${cluster.nodes.join(", ")}`);
  }
  let profileRuns = 0;
  const profileRoot = join(os.tmpdir(), `attune-bench-profiles-${Date.now()}`);
  const withRedis = (s: RunSpec): RunSpec => {
    const out: RunSpec = redisUrl ? { ...s, redisUrl, monitor: opts.monitor } : { ...s };
    if (cluster) out.clusterUrls = cluster.urls;
    if (opts.profile) {
      // Profiles are large: they go to the temporary directory, not into the repository.
      out.profileDir = join(profileRoot, `${++profileRuns}-${s.variant}-${s.rooms}`);
    }
    return out;
  };
  try {
    if (opts.mode === "standard" || opts.mode === "quick") {
      for (const variant of opts.variants) report.pairings.push({ variant, attune: [], relay: [] });
      // --variants= (empty): the relay alone, e.g. to check the harness and the machine.
      if (opts.variants.length === 0) {
        for (let round = 0; round < opts.rounds; round++) {
          const relayRun = await runOnce({ ...base, target: "relay", variant: "relay", rooms: opts.rooms });
          log(describe(relayRun));
          report.runs.push(relayRun);
        }
      }
      // Alternate: relay, Attune, relay, Attune... so drift in a noisy machine hits both sides alike. --quick
      // saves time with one relay run per two Attune runs; each Attune run is paired with the relay run before it.
      const attunePerRelay = opts.mode === "quick" ? 2 : 1;
      for (let round = 0; round < opts.rounds; round++) {
        let relayRun: RunResult | null = null;
        for (const [i, pairing] of report.pairings.entries()) {
          if (i % attunePerRelay === 0 || !relayRun) {
            relayRun = await runOnce({ ...base, target: "relay", variant: "relay", rooms: opts.rooms });
            log(describe(relayRun));
            report.runs.push(relayRun);
          }
          const attuneRun = await runOnce(
            withRedis({ ...base, target: "attune", variant: pairing.variant, rooms: opts.rooms }),
          );
          log(describe(attuneRun));
          report.runs.push(attuneRun);
          pairing.relay.push(relayRun);
          pairing.attune.push(attuneRun);
        }
      }
      if (report.pairings.some((x) => x.variant !== "memory") || opts.variants.includes("memory")) {
        report.updateSize = await measureUpdateSize(redisUrl);
        log(`update size: ${report.updateSize.early} bytes at turns 10-19, ${report.updateSize.late} at 300-309`);
        if (opts.variants.some(encryptedVariant)) {
          report.encryptedUpdateSize = await measureUpdateSize(redisUrl, true);
          const e = report.encryptedUpdateSize;
          log(`encrypted update size: ${e.early} bytes at turns 10-19, ${e.late} at 300-309`);
        }
      }
      report.targets = targetsFor(report);
    } else if (opts.mode === "sweep") {
      const variant = opts.variants[0] ?? "redis";
      const steps: NonNullable<BenchReport["sweep"]>["steps"] = [];
      let largestHeld: number | null = null;
      for (let rooms = 250; rooms <= opts.sweepMax; rooms = rooms < 1000 ? rooms * 2 : rooms + 1000) {
        const r = await runOnce(withRedis({ ...base, target: "attune", variant, rooms }));
        log(describe(r));
        report.runs.push(r);
        const errors = errorsOf(r.stats);
        steps.push({ rooms, peerP99: r.stats.peer.p99, errors, appliedPerSec: r.stats.appliedPerSec });
        if (errors > 0 || !(r.stats.peer.p99 <= 100)) break;
        largestHeld = rooms;
      }
      report.sweep = { variant, largestHeld, steps };
    } else {
      const variant = opts.variants[0] ?? "redis";
      const r = await runOnce(
        withRedis({
          target: "attune",
          variant,
          rooms: opts.rooms,
          periodMs: opts.periodMs,
          warmupMs: opts.warmupMs,
          windowMs: opts.soakMinutes * 60_000,
          idleSampleMs: 2000,
          progressEveryMs: Math.min(60_000, (opts.soakMinutes * 60_000) / 4),
          readings: true,
        }),
      );
      log(describe(r));
      report.runs.push(r);
      const samples = r.progress ?? [];
      const first = samples[0]?.rssMB ?? r.server.rssIdleMB;
      const points = samples.map((p, i) => ({
        minute: Math.round((p.atMs / 60_000) * 10) / 10,
        rssMB: Math.round(p.rssMB * 10) / 10,
        intervalPeerP99: p.stats.intervalPeer?.p99 ?? Number.NaN,
        cpuMsPerCommand: intervalCpuMsPerCommand(samples[i - 1], p),
        loadLagP99: p.stats.intervalLoadLagP99 ?? Number.NaN,
        ...intervalMachine(samples[i - 1], p),
        ...intervalReadings(samples[i - 1]?.readings, p.readings, p.stats.intervalPeer?.n ?? 0),
      }));
      const at5 = points.find((p) => p.minute >= 5);
      const last = points.at(-1);
      report.soak = {
        variant,
        rooms: r.rooms,
        minutes: opts.soakMinutes,
        rssStartMB: first,
        rssEndMB: r.server.rssLoadMB,
        rssGrowthMB: r.server.rssLoadMB - first,
        rssGrowthPerRoomKB: ((r.server.rssLoadMB - first) * 1024) / r.rooms,
        rssSlopeMBPerMin: slope(samples.map((p) => ({ x: p.atMs / 60_000, y: p.rssMB }))),
        errors: errorsOf(r.stats),
        peerP99: r.stats.peer.p99,
        samples: points,
        ...(at5 && last && last !== at5
          ? {
              flat: {
                rss5MB: at5.rssMB,
                rssEndMB: last.rssMB,
                rssChangePct: ((last.rssMB - at5.rssMB) / at5.rssMB) * 100,
                p99At5: at5.intervalPeerP99,
                p99End: last.intervalPeerP99,
                p99ChangePct: ((last.intervalPeerP99 - at5.intervalPeerP99) / at5.intervalPeerP99) * 100,
              },
            }
          : {}),
      };
    }
  } finally {
    await redis?.stop();
    await cluster?.dispose();
  }
  report.finishedAt = new Date().toISOString();
  const outDir = join(ROOT, "bench/results");
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  const md = markdown(report);
  writeFileSync(join(outDir, "latest.md"), `${md}\n`);
  process.stdout.write(`${md}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s; wrote bench/results/latest.json and latest.md`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
