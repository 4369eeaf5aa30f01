/**
 * The processes a chaos run owns: private redis-servers, Attune servers as child processes, and a TCP proxy
 * that can cut Redis off without stopping it. Every child is tracked so none outlives the run, and an Attune
 * process that exits without being told to is recorded as a crash.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const HOST = "127.0.0.1";
const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Kills every child still running (the run is over or was interrupted). */
export function killChildren(): void {
  for (const child of children) child.kill("SIGKILL");
}

process.once("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killChildren();
    process.exit(130);
  });
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, HOST, () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => done(port));
    });
  });
}

/** True when a Redis on `port` answers PING within `timeoutMs` (raw RESP: no client library state involved). */
export async function redisPing(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const s = connect(port, HOST);
    const timer = setTimeout(() => finish(false), timeoutMs);
    let buf = "";
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      done(ok);
    };
    s.once("error", () => finish(false));
    s.once("connect", () => s.write("PING\r\n"));
    s.on("data", (chunk) => {
      buf += chunk.toString();
      if (buf.includes("\r\n")) finish(buf.startsWith("+PONG"));
    });
  });
}

export interface RedisHandle {
  port: number;
  url: string;
  persistent: boolean;
  /** SIGSTOP: the server hangs with every connection open. */
  hang(): void;
  /** SIGCONT after hang(). */
  resume(): void;
  /** SIGKILL, waiting for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (same data directory, so an append-only file is replayed). */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** Starts a private redis-server on a free port; with `persist`, every write is fsynced to an append-only file. */
export async function startRedis(persist: boolean): Promise<RedisHandle> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "attune-chaos-redis-"));
  const args = ["--port", String(port), "--bind", HOST, "--dir", dir, "--save", "", "--maxclients", "2000"];
  args.push(...(persist ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]));
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = track(spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] }));
    child = proc;
    let stderr = "";
    proc.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const failed = new Promise<never>((_, reject) => {
      proc.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          err.code === "ENOENT" ? new Error("redis-server is not installed (apt-get install -y redis-server)") : err,
        ),
      );
      proc.once("exit", (code) => reject(new Error(`redis-server exited at start (code ${code}) ${stderr.trim()}`)));
    });
    failed.catch(() => {});
    const deadline = Date.now() + 10_000;
    while (!(await Promise.race([redisPing(port), failed]))) {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer PING within 10 s`);
      await sleep(25);
    }
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    proc.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://${HOST}:${port}`,
    persistent: persist,
    hang: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    kill,
    start,
    dispose: async () => {
      child?.kill("SIGCONT");
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface AttuneHandle {
  name: string;
  port: number;
  url: string;
  pid: number;
  /** Set when the process exited without being asked to (a crash). */
  crash: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Log lines at level error or above (message and error fields only: Attune never logs content). */
  errorLines: string[];
  /** Count of log lines at level error or above. */
  errorCount(): number;
  /** Last lines of output, for a failure message. */
  tail(): string;
  /** SIGKILL, waiting for the exit (an intended crash: not recorded as one). */
  kill9(): Promise<void>;
  /** SIGTERM and wait; resolves with the exit code (0 is a clean shutdown). */
  stop(): Promise<number | null>;
}

/**
 * Starts `server/main.ts` as a child process (node --import tsx, no npx in between so signals reach the server)
 * and resolves once GET /readyz answers 200. Limits that would get in the way of the scenarios are raised unless
 * `env` sets them.
 */
export async function startAttune(name: string, env: Record<string, string>, port?: number): Promise<AttuneHandle> {
  const listenPort = port ?? (await freePort());
  const url = `http://${HOST}:${listenPort}`;
  const child = track(
    spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: "warn",
        SESSIONS_PER_HOUR: "1000000",
        AUTH_FAILURES_PER_MINUTE: "100000",
        ...env,
        PORT: String(listenPort),
        HOST,
      },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let intended = false;
  const errorLines: string[] = [];
  let errors = 0;
  let tail = "";
  let partial = "";
  const onOut = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    partial += text;
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; err?: unknown };
        if ((entry.level ?? 0) >= 50) {
          errors++;
          if (errorLines.length < 50) errorLines.push(`${entry.msg ?? ""}${entry.err ? `: ${String(entry.err)}` : ""}`);
        }
      } catch {
        // Not a log line (a stack trace of a crash, say): the tail keeps it for the report.
      }
    }
  };
  child.stdout?.on("data", onOut);
  child.stderr?.on("data", onOut);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once("exit", (code, signal) => r({ code, signal })),
  );
  const handle: AttuneHandle = {
    name,
    port: listenPort,
    url,
    pid: child.pid ?? -1,
    crash: null,
    errorLines,
    errorCount: () => errors,
    tail: () => tail,
    kill9: async () => {
      intended = true;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      intended = true;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const { code } = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  void exited.then((info) => {
    if (!intended) handle.crash = info;
  });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited at start:\n${tail}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return handle;
    if (Date.now() > deadline) {
      intended = true;
      child.kill("SIGKILL");
      throw new Error(`${name} was not ready within 60 s:\n${tail}`);
    }
    await sleep(100);
  }
}

export interface TcpProxy {
  port: number;
  /** Drops every connection and refuses new ones (the target looks unreachable; it keeps its data). */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy on a free port to `targetPort`: Attune connects to Redis through it, so the link can be cut. */
export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const open = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((done, fail) => {
      const s = createServer((inbound) => {
        const outbound = connect(targetPort, HOST);
        open.add(inbound);
        open.add(outbound);
        const drop = () => {
          inbound.destroy();
          outbound.destroy();
          open.delete(inbound);
          open.delete(outbound);
        };
        inbound.on("error", drop).on("close", drop);
        outbound.on("error", drop).on("close", drop);
        inbound.pipe(outbound);
        outbound.pipe(inbound);
      });
      s.once("error", fail);
      s.listen(port, HOST, () => {
        server = s;
        done();
      });
    });
  const cut = async () => {
    const s = server;
    server = undefined;
    for (const sock of open) sock.destroy();
    open.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}
