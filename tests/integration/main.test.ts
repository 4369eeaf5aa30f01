/**
 * The process entry point and its configuration: every variable validated with an error naming it, a bad
 * environment exits 1 with that message, and SIGTERM closes gracefully (clients see a dropped transport,
 * so they reconnect) with exit code 0.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function runMain(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => {
    out += String(d);
  });
  child.stderr!.on("data", (d) => {
    out += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe("configuration", () => {
  it("has working defaults", () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: "0.0.0.0",
      redisUrl: undefined,
      redisPrefix: "attune:",
      publicOrigin: undefined,
      allowedOrigins: [],
      sessionTtlMs: 24 * 3600_000,
      therapistApiKeys: [],
      commandRate: 40,
      authFailuresPerMinute: 30,
      sessionsPerHour: 60,
      spaceTtlMs: 90 * 24 * 3600_000,
      spacesPerHour: 20,
      trustProxy: ["loopback"],
      nodeName: undefined,
      quickExitUrl: "https://www.bbc.co.uk/weather",
      logLevel: "info",
    });
  });

  it("reads the safety pages, the metrics token and a Redis Cluster, and refuses bad ones with the variable's name", () => {
    expect(
      loadConfig({
        QUICK_EXIT_URL: "https://example.org/news",
        SUPPORT_URL: "https://support.example/help",
        METRICS_TOKEN: "0123456789abcdef-metrics",
        REDIS_CLUSTER_NODES: "127.0.0.1:7000, redis://127.0.0.1:7001",
      }),
    ).toMatchObject({
      quickExitUrl: "https://example.org/news",
      supportUrl: "https://support.example/help",
      metricsToken: "0123456789abcdef-metrics",
      redisClusterNodes: ["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"],
    });
    expect(() => loadConfig({ QUICK_EXIT_URL: "javascript:alert(1)" })).toThrow(/QUICK_EXIT_URL must use http/);
    expect(() => loadConfig({ SUPPORT_URL: "not a url" })).toThrow(/SUPPORT_URL must be a web address/);
    expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN must be at least 16/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "127.0.0.1" })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ REDIS_URL: "redis://x:1", REDIS_CLUSTER_NODES: "127.0.0.1:7000" })).toThrow(/not both/);
  });

  it("reads every variable", () => {
    const config = loadConfig({
      PORT: "8080",
      HOST: "127.0.0.1",
      REDIS_URL: "redis://127.0.0.1:6380",
      REDIS_PREFIX: "a1:",
      PUBLIC_ORIGIN: "https://attune.example/",
      ALLOWED_ORIGINS: "https://a.example, https://b.example:8443",
      SESSION_TTL_HOURS: "0.5",
      THERAPIST_API_KEYS: "0123456789abcdef,fedcba9876543210",
      COMMANDS_PER_10S: "20",
      AUTH_FAILURES_PER_MINUTE: "10",
      SESSIONS_PER_HOUR: "500",
      SPACE_TTL_DAYS: "30",
      SPACES_PER_HOUR: "5",
      TRUST_PROXY: "loopback, 10.0.0.0/8, 172.28.0.10, fd00::1",
      NODE_NAME: "node-2",
      LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      redisUrl: "redis://127.0.0.1:6380",
      redisPrefix: "a1:",
      publicOrigin: "https://attune.example",
      allowedOrigins: ["https://a.example", "https://b.example:8443"],
      sessionTtlMs: 1800_000,
      therapistApiKeys: ["0123456789abcdef", "fedcba9876543210"],
      commandRate: 20,
      authFailuresPerMinute: 10,
      sessionsPerHour: 500,
      spaceTtlMs: 30 * 24 * 3600_000,
      spacesPerHour: 5,
      trustProxy: ["loopback", "10.0.0.0/8", "172.28.0.10", "fd00::1"],
      nodeName: "node-2",
      logLevel: "warn",
    });
    expect(loadConfig({ TRUST_PROXY: "none" }).trustProxy).toEqual([]);
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["REDIS_URL", "http://localhost"],
    ["REDIS_URL", "not a url"],
    ["REDIS_PREFIX", "has space"],
    ["PUBLIC_ORIGIN", "attune.example"],
    ["PUBLIC_ORIGIN", "https://attune.example/path"],
    ["ALLOWED_ORIGINS", "https://ok.example,ftp://no.example"],
    ["SESSION_TTL_HOURS", "0"],
    ["SESSION_TTL_HOURS", "-2"],
    ["SESSION_TTL_HOURS", "soon"],
    ["THERAPIST_API_KEYS", "short"],
    ["COMMANDS_PER_10S", "0"],
    ["AUTH_FAILURES_PER_MINUTE", "1.5"],
    ["SESSIONS_PER_HOUR", "0"],
    ["SESSIONS_PER_HOUR", "-5"],
    ["SESSIONS_PER_HOUR", "2.5"],
    ["SESSIONS_PER_HOUR", "lots"],
    ["SESSIONS_PER_HOUR", "1000001"],
    ["LOG_LEVEL", "loud"],
    ["TRUST_PROXY", "true"],
    ["TRUST_PROXY", "*"],
    ["TRUST_PROXY", "0.0.0.0/0"],
    ["TRUST_PROXY", "loopback,proxy.example"],
    ["TRUST_PROXY", "10.0.0.0/33"],
    ["TRUST_PROXY", "none,loopback"],
    ["NODE_NAME", "Node 1"],
    ["NODE_NAME", "n.1"],
    ["NODE_NAME", "x".repeat(33)],
  ])("refuses %s=%s with an error naming it", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it("never echoes an API key in its error", () => {
    expect(() => loadConfig({ THERAPIST_API_KEYS: "tiny-secret" })).toThrow(/^(?!.*tiny-secret).*$/);
  });
});

describe("server/main.ts", () => {
  it("exits 1 with the configuration error on a bad environment", async () => {
    const run = runMain({ PORT: "not-a-port" });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain("PORT must be");
    const noSessions = runMain({ SESSIONS_PER_HOUR: "0" });
    expect(await noSessions.exited).toBe(1);
    expect(noSessions.output()).toContain("SESSIONS_PER_HOUR must be between 1 and 1000000, got 0");
  });

  it("starts, serves, limits creation per SESSIONS_PER_HOUR, and on SIGTERM drops sockets and exits 0", async () => {
    const run = runMain({ PORT: "0", LOG_LEVEL: "info", SESSIONS_PER_HOUR: "1" });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL logged: ${run.output()}`)), 15_000);
      const check = setInterval(() => {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output());
        if (match?.[1]) {
          clearInterval(check);
          clearTimeout(timer);
          resolve(match[1]);
        }
      }, 25);
    });
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const res = await fetch(`${url}/api/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ mode: "guided", channel: "typed" }),
      });
      const created = (await res.json()) as { links: { a: string } };
      const second = await fetch(`${url}/api/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ mode: "guided", channel: "typed" }),
      });
      expect(second.status).toBe(429);
      expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(((await second.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
      const token = created.links.a.split("/").pop()!;
      const socket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
      await new Promise<void>((resolve) => socket.once("snapshot", () => resolve()));
      const reason = new Promise<string>((resolve) => socket.once("disconnect", (r) => resolve(r)));
      run.child.kill("SIGTERM");
      expect(await reason).toBe("transport close");
      expect(await run.exited).toBe(0);
      expect(run.output()).toContain('"msg":"stopped"');
      // The log carries the join but never the token.
      expect(run.output()).toContain('"msg":"join"');
      expect(run.output()).not.toContain(token);
    } finally {
      run.child.kill("SIGKILL");
    }
  });
});
