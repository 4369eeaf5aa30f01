/**
 * A private redis-server for tests that must stop, restart or lose Redis without disturbing the shared one.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redisAvailable } from "./env.ts";

export interface PrivateRedis {
  port: number;
  url: string;
  /** Stops the server (SIGTERM, or SIGKILL to simulate a crash) and waits for it to exit. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
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

/** A TCP port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

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
