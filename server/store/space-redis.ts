/**
 * Spaces in Redis (RedisStore's half of the space contract), under the same prefix as the sessions.
 *
 * Keys of one space (one cluster slot: the braces are a hash tag on the space id; all share one TTL, renewed
 * together on every visit and append):
 *   `${prefix}sp:{id}`        HASH { created: ms, n: entry count, bytes: envelope bytes }
 *   `${prefix}sp:{id}:e`      HASH { <entry id>: entry JSON (metadata and the opaque envelope) }
 *   `${prefix}sp:{id}:o`      LIST of entry ids in the order stored
 *   `${prefix}sp:{id}:links`  HASH { <partner>: current token hash, "tok:<hash>": partner, "rev:<hash>": "1" }
 * Each call is one script on one slot, so an append is atomic: two partners saving the same entry id at once
 * land exactly once, and two different entries both land.
 */
import { FIND_LINK, REISSUE_LINK, REVOKE_LINK, script } from "./redis-scripts.ts";
import type { Partner } from "../../shared/protocol.ts";
import { wholeTtl } from "./codec.ts";
import type {
  AppendResult,
  PartnerLink,
  SpaceEntry,
  SpaceLimits,
  SpaceLinkLookup,
  SpaceMeta,
  SpaceStore,
} from "./space-types.ts";

const SUFFIXES = ["", ":e", ":o", ":links"] as const;

/** KEYS: the space's keys; ARGV: created, ttl, then partner/hash pairs. */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('HSET', KEYS[1], 'created', ARGV[1], 'n', '0', 'bytes', '0')
local i = 3
while i < #ARGV do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1], 'tok:' .. ARGV[i + 1], ARGV[i])
  i = i + 2
end
for k = 1, #KEYS do redis.call('PEXPIRE', KEYS[k], ARGV[2]) end
return 'ok'
`;

/** KEYS: the space's keys; ARGV: entry id, entry JSON, size, max entries, max bytes, ttl. */
const APPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 'exists' end
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local bytes = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
if n + 1 > tonumber(ARGV[4]) or bytes + tonumber(ARGV[3]) > tonumber(ARGV[5]) then return 'full' end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'n', tostring(n + 1), 'bytes', tostring(bytes + tonumber(ARGV[3])))
for k = 1, #KEYS do redis.call('PEXPIRE', KEYS[k], ARGV[6]) end
return 'ok'
`;

/** KEYS: the space's keys. The entries in stored order. */
const LIST = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local ids = redis.call('LRANGE', KEYS[3], 0, -1)
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(ids))
`;

/** KEYS: the space's keys. */
const META = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('HMGET', KEYS[1], 'created', 'n', 'bytes')
`;

/** KEYS: the space's keys; ARGV: ttl. Renews every key; 0 when the space is unknown. */
const TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for k = 1, #KEYS do redis.call('PEXPIRE', KEYS[k], ARGV[1]) end
return 1
`;

/** The space scripts, registered on RedisStore's client beside the session scripts. */
export const spaceScripts = {
  spaceCreate: script<string>(CREATE),
  spaceAppend: script<string>(APPEND),
  spaceList: script<null | (string | null)[]>(LIST),
  spaceMeta: script<null | [string | null, string | null, string | null]>(META),
  spaceTouch: script<number>(TOUCH),
  spaceFind: script<null | [string | null, string | null]>(FIND_LINK),
  spaceRevoke: script<number>(REVOKE_LINK),
  spaceReissue: script<number>(REISSUE_LINK),
};

/** What the space store needs of RedisStore's client. */
export interface SpaceClient {
  spaceCreate(keys: string[], args: string[]): Promise<string>;
  spaceAppend(keys: string[], args: string[]): Promise<string>;
  spaceList(keys: string[], args: string[]): Promise<null | (string | null)[]>;
  spaceMeta(keys: string[], args: string[]): Promise<null | [string | null, string | null, string | null]>;
  spaceTouch(keys: string[], args: string[]): Promise<number>;
  spaceFind(keys: string[], args: string[]): Promise<null | [string | null, string | null]>;
  spaceRevoke(keys: string[], args: string[]): Promise<number>;
  spaceReissue(keys: string[], args: string[]): Promise<number>;
  del(keys: string[]): Promise<number>;
  pTTL(key: string): Promise<number>;
}

const PARTNERS: readonly string[] = ["a", "b"];

export class RedisSpaceStore implements SpaceStore {
  readonly #client: SpaceClient;
  readonly #prefix: string;
  readonly #bounded: <T>(call: Promise<T>) => Promise<T>;

  constructor(client: SpaceClient, prefix: string, bounded: <T>(call: Promise<T>) => Promise<T>) {
    this.#client = client;
    this.#prefix = prefix;
    this.#bounded = bounded;
  }

  /** Every key of one space, in script order. */
  keys(spaceId: string): string[] {
    return SUFFIXES.map((suffix) => `${this.#prefix}sp:{${spaceId}}${suffix}`);
  }

  #metaAndLinks(spaceId: string): string[] {
    const keys = this.keys(spaceId);
    return [keys[0]!, keys[3]!];
  }

  async createSpace(meta: { id: string; createdAt: number }, links: PartnerLink[], ttlMs: number): Promise<void> {
    const args = [String(meta.createdAt), String(wholeTtl(ttlMs))];
    for (const link of links) args.push(link.partner, link.tokenHash);
    const reply = await this.#bounded(this.#client.spaceCreate(this.keys(meta.id), args));
    if (reply === "exists") throw new Error(`space ${meta.id} already exists`);
  }

  async findByLinkHash(spaceId: string, tokenHash: string): Promise<SpaceLinkLookup | null> {
    const reply = await this.#bounded(this.#client.spaceFind(this.#metaAndLinks(spaceId), [tokenHash]));
    if (!Array.isArray(reply)) return null;
    const partner = reply[0];
    if (!partner || !PARTNERS.includes(partner)) return null;
    return { spaceId, partner: partner as Partner, revoked: reply[1] === "1" };
  }

  async append(spaceId: string, entry: SpaceEntry, limits: SpaceLimits, ttlMs: number): Promise<AppendResult> {
    const args = [
      entry.id,
      JSON.stringify(entry),
      String(entry.size),
      String(limits.maxEntries),
      String(limits.maxBytes),
      String(wholeTtl(ttlMs)),
    ];
    const reply = await this.#bounded(this.#client.spaceAppend(this.keys(spaceId), args));
    if (reply === "ok" || reply === "exists" || reply === "missing" || reply === "full") return reply;
    throw new Error(`unexpected reply from the space append script: ${String(reply)}`);
  }

  async meta(spaceId: string): Promise<SpaceMeta | null> {
    const reply = await this.#bounded(this.#client.spaceMeta(this.keys(spaceId), []));
    if (!Array.isArray(reply)) return null;
    return { id: spaceId, createdAt: Number(reply[0]), entries: Number(reply[1] ?? 0), bytes: Number(reply[2] ?? 0) };
  }

  async listEntries(spaceId: string): Promise<SpaceEntry[] | null> {
    const reply = await this.#bounded(this.#client.spaceList(this.keys(spaceId), []));
    if (!Array.isArray(reply)) return null;
    return reply.flatMap((json) => (typeof json === "string" ? [JSON.parse(json) as SpaceEntry] : []));
  }

  async touch(spaceId: string, ttlMs: number): Promise<boolean> {
    return (await this.#bounded(this.#client.spaceTouch(this.keys(spaceId), [String(wholeTtl(ttlMs))]))) === 1;
  }

  async revokeLink(spaceId: string, partner: Partner): Promise<boolean> {
    return (await this.#bounded(this.#client.spaceRevoke(this.#metaAndLinks(spaceId), [partner]))) === 1;
  }

  async reissueLink(spaceId: string, partner: Partner, tokenHash: string): Promise<boolean> {
    const reply = await this.#bounded(this.#client.spaceReissue(this.#metaAndLinks(spaceId), [partner, tokenHash]));
    if (reply === -1) throw new Error("token hash already in use");
    return reply === 1;
  }

  async erase(spaceId: string): Promise<void> {
    await this.#bounded(this.#client.del(this.keys(spaceId)));
  }

  async ttl(spaceId: string): Promise<number | null> {
    const ms = await this.#bounded(this.#client.pTTL(this.keys(spaceId)[0]!));
    return ms < 0 ? null : ms;
  }
}
