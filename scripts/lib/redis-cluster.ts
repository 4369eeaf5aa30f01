/**
 * A real local Redis Cluster for tests and the bench: N masters (`redis-server --cluster-enabled yes`) on free
 * loopback ports, joined with `redis-cli --cluster create`, each with its own data directory (append-only file, so
 * a restarted shard keeps what it acknowledged). Nothing here is mocked: it is the engine operators run.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.ts";

const run = promisify(execFile);

export interface LocalCluster {
  /** host:port of every master, in start order. */
  nodes: string[];
  /** The same, as redis:// URLs (what REDIS_CLUSTER_NODES takes). */
  urls: string[];
  /** Restarts master `i` (SIGTERM, then the same port, config and data) and waits until the cluster is ok again. */
  restart(i: number): Promise<void>;
  /** Stops every master and removes the data directories. */
  dispose(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout: 10_000 });
  return stdout;
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Starts a cluster of `masters` (at least 3) masters without replicas and waits until it serves every slot. */
export async function startRedisCluster(masters = 3): Promise<LocalCluster> {
  if (masters < 3) throw new Error("a Redis Cluster needs at least 3 masters");
  const ports: number[] = [];
  // Cluster nodes also listen on port + 10000 for the cluster bus: pick ports whose bus port is free too.
  while (ports.length < masters) {
    const port = await freePort();
    if (port + 10_000 > 65_535 || ports.includes(port)) continue;
    ports.push(port);
  }
  const dirs = await Promise.all(ports.map(() => mkdtemp(join(tmpdir(), "attune-cluster-"))));
  const children: (ChildProcess | undefined)[] = [];
  const launch = async (i: number) => {
    const args = [
      "--port",
      String(ports[i]),
      "--bind",
      "127.0.0.1",
      "--dir",
      dirs[i]!,
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      "nodes.conf",
      "--cluster-node-timeout",
      "2000",
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
    ];
    const child = spawn("redis-server", args, { stdio: "ignore" });
    child.on("error", () => {});
    children[i] = child;
    await waitFor(`node ${ports[i]} did not answer PING`, 10_000, async () => (await cli(ports[i]!, "ping")).includes("PONG"));
  };
  const stop = async (i: number) => {
    const child = children[i];
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const healthy = async () => {
    for (const port of ports) {
      const info = await cli(port, "cluster", "info");
      if (!info.includes("cluster_state:ok") || !info.includes(`cluster_known_nodes:${masters}`)) return false;
    }
    return true;
  };
  try {
    await Promise.all(ports.map((_, i) => launch(i)));
    await run(
      "redis-cli",
      ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: 30_000 },
    );
    await waitFor("did not reach cluster_state:ok", 20_000, healthy);
  } catch (err) {
    await Promise.all(ports.map((_, i) => stop(i)));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    throw err;
  }
  const nodes = ports.map((p) => `127.0.0.1:${p}`);
  return {
    nodes,
    urls: nodes.map((n) => `redis://${n}`),
    async restart(i) {
      await stop(i);
      await launch(i);
      await waitFor("did not reach cluster_state:ok after a restart", 20_000, healthy);
    },
    async dispose() {
      await Promise.all(ports.map((_, i) => stop(i)));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}
