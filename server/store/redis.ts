/**
 * SessionStore on Redis (node-redis 6), shared by every Attune process pointed at the same Redis.
 *
 * Keys of one session (all carry the same TTL and are renewed together):
 *   `${prefix}s:{id}`        HASH { v: state version, rec: record JSON } (v kept apart so Lua never parses JSON)
 *   `${prefix}s:{id}:links`  HASH { <seat>: current tokenHash, "<seat>:revoked": "1", "tok:<tokenHash>": seat }
 *   `${prefix}t:<tokenHash>` HASH { sid, seat, revoked? }
 * Every token ever issued for the session is listed as a "tok:" field, so a replaced (revoked) link keeps
 * answering TOKEN_REVOKED until the session expires, and is renewed and erased with the rest.
 * The braces are a Redis hash tag: a session's own keys share one cluster slot.
 */
import { createClient, defineScript } from "redis";
import type { CommandParser } from "redis";
import { SEATS } from "../../shared/protocol.ts";
import type { Seat } from "../../shared/protocol.ts";
import type { SeatLink, SeatLookup, SessionRecord, SessionStore, UpdateResult } from "./types.ts";

export const DEFAULT_REDIS_PREFIX = "attune:";
const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/**
 * KEYS: state, links, token keys...; ARGV: version, record JSON, ttl ms, session id, then a seat and its token
 * hash per token key.
 * Refuses an existing id or token so a create can never overwrite a live session.
 */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
for i = 3, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 'token-exists' end
end
local ttl = ARGV[3]
local sid = ARGV[4]
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'rec', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('DEL', KEYS[2])
for i = 3, #KEYS do
  local seat = ARGV[2 * i - 1]
  redis.call('HSET', KEYS[2], seat, ARGV[2 * i], 'tok:' .. ARGV[2 * i], seat)
  redis.call('HSET', KEYS[i], 'sid', sid, 'seat', seat)
  redis.call('PEXPIRE', KEYS[i], ttl)
end
redis.call('PEXPIRE', KEYS[2], ttl)
return 'ok'
`;

/**
 * KEYS: state, links; ARGV: expected version, new version, record JSON, ttl ms, token key prefix.
 * On a version mismatch it answers the stored record, so a losing writer re-applies without loading again.
 * Token keys are named from the links hash inside the script, so the CAS and the renewal of every key of the
 * session stay one round trip (fine on a single Redis; a cluster would need the token keys hash-tagged too).
 */
const UPDATE = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return 'missing' end
if v ~= ARGV[1] then return {'conflict', redis.call('HGET', KEYS[1], 'rec')} end
local ttl = ARGV[4]
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'rec', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
local links = redis.call('HGETALL', KEYS[2])
for i = 1, #links, 2 do
  if string.sub(links[i], 1, 4) == 'tok:' then redis.call('PEXPIRE', ARGV[5] .. string.sub(links[i], 5), ttl) end
end
return 'ok'
`;

/** KEYS: state, links; ARGV: token key prefix. */
const DELETE = `
local links = redis.call('HGETALL', KEYS[2])
for i = 1, #links, 2 do
  if string.sub(links[i], 1, 4) == 'tok:' then redis.call('DEL', ARGV[1] .. string.sub(links[i], 5)) end
end
redis.call('DEL', KEYS[1], KEYS[2])
return 'ok'
`;

/**
 * KEYS: state, links; ARGV: seat, token key prefix. The token key stays (with its TTL) and carries the flag,
 * so the handshake can tell a revoked link from an unknown one.
 */
const REVOKE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local hash = redis.call('HGET', KEYS[2], ARGV[1])
if not hash then return 0 end
redis.call('HSET', KEYS[2], ARGV[1] .. ':revoked', '1')
redis.call('HSET', ARGV[2] .. hash, 'revoked', '1')
return 1
`;

/**
 * KEYS: state, links; ARGV: seat, new token hash, token key prefix, session id. The seat's previous token is
 * revoked (it keeps answering TOKEN_REVOKED); the new one gets the session's remaining TTL so everything still
 * expires together.
 */
const REISSUE = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
local previous = redis.call('HGET', KEYS[2], ARGV[1])
if not previous then return 0 end
local fresh = ARGV[3] .. ARGV[2]
if redis.call('EXISTS', fresh) == 1 then return -1 end
redis.call('HSET', ARGV[3] .. previous, 'revoked', '1')
redis.call('HSET', fresh, 'sid', ARGV[4], 'seat', ARGV[1])
redis.call('PEXPIRE', fresh, ttl)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2], 'tok:' .. ARGV[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1] .. ':revoked')
return 1
`;

function pushAll(parser: CommandParser, keys: string[], args: string[]): void {
  parser.pushKeysLength(keys);
  for (const arg of args) parser.push(arg);
}

const scripts = {
  createSession: defineScript({
    SCRIPT: CREATE,
    parseCommand: pushAll,
    transformReply: undefined as unknown as () => string,
  }),
  updateSession: defineScript({
    SCRIPT: UPDATE,
    parseCommand: pushAll,
    transformReply: undefined as unknown as () => string | [string, string],
  }),
  deleteSession: defineScript({
    SCRIPT: DELETE,
    parseCommand: pushAll,
    transformReply: undefined as unknown as () => string,
  }),
  reissueSeat: defineScript({
    SCRIPT: REISSUE,
    parseCommand: pushAll,
    transformReply: undefined as unknown as () => number,
  }),
  revokeSeat: defineScript({
    SCRIPT: REVOKE,
    parseCommand: pushAll,
    transformReply: undefined as unknown as () => number,
  }),
};

export interface RedisStoreOptions {
  url: string;
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

function buildClient(options: RedisStoreOptions, state: { ready: boolean }) {
  return createClient({
    url: options.url,
    scripts,
    // Commands issued while Redis is away reject at once instead of piling up in memory.
    disableOfflineQueue: true,
    // A Redis that hangs must not let pending commands grow without bound either.
    commandsQueueMaxLength: 10_000,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 3000,
      // Fail the first connection fast (a wrong REDIS_URL is a start-up error); once up, keep reconnecting.
      reconnectStrategy: (retries: number, cause: Error) =>
        state.ready ? Math.min(50 * 2 ** retries, 2000) : new Error(`cannot reach Redis: ${cause.message}`),
    },
  });
}

type StoreClient = ReturnType<typeof buildClient>;

/** SessionStore backed by Redis; build it with RedisStore.connect. */
export class RedisStore implements SessionStore {
  readonly prefix: string;
  readonly #client: StoreClient;
  readonly #timeoutMs: number;

  private constructor(client: StoreClient, prefix: string, timeoutMs: number) {
    this.#client = client;
    this.prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  /** Connects to Redis and returns the store; rejects with a clear error when Redis does not answer. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    const state = { ready: false };
    const client = buildClient(options, state);
    // An 'error' event without a listener would kill the process; connection trouble surfaces as rejected commands.
    client.on("error", (err: Error) => options.onError?.(err));
    client.on("ready", () => {
      state.ready = true;
    });
    try {
      await client.connect();
    } catch (err) {
      client.destroy();
      throw new Error(`Redis at ${redactUrl(options.url)} is unreachable: ${(err as Error).message}`, { cause: err });
    }
    return new RedisStore(client, prefix, options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
  }

  #stateKey(id: string): string {
    return `${this.prefix}s:{${id}}`;
  }

  #linksKey(id: string): string {
    return `${this.prefix}s:{${id}}:links`;
  }

  get #tokenPrefix(): string {
    return `${this.prefix}t:`;
  }

  async create(record: SessionRecord, links: SeatLink[], ttlMs: number): Promise<void> {
    const ttl = wholeTtl(ttlMs);
    const id = record.state.id;
    const keys = [this.#stateKey(id), this.#linksKey(id), ...links.map((l) => this.#tokenPrefix + l.tokenHash)];
    const args = [String(record.state.version), JSON.stringify(record), String(ttl), id];
    for (const link of links) args.push(link.seat, link.tokenHash);
    const reply = await this.#bounded(this.#client.createSession(keys, args));
    if (reply === "exists") throw new Error(`session ${id} already exists`);
    if (reply === "token-exists") throw new Error("token hash already in use");
  }

  async load(sessionId: string): Promise<SessionRecord | null> {
    const rec = await this.#bounded(this.#client.hGet(this.#stateKey(sessionId), "rec"));
    return rec == null ? null : (JSON.parse(rec) as SessionRecord);
  }

  async update(sessionId: string, expectedVersion: number, next: SessionRecord, ttlMs: number): Promise<UpdateResult> {
    const ttl = wholeTtl(ttlMs);
    const reply = await this.#bounded(
      this.#client.updateSession(
        [this.#stateKey(sessionId), this.#linksKey(sessionId)],
        [String(expectedVersion), String(next.state.version), JSON.stringify(next), String(ttl), this.#tokenPrefix],
      ),
    );
    if (reply === "ok" || reply === "missing") return { status: reply };
    if (Array.isArray(reply) && reply[0] === "conflict" && typeof reply[1] === "string") {
      return { status: "conflict", current: JSON.parse(reply[1]) as SessionRecord };
    }
    throw new Error(`unexpected reply from the update script: ${String(reply)}`);
  }

  async delete(sessionId: string): Promise<void> {
    await this.#bounded(
      this.#client.deleteSession([this.#stateKey(sessionId), this.#linksKey(sessionId)], [this.#tokenPrefix]),
    );
  }

  async findSeat(tokenHash: string): Promise<SeatLookup | null> {
    const fields = await this.#bounded(this.#client.hGetAll(this.#tokenPrefix + tokenHash));
    const seat = fields.seat as Seat | undefined;
    if (!fields.sid || !seat || !SEATS.includes(seat)) return null;
    return { sessionId: fields.sid, seat, revoked: fields.revoked === "1" };
  }

  async revokeSeat(sessionId: string, seat: Seat): Promise<boolean> {
    const reply = await this.#bounded(
      this.#client.revokeSeat([this.#stateKey(sessionId), this.#linksKey(sessionId)], [seat, this.#tokenPrefix]),
    );
    return reply === 1;
  }

  async reissueSeat(sessionId: string, seat: Seat, tokenHash: string): Promise<boolean> {
    const reply = await this.#bounded(
      this.#client.reissueSeat(
        [this.#stateKey(sessionId), this.#linksKey(sessionId)],
        [seat, tokenHash, this.#tokenPrefix, sessionId],
      ),
    );
    if (reply === -1) throw new Error("token hash already in use");
    return reply === 1;
  }

  async ttl(sessionId: string): Promise<number | null> {
    const ms = await this.#bounded(this.#client.pTTL(this.#stateKey(sessionId)));
    // -2: no such key; -1 (no expiry) never happens for keys this store wrote.
    return ms < 0 ? null : ms;
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.#bounded(this.#client.ping())) === "PONG";
    } catch {
      return false;
    }
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

/** Whole milliseconds (a fractional configured TTL rounds up); refuses non-positive or non-finite values. */
function wholeTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs must be a positive number, got ${ttlMs}`);
  return Math.ceil(ttlMs);
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
