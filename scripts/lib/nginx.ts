/**
 * nginx (Debian's package) in front of Attune nodes, for tests and the bench: the deployment template of
 * docs/operations.md (deploy/nginx/attune.conf.template) filled in like the nginx image's envsubst does, wrapped in
 * a main configuration that keeps everything (pid, logs, temp files) in a temp folder and runs as the current user
 * on a free port.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.ts";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const NGINX_TEMPLATE = join(ROOT, "deploy", "nginx", "attune.conf.template");
export const NGINX_PATH = process.env.NGINX_PATH ?? "/usr/sbin/nginx";
/** The node names the template routes by (each node's NODE_NAME). */
export const NODE_NAMES = ["node1", "node2"] as const;

/** True when Debian's nginx binary is installed (`apt-get install nginx`; .ci/run installs it). */
export function nginxAvailable(): boolean {
  return existsSync(NGINX_PATH);
}

/**
 * Fills in ${NAME} placeholders as envsubst would for the given names, and fails if any ${ATTUNE_*} is left: a
 * name the template uses that the test (or the compose file) does not set would silently break routing.
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  let text = template;
  for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`\${${name}}`, value);
  const left = /\$\{(ATTUNE_[A-Z0-9_]+)\}/.exec(text);
  if (left) throw new Error(`the nginx template uses \${${left[1]}}, which was not given`);
  return text;
}

/** The names the template expects, as the compose file must set them. */
export function templateVariables(template: string = readFileSync(NGINX_TEMPLATE, "utf8")): string[] {
  return [...new Set([...template.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]!))].sort();
}

export interface RunningNginx {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** nginx's error log so far (for failure messages). */
  errors(): Promise<string>;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, why: () => Promise<string>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (code ${child.exitCode}):\n${await why()}`);
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        done(true);
      });
      socket.once("error", () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} in time:\n${await why()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts nginx on a free port with the deployment template routing to `nodes` (host:port, in NODE_NAMES order). */
export async function startNginx(nodes: readonly string[]): Promise<RunningNginx> {
  if (nodes.length !== NODE_NAMES.length) throw new Error(`the template routes ${NODE_NAMES.length} nodes`);
  const dir = await mkdtemp(join(tmpdir(), "attune-nginx-"));
  // nginx started by root hands its workers to another user unless told otherwise: keep them as ourselves.
  await chmod(dir, 0o755);
  const port = await freePort();
  const site = renderTemplate(await readFile(NGINX_TEMPLATE, "utf8"), {
    ATTUNE_LISTEN: `127.0.0.1:${port}`,
    ATTUNE_NODE1: nodes[0]!,
    ATTUNE_NODE2: nodes[1]!,
  });
  await writeFile(join(dir, "attune.conf"), site);
  const me = userInfo();
  const main = [
    // One worker: its round-robin and connection counts are the ones the tests reason about.
    "worker_processes 1;",
    me.uid === 0 ? "user root root;" : "",
    "daemon off;",
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${join(dir, "error.log")} warn;`,
    // Every browser socket holds two connections (client and upstream): 2,000 benchmark rooms need 8,000.
    "worker_rlimit_nofile 20000;",
    "events { worker_connections 10000; }",
    "http {",
    `  access_log ${join(dir, "access.log")};`,
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${join(dir, t)};`),
    `  include ${join(dir, "attune.conf")};`,
    "}",
    "",
  ].join("\n");
  const conf = join(dir, "nginx.conf");
  await writeFile(conf, main);
  const args = ["-p", dir, "-c", conf, "-e", join(dir, "error.log")];
  const check = spawnSync(NGINX_PATH, [...args, "-t"], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`nginx refused the configuration:\n${check.stderr}`);
  const child = spawn(NGINX_PATH, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  const errors = async () => `${stderr}${await readFile(join(dir, "error.log"), "utf8").catch(() => "")}`;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  await waitForPort(port, child, 5000, errors);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    errors,
    async stop() {
      // SIGQUIT: nginx's graceful stop; fall back to SIGKILL if it lingers.
      if (child.exitCode === null) child.kill("SIGQUIT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

