/**
 * SessionStore on Redis (node-redis 6), shared by every Attune process pointed at the same Redis.
 *
 * Keys of one session (all carry the same TTL, are renewed together, and share one cluster slot: the braces are a
 * Redis hash tag on the session id):
 *   `${prefix}s:{id}`        HASH { v: state version, core: core JSON } (v kept apart so Lua never parses JSON)
 *   `${prefix}s:{id}:x`      LIST of uploaded exercise definitions (appended)
 *   `${prefix}s:{id}:c`      LIST of conversation entries, each `[list name, entry]` (appended)
 *   `${prefix}s:{id}:log`    LIST of applied commands (appended)
 *   `${prefix}s:{id}:r`      LIST of the acks of the latest commands (appended, trimmed to RECENT_COMMANDS)
 *   `${prefix}s:{id}:links`  HASH { <seat>: current token hash, "tok:<hash>": seat, "rev:<hash>": "1" }
 * A token names its session, so finding its seat reads that session's links hash: every call touches one slot.
 * Every token ever issued for the session stays listed, so a replaced (revoked) link keeps answering
 * TOKEN_REVOKED until the session expires, and is renewed and erased with the rest.
 */
import { createClient, createCluster } from "redis";
import { FIND_LINK, REISSUE_LINK, REVOKE_LINK, script } from "./redis-scripts.ts";
import type { LogEntry, Seat } from "../../shared/protocol.ts";
import { SEATS } from "../../shared/protocol.ts";
import {
  decodeLog,
  decodeRecord,
  decodeWorking,
  encodeAppended,
  encodeConversation,
  encodeCore,
  encodeCustom,
  encodeLogEntry,
  encodeRecent,
  wholeTtl,
} from "./codec.ts";
import type {
  HeldSeat,
  NodeRegistry,
  SeatLink,
  SeatLookup,
  SessionChange,
  SessionRecord,
  SessionStore,
  UpdateResult,
  WorkingRecord,
} from "./types.ts";
import { RECENT_COMMANDS } from "./types.ts";
import { RedisSpaceStore, type SpaceClient, spaceScripts } from "./space-redis.ts";
import type { SpaceStore } from "./space-types.ts";

export const DEFAULT_REDIS_PREFIX = "attune:";
const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/** The keys of one session, in the order every script takes them. */
const KEY_SUFFIXES = ["", ":x", ":c", ":log", ":r", ":links"] as const;

/**
 * KEYS: the session's keys; ARGV: version, core JSON, ttl ms, then counted groups: links (seat, hash pairs),
 * exercises, conversation entries, recent acks. Refuses an existing id so a create never overwrites a session.
 */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
local ttl = ARGV[3]
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'core', ARGV[2])
local i = 4
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('HSET', KEYS[6], ARGV[i], ARGV[i + 1], 'tok:' .. ARGV[i + 1], ARGV[i])
  i = i + 2
end
for k = 2, 3 do
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do redis.call('RPUSH', KEYS[k], ARGV[i]); i = i + 1 end
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('RPUSH', KEYS[5], ARGV[i]); i = i + 1 end
for k = 1, #KEYS do redis.call('PEXPIRE', KEYS[k], ttl) end
return 'ok'
`;

/**
 * KEYS: the session's keys; ARGV: expected version, new version, core JSON, ttl ms, log entry, recent ack ('' for
 * none), recent bound, count of exercises, the exercises, then the conversation entries.
 * On a version mismatch it answers the working record (core, exercises, recent acks), so a losing writer
 * re-applies without loading again.
 */
const UPDATE = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return 'missing' end
if v ~= ARGV[1] then
  return {'conflict', redis.call('HGET', KEYS[1], 'core'), redis.call('LRANGE', KEYS[2], 0, -1), redis.call('LRANGE', KEYS[5], 0, -1)}
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'core', ARGV[3])
redis.call('RPUSH', KEYS[4], ARGV[5])
if ARGV[6] ~= '' then
  redis.call('RPUSH', KEYS[5], ARGV[6])
  redis.call('LTRIM', KEYS[5], -tonumber(ARGV[7]), -1)
end
local n = tonumber(ARGV[8])
local i = 9
for _ = 1, n do redis.call('RPUSH', KEYS[2], ARGV[i]); i = i + 1 end
while i <= #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]); i = i + 1 end
local ttl = ARGV[4]
for k = 1, #KEYS do redis.call('PEXPIRE', KEYS[k], ttl) end
return 'ok'
`;

/** KEYS: the session's keys. One consistent read of the whole record (the log excepted). */
const LOAD = `
local core = redis.call('HGET', KEYS[1], 'core')
if not core then return false end
return {core, redis.call('LRANGE', KEYS[2], 0, -1), redis.call('LRANGE', KEYS[3], 0, -1), redis.call('LRANGE', KEYS[5], 0, -1)}
`;

/** KEYS: the session's keys. What a command needs: core, exercises, recent acks. */
const LOAD_WORKING = `
local core = redis.call('HGET', KEYS[1], 'core')
if not core then return false end
return {core, redis.call('LRANGE', KEYS[2], 0, -1), redis.call('LRANGE', KEYS[5], 0, -1)}
`;

/** KEYS: state, log. */
const LOAD_LOG = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('LRANGE', KEYS[2], 0, -1)
`;

const scripts = {
  createSession: script<string>(CREATE),
  updateSession: script<string | [string, string, string[], string[]]>(UPDATE),
  loadSession: script<null | [string, string[], string[], string[]]>(LOAD),
  loadWorking: script<null | [string, string[], string[]]>(LOAD_WORKING),
  loadLog: script<null | string[]>(LOAD_LOG),
  findSeat: script<null | [string | null, string | null]>(FIND_LINK),
  revokeSeat: script<number>(REVOKE_LINK),
  reissueSeat: script<number>(REISSUE_LINK),
  // The couples' spaces (issue 15) live beside the sessions: see space-redis.ts.
  ...spaceScripts,
};

export interface RedisStoreOptions {
  /** A single Redis (or one reachable through a proxy). */
  url?: string;
  /**
   * The nodes of a Redis Cluster (redis://host:port each; a few are enough to discover the rest). Every key of a
   * session shares one hash slot, so each command stays one round trip to one shard.
   */
  clusterNodes?: string[];
  /** Prepended to every key (default "attune:"): lets several deployments or test runs share one Redis. */
  prefix?: string;
  /** Give up on the first connection after this long (ms). */
  connectTimeoutMs?: number;
  /**
   * A call that gets no reply within this long (ms) rejects instead of hanging a request. The command may still
   * land later: an update that timed out has an unknown outcome, which the command-id dedupe makes safe to retry.
   */
  commandTimeoutMs?: number;
  /** Called with each connection error (the store itself never throws from an event). */
  onError?: (err: Error) => void;
}

function reconnectStrategy(state: { ready: boolean }) {
  // Fail the first connection fast (a wrong address is a start-up error); once up, keep reconnecting.
  return (retries: number, cause: Error) =>
    state.ready ? Math.min(50 * 2 ** retries, 2000) : new Error(`cannot reach Redis: ${cause.message}`);
}

/**
 * No time-out of node-redis' own: #bounded already bounds every call (and tells an unanswered write from a refused
 * one). node-redis' default (5 s) would arm an AbortSignal.timeout per command, whose timer fires and builds a
 * DOMException for every command long after its reply came.
 */
const commandOptions = { timeout: 0 };

function buildClient(options: RedisStoreOptions, state: { ready: boolean }) {
  return createClient({
    url: options.url,
    scripts,
    commandOptions,
    // Commands issued while Redis is away reject at once instead of piling up in memory.
    disableOfflineQueue: true,
    // A Redis that hangs must not let pending commands grow without bound either.
    commandsQueueMaxLength: 10_000,
    socket: { connectTimeout: options.connectTimeoutMs ?? 3000, reconnectStrategy: reconnectStrategy(state) },
  });
}

function buildCluster(options: RedisStoreOptions, state: { ready: boolean }) {
  return createCluster({
    rootNodes: (options.clusterNodes ?? []).map((url) => ({ url })),
    scripts,
    commandOptions,
    defaults: {
      disableOfflineQueue: true,
      commandsQueueMaxLength: 10_000,
      socket: { connectTimeout: options.connectTimeoutMs ?? 3000, reconnectStrategy: reconnectStrategy(state) },
    },
  });
}

type SingleClient = ReturnType<typeof buildClient>;
type ClusterClient = ReturnType<typeof buildCluster>;

/** The commands the store sends, which a single client and a cluster client both offer. */
type StoreClient = Pick<
  SingleClient,
  | keyof typeof scripts
  | "del"
  | "pTTL"
  | "set"
  | "sAdd"
  | "sRem"
  | "sMembers"
  | "exists"
  | "pExpire"
  | "close"
  | "destroy"
  | "isOpen"
>;

/**
 * Connects to a single Redis or a Redis Cluster, as configured. A cluster client answers PING per node, so ping asks
 * every master.
 */
async function connectClient(
  options: RedisStoreOptions,
): Promise<{ client: StoreClient; ping: () => Promise<boolean>; where: string }> {
  const state = { ready: false };
  const cluster = options.clusterNodes && options.clusterNodes.length > 0;
  const where = cluster
    ? `the Redis Cluster at ${(options.clusterNodes ?? []).map(redactUrl).join(", ")}`
    : `Redis at ${redactUrl(options.url ?? "")}`;
  if (!cluster && !options.url) throw new Error("RedisStore needs a url or cluster nodes");
  const raw: SingleClient | ClusterClient = cluster ? buildCluster(options, state) : buildClient(options, state);
  // An 'error' event without a listener would kill the process; connection trouble surfaces as rejected commands.
  raw.on("error", (err: Error) => options.onError?.(err));
  try {
    await raw.connect();
    state.ready = true;
  } catch (err) {
    raw.destroy();
    throw new Error(`${where} is unreachable: ${(err as Error).message}`, { cause: err });
  }
  if (!cluster) {
    const single = raw as SingleClient;
    single.on("ready", () => {
      state.ready = true;
    });
    return { client: single, ping: async () => (await single.ping()) === "PONG", where };
  }
  const clustered = raw as ClusterClient;
  return {
    client: clustered as unknown as StoreClient,
    ping: async () => {
      const masters = clustered.masters;
      if (masters.length === 0) return false;
      const replies = await Promise.all(masters.map(async (m) => (await clustered.nodeClient(m)).ping()));
      return replies.every((r) => r === "PONG");
    },
    where,
  };
}

/** SessionStore backed by Redis; build it with RedisStore.connect. */
export class RedisStore implements SessionStore {
  readonly prefix: string;
  readonly #client: StoreClient;
  readonly #ping: () => Promise<boolean>;
  readonly #timeoutMs: number;
  #spaces: RedisSpaceStore | undefined;

  private constructor(client: StoreClient, ping: () => Promise<boolean>, prefix: string, timeoutMs: number) {
    this.#client = client;
    this.#ping = ping;
    this.prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  /** Connects to Redis (or a Redis Cluster) and returns the store; rejects with a clear error when it does not answer. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    const { client, ping } = await connectClient(options);
    return new RedisStore(client, ping, prefix, options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
  }

  /** Every key of one session, in script order. */
  #keys(id: string): string[] {
    return KEY_SUFFIXES.map((suffix) => `${this.prefix}s:{${id}}${suffix}`);
  }

  #stateAndLinks(id: string): string[] {
    const keys = this.#keys(id);
    return [keys[0]!, keys[5]!];
  }

  async create(record: SessionRecord, links: SeatLink[], ttlMs: number): Promise<void> {
    const ttl = wholeTtl(ttlMs);
    const { state } = record;
    const args = [String(state.version), encodeCore(state), String(ttl), String(links.length)];
    for (const link of links) args.push(link.seat, link.tokenHash);
    const custom = encodeCustom(state.custom);
    const conversation = encodeConversation(state);
    const recent = record.recentCommands.slice(-RECENT_COMMANDS).map(encodeRecent);
    args.push(String(custom.length), ...custom, String(conversation.length), ...conversation);
    args.push(String(recent.length), ...recent);
    const reply = await this.#bounded(this.#client.createSession(this.#keys(state.id), args));
    if (reply === "exists") throw new Error(`session ${state.id} already exists`);
  }

  async load(sessionId: string): Promise<SessionRecord | null> {
    const reply = await this.#bounded(this.#client.loadSession(this.#keys(sessionId), []));
    if (!Array.isArray(reply)) return null;
    const [core, custom, conversation, recent] = reply as [string, string[], string[], string[]];
    return decodeRecord(core, custom, conversation, recent);
  }

  async loadWorking(sessionId: string): Promise<WorkingRecord | null> {
    const reply = await this.#bounded(this.#client.loadWorking(this.#keys(sessionId), []));
    if (!Array.isArray(reply)) return null;
    const [core, custom, recent] = reply as [string, string[], string[]];
    return decodeWorking(core, custom, recent);
  }

  async loadLog(sessionId: string): Promise<LogEntry[] | null> {
    const keys = this.#keys(sessionId);
    const reply = await this.#bounded(this.#client.loadLog([keys[0]!, keys[3]!], []));
    return Array.isArray(reply) ? decodeLog(reply) : null;
  }

  async update(
    sessionId: string,
    expectedVersion: number,
    change: SessionChange,
    ttlMs: number,
  ): Promise<UpdateResult> {
    const ttl = wholeTtl(ttlMs);
    const custom = encodeCustom(change.appended.custom);
    const args = [
      String(expectedVersion),
      String(change.core.version),
      encodeCore(change.core),
      String(ttl),
      encodeLogEntry(change.entry),
      change.recent ? encodeRecent(change.recent) : "",
      String(RECENT_COMMANDS),
      String(custom.length),
      ...custom,
      ...encodeAppended(change.appended),
    ];
    const reply = await this.#bounded(this.#client.updateSession(this.#keys(sessionId), args));
    if (reply === "ok" || reply === "missing") return { status: reply };
    if (Array.isArray(reply) && reply[0] === "conflict") {
      const [, core, custom, recent] = reply;
      if (typeof core === "string" && Array.isArray(custom) && Array.isArray(recent)) {
        return { status: "conflict", current: decodeWorking(core, custom, recent) };
      }
    }
    throw new Error(`unexpected reply from the update script: ${String(reply)}`);
  }

  async delete(sessionId: string): Promise<void> {
    await this.#bounded(this.#client.del(this.#keys(sessionId)));
  }

  async findSeat(sessionId: string, tokenHash: string): Promise<SeatLookup | null> {
    const reply = await this.#bounded(this.#client.findSeat(this.#stateAndLinks(sessionId), [tokenHash]));
    if (!Array.isArray(reply)) return null;
    const seat = reply[0] as Seat | null;
    if (!seat || !SEATS.includes(seat)) return null;
    return { sessionId, seat, revoked: reply[1] === "1" };
  }

  async revokeSeat(sessionId: string, seat: Seat): Promise<boolean> {
    const reply = await this.#bounded(this.#client.revokeSeat(this.#stateAndLinks(sessionId), [seat]));
    return reply === 1;
  }

  async reissueSeat(sessionId: string, seat: Seat, tokenHash: string): Promise<boolean> {
    const reply = await this.#bounded(this.#client.reissueSeat(this.#stateAndLinks(sessionId), [seat, tokenHash]));
    if (reply === -1) throw new Error("token hash already in use");
    return reply === 1;
  }

  async ttl(sessionId: string): Promise<number | null> {
    const ms = await this.#bounded(this.#client.pTTL(this.#keys(sessionId)[0]!));
    // -2: no such key; -1 (no expiry) never happens for keys this store wrote.
    return ms < 0 ? null : ms;
  }

  async ping(): Promise<boolean> {
    try {
      return await this.#bounded(this.#ping());
    } catch {
      return false;
    }
  }

  /** The registry of server processes, in the same Redis under the same prefix. */
  nodeRegistry(): NodeRegistry {
    const client = this.#client;
    const bounded = <T>(call: Promise<T>) => this.#bounded(call);
    const nodes = `${this.prefix}nodes`;
    const alive = (node: string) => `${this.prefix}node:{${node}}`;
    const seats = (node: string) => `${this.prefix}node:{${node}}:seats`;
    const member = (held: HeldSeat) => `${held.sessionId} ${held.seat}`;
    return {
      async beat(node, ttlMs, keepMs) {
        const keep = wholeTtl(keepMs);
        const [, added] = await Promise.all([
          bounded(client.set(alive(node), "1", { expiration: { type: "PX", value: wholeTtl(ttlMs) } })),
          bounded(client.sAdd(nodes, node)),
          // Nothing of the registry outlives the sessions it speaks of, even if every process stops for good.
          bounded(client.pExpire(nodes, keep)),
          bounded(client.pExpire(seats(node), keep)),
        ]);
        return added === 0;
      },
      async claim(node, held) {
        const key = seats(node);
        // A first claim creates the set: it gets the node list's time to live until the next beat renews it.
        const [, ttl] = await Promise.all([bounded(client.sAdd(key, member(held))), bounded(client.pTTL(nodes))]);
        if (ttl > 0) await bounded(client.pExpire(key, ttl, "NX"));
      },
      async release(node, held) {
        await bounded(client.sRem(seats(node), member(held)));
      },
      async orphans() {
        const out: { node: string; seats: HeldSeat[] }[] = [];
        for (const node of await bounded(client.sMembers(nodes))) {
          if ((await bounded(client.exists(alive(node)))) === 1) continue;
          const held = (await bounded(client.sMembers(seats(node)))).flatMap((m): HeldSeat[] => {
            const [sessionId, seat] = m.split(" ");
            return sessionId && SEATS.includes(seat as Seat) ? [{ sessionId, seat: seat as Seat }] : [];
          });
          out.push({ node, seats: held });
        }
        return out;
      },
      async forget(node) {
        await Promise.all([bounded(client.del([seats(node), alive(node)])), bounded(client.sRem(nodes, node))]);
      },
    };
  }

  /** The couples' spaces, in the same Redis under the same prefix (`${prefix}sp:{id}…`). */
  spaces(): SpaceStore {
    this.#spaces ??= new RedisSpaceStore(this.#client as unknown as SpaceClient, this.prefix, (call) =>
      this.#bounded(call),
    );
    return this.#spaces;
  }

  async close(): Promise<void> {
    if (!this.#client.isOpen) return;
    try {
      // A graceful close waits for pending replies, which a hung Redis never sends.
      await this.#bounded(this.#client.close());
    } catch {
      this.#client.destroy();
    }
  }

  /** The call's result, or a rejection once it has waited the command time-out without a reply. */
  #bounded<T>(call: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    // A reply (or error) arriving after the time-out is dropped, never left unhandled.
    call.catch(() => {});
    return Promise.race([call, expired]).finally(() => clearTimeout(timer));
  }
}

/** The URL without its password, fit for an error message or a log line. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(invalid REDIS_URL)";
  }
}
