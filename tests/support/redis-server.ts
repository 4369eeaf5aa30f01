/**
 * Private processes for tests: a redis-server that can be stopped, restarted or lost without disturbing the
 * shared one, and an Attune server running as a separate OS process (to prove multi-process and restart behaviour).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { redisAvailable } from "./env.ts";

export interface PrivateRedis {
  port: number;
  url: string;
  /** Stops the server (SIGTERM, or SIGKILL to simulate a crash) and waits for it to exit. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Sends a signal to the running server (e.g. SIGSTOP/SIGCONT to make it hang and come back). */
  signal(signal: NodeJS.Signals): void;
  /** Starts it again on the same port (and, when persistent, with the same data). */
  restart(): Promise<void>;
  /** Stops it and removes its data directory. */
  dispose(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Keep data across restart (append-only file in a temp dir). Default: nothing is written to disk. */
  persist?: boolean;
  /** How long to wait for the first PING (ms). */
  startTimeoutMs?: number;
}

export { freePort } from "../../scripts/lib/ports.ts";
import { freePort } from "../../scripts/lib/ports.ts";

/** Starts redis-server on a free port and waits until it answers PING; throws clearly if the binary is missing. */
export async function startRedisServer(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), "attune-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  args.push(...(options.persist ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]));
  const timeoutMs = options.startTimeoutMs ?? 5000;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const failed = new Promise<never>((_, reject) => {
      proc.once("error", (err: NodeJS.ErrnoException) => {
        reject(
          err.code === "ENOENT"
            ? new Error("redis-server is not installed (apt-get install redis-server): cannot start a private Redis")
            : err,
        );
      });
      proc.once("exit", (code) => reject(new Error(`redis-server exited early (code ${code}): ${stderr.trim()}`)));
    });
    failed.catch(() => {});
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const up = await Promise.race([redisAvailable(url), failed]);
      if (up) return;
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const stop = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(signal);
    await exited;
  };

  await launch();
  return {
    port,
    url,
    stop,
    signal: (signal) => {
      child?.kill(signal);
    },
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface AttuneProcess {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  pid: number;
  /** Everything the process wrote (structured logs), for assertions and for failure messages. */
  output(): string;
  /** Sends `signal` (SIGTERM: graceful shutdown; SIGKILL: a crash) and waits for the process to exit. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The built server, as production runs it (scripts/build-if-needed.mjs writes it). */
export const BUILT_MAIN = "build/server/main.js";

/**
 * Starts `server/main.ts` in a child Node process (through tsx, without npx in between so signals reach the
 * server itself) with the given environment on top of ours, and resolves once GET /readyz answers 200.
 * `built: true` runs the compiled build/server/main.js with plain Node instead, as production does.
 */
export async function startAttuneProcess(
  env: Record<string, string>,
  options: { port?: number; startTimeoutMs?: number; built?: boolean } = {},
): Promise<AttuneProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const args = options.built ? [BUILT_MAIN] : ["--import", "tsx", "server/main.ts"];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: "info", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal })),
  );

  const deadline = Date.now() + (options.startTimeoutMs ?? 45_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Attune process exited during start-up:\n${output}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`Attune process on port ${port} was not ready in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    port,
    url,
    pid: child.pid ?? -1,
    output: () => output,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
