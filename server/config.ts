import { compileTrust, NAMED_RANGES } from "./client-address.ts";

/**
 * Server configuration, read once from the environment and validated at start so a typo fails loudly
 * instead of running with a surprising default.
 */

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export interface Config {
  /** PORT: TCP port (0 picks a free one). */
  port: number;
  /** HOST: interface to listen on. */
  host: string;
  /** REDIS_URL: when set, session state lives in Redis and sockets fan out across processes. */
  redisUrl?: string;
  /** REDIS_CLUSTER_NODES: when set, the same on a Redis Cluster (redis://host:port of a few of its nodes). */
  redisClusterNodes?: string[];
  /** REDIS_PREFIX: prefix of every Redis key this deployment writes. */
  redisPrefix: string;
  /** PUBLIC_ORIGIN: origin used in links (e.g. https://attune.example); else taken from the request. */
  publicOrigin?: string;
  /** ALLOWED_ORIGINS: browser origins allowed to open a socket; empty = same origin only. */
  allowedOrigins: string[];
  /** SESSION_TTL_HOURS: a session and its links expire this long after the last activity. */
  sessionTtlMs: number;
  /** THERAPIST_API_KEYS: when non-empty, creating a therapist-mode session needs one of these as a Bearer key. */
  therapistApiKeys: string[];
  /** COMMANDS_PER_10S: commands one socket may send per 10 seconds. */
  commandRate: number;
  /** AUTH_FAILURES_PER_MINUTE: failed token presentations (handshake or REST) one IP may make per minute. */
  authFailuresPerMinute: number;
  /** SESSIONS_PER_HOUR: session-creation requests (POST /api/sessions) one IP may make per hour, per process. */
  sessionsPerHour: number;
  /** SPACE_TTL_DAYS: a couple's space, its entries and links expire this long after the last visit. */
  spaceTtlMs: number;
  /** SPACES_PER_HOUR: space-creation requests (POST /api/spaces) one IP may make per hour, per process. */
  spacesPerHour: number;
  /** METRICS_TOKEN: when set, GET /metrics serves Prometheus metrics to requests bearing this token. */
  metricsToken?: string;
  /** QUICK_EXIT_URL: the neutral page the quick exit opens (it replaces the Attune page in the tab's history). */
  quickExitUrl: string;
  /** SUPPORT_URL: a support line or service for people who do not feel safe, shown in guided sessions when set. */
  supportUrl?: string;
  /**
   * TRUST_PROXY: the proxies (addresses, CIDR blocks, or loopback/linklocal/uniquelocal) whose X-Forwarded-For,
   * -Proto and -Host are believed; empty = none (the socket's peer is the client).
   */
  trustProxy: string[];
  /** NODE_NAME: this process's name, the prefix of its Engine.IO session ids (load-balancer stickiness). */
  nodeName?: string;
  /** LOG_LEVEL: pino level. */
  logLevel: LogLevel;
}

/** A configuration problem; the message names the variable and says what is expected. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw))
    throw new ConfigError(`${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function list(env: NodeJS.ProcessEnv, name: string): string[] {
  const raw = env[name]?.trim();
  if (!raw) return [];
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function origin(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an origin like https://attune.example, got "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must use http or https, got "${value}"`);
  }
  if (url.pathname !== "/" || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`${name} must be an origin only (scheme, host, port; no path), got "${value}"`);
  }
  return url.origin;
}

/**
 * TRUST_PROXY: loopback by default (a proxy on the same host); "none" trusts no proxy. Trusting every hop is
 * refused: any client could then claim any address and step around every per-address limit.
 */
function trustProxyList(env: NodeJS.ProcessEnv): string[] {
  const raw = env.TRUST_PROXY?.trim();
  if (raw === undefined || raw === "") return ["loopback"];
  if (raw.toLowerCase() === "none") return [];
  const entries = list(env, "TRUST_PROXY");
  for (const entry of entries) {
    if (["true", "all", "*", "0.0.0.0/0", "::/0"].includes(entry.toLowerCase())) {
      throw new ConfigError(
        `TRUST_PROXY must name the proxies themselves (an address, a CIDR block, or ${NAMED_RANGES.join(", ")}), not "${entry}": trusting every hop lets any client choose its own address`,
      );
    }
    try {
      compileTrust([entry]);
    } catch {
      throw new ConfigError(
        `TRUST_PROXY must be "none" or a comma-separated list of addresses, CIDR blocks (10.0.0.0/8) or ${NAMED_RANGES.join(", ")}, got "${entry}"`,
      );
    }
  }
  return entries;
}

/** A page anywhere on the web, neutral by default: a weather forecast gives nothing away on a shared screen. */
export const DEFAULT_QUICK_EXIT_URL = "https://www.bbc.co.uk/weather";

/** An http(s) page address, or undefined when unset. */
function pageUrl(name: string, raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be a web address like https://example.org/page, got "${value}"`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigError(`${name} must use http or https, got "${value}"`);
  }
  return url.toString();
}

/** Reads and validates the configuration; throws ConfigError naming the offending variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const port = integer(env, "PORT", 3000, 0, 65535);
  const host = env.HOST?.trim() || "0.0.0.0";

  const redisRaw = env.REDIS_URL?.trim();
  let redisUrl: string | undefined;
  if (redisRaw) {
    let url: URL;
    try {
      url = new URL(redisRaw);
    } catch {
      throw new ConfigError(`REDIS_URL must be a URL like redis://127.0.0.1:6379, got "${redisRaw}"`);
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
      throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${url.protocol}"`);
    }
    redisUrl = redisRaw;
  }

  let redisClusterNodes: string[] | undefined;
  const clusterRaw = list(env, "REDIS_CLUSTER_NODES");
  if (clusterRaw.length > 0) {
    if (redisUrl) {
      throw new ConfigError("set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both");
    }
    redisClusterNodes = clusterRaw.map((node) => {
      const value = /^rediss?:\/\//.test(node) ? node : `redis://${node}`;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new ConfigError(`REDIS_CLUSTER_NODES must list host:port (or redis:// URLs), got "${node}"`);
      }
      if (!url.port || url.pathname.replace("/", "") !== "") {
        throw new ConfigError(`REDIS_CLUSTER_NODES: each node needs a host and a port, got "${node}"`);
      }
      return value;
    });
  }

  const redisPrefix = env.REDIS_PREFIX ?? "attune:";
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(redisPrefix)) {
    throw new ConfigError("REDIS_PREFIX must be 1-64 characters of letters, digits, ':', '_', '.', '-'");
  }

  const publicRaw = env.PUBLIC_ORIGIN?.trim();
  const publicOrigin = publicRaw ? origin("PUBLIC_ORIGIN", publicRaw) : undefined;
  const allowedOrigins = list(env, "ALLOWED_ORIGINS").map((o) => origin("ALLOWED_ORIGINS", o));

  let sessionTtlMs = 24 * 3600_000;
  const ttlRaw = env.SESSION_TTL_HOURS?.trim();
  if (ttlRaw) {
    const hours = Number(ttlRaw);
    if (!/^\d+(\.\d+)?$/.test(ttlRaw) || !Number.isFinite(hours) || hours <= 0 || hours > 24 * 30) {
      throw new ConfigError(`SESSION_TTL_HOURS must be a number of hours above 0 and at most 720, got "${ttlRaw}"`);
    }
    sessionTtlMs = Math.max(1000, Math.round(hours * 3600_000));
  }

  const therapistApiKeys = list(env, "THERAPIST_API_KEYS");
  for (const key of therapistApiKeys) {
    // Short keys are guessable; the message must not echo the key itself.
    if (key.length < 16) throw new ConfigError("THERAPIST_API_KEYS: every key must be at least 16 characters long");
  }

  const commandRate = integer(env, "COMMANDS_PER_10S", 40, 1, 10_000);
  const authFailuresPerMinute = integer(env, "AUTH_FAILURES_PER_MINUTE", 30, 1, 100_000);
  // 60 an hour is far above what a practice or a couple needs, yet stops one address from flooding the store.
  const sessionsPerHour = integer(env, "SESSIONS_PER_HOUR", 60, 1, 1_000_000);

  let spaceTtlMs = 90 * 24 * 3600_000;
  const spaceTtlRaw = env.SPACE_TTL_DAYS?.trim();
  if (spaceTtlRaw) {
    const days = Number(spaceTtlRaw);
    if (!/^\d+(\.\d+)?$/.test(spaceTtlRaw) || !Number.isFinite(days) || days <= 0 || days > 3650) {
      throw new ConfigError(`SPACE_TTL_DAYS must be a number of days above 0 and at most 3650, got "${spaceTtlRaw}"`);
    }
    spaceTtlMs = Math.max(1000, Math.round(days * 24 * 3600_000));
  }
  // A couple needs one space; 20 an hour leaves room for mistakes and shared addresses, not for flooding.
  const spacesPerHour = integer(env, "SPACES_PER_HOUR", 20, 1, 1_000_000);

  const quickExitUrl = pageUrl("QUICK_EXIT_URL", env.QUICK_EXIT_URL) ?? DEFAULT_QUICK_EXIT_URL;
  const supportUrl = pageUrl("SUPPORT_URL", env.SUPPORT_URL);

  const metricsToken = env.METRICS_TOKEN?.trim() || undefined;
  // Like the API keys: short tokens are guessable, and the message must not echo the token.
  if (metricsToken !== undefined && metricsToken.length < 16) {
    throw new ConfigError("METRICS_TOKEN must be at least 16 characters long");
  }
  const trustProxy = trustProxyList(env);

  const nodeRaw = env.NODE_NAME?.trim();
  if (nodeRaw !== undefined && nodeRaw !== "" && !/^[a-z0-9][a-z0-9-]{0,31}$/.test(nodeRaw)) {
    throw new ConfigError(
      `NODE_NAME must be 1-32 lower-case letters, digits or '-' (starting with a letter or digit), got "${nodeRaw}"`,
    );
  }
  const nodeName = nodeRaw ? nodeRaw : undefined;

  const level = (env.LOG_LEVEL?.trim() || "info") as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
  }

  return {
    port,
    host,
    redisUrl,
    redisClusterNodes,
    redisPrefix,
    publicOrigin,
    allowedOrigins,
    sessionTtlMs,
    therapistApiKeys,
    commandRate,
    authFailuresPerMinute,
    sessionsPerHour,
    spaceTtlMs,
    spacesPerHour,
    metricsToken,
    quickExitUrl,
    supportUrl,
    trustProxy,
    nodeName,
    logLevel: level,
  };
}
