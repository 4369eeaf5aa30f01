/**
 * PracticeStore on Redis (node-redis 6). Keys of one practice share one cluster slot (the braces are a hash tag):
 *   `${prefix}p:{id}`       STRING: the practice record JSON
 *   `${prefix}p:{id}:x`     HASH { <exercise id>: definition JSON, "#<exercise id>": first-saved order }
 *   `${prefix}p:{id}:w`     HASH { <waiting id>: waiting partner JSON } (each carries its own expiry)
 * A practice does not expire (it is the therapist's); a waiting partner is pruned once past its expiry. The
 * bounded writes (library size, waiting list size) run as small Lua scripts so two processes cannot overshoot.
 */
import { createClient, createCluster } from "redis";
import type { ExerciseDefinition } from "../../shared/exercise-format.ts";
import type { PracticeRecord, PracticeStore, WaitingPartner } from "./practice.ts";
import { PRACTICE_LIMITS } from "./practice.ts";

export interface RedisPracticeStoreOptions {
  url?: string;
  clusterNodes?: string[];
  prefix?: string;
  onError?: (err: Error) => void;
}

/** KEYS: library hash; ARGV: exercise id, definition JSON, bound. Answers 'ok' or 'full'. */
const SAVE_EXERCISE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  local n = redis.call('HLEN', KEYS[1]) / 2
  if n >= tonumber(ARGV[3]) then return 'full' end
  redis.call('HSET', KEYS[1], '#' .. ARGV[1], redis.call('TIME')[1] .. string.format('%06d', redis.call('TIME')[2]))
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
`;

/** KEYS: waiting hash; ARGV: now, waiting id, entry JSON, bound. Prunes expired entries, then adds or answers 'full'. */
const ADD_WAITING = `
local all = redis.call('HGETALL', KEYS[1])
local live = 0
for i = 1, #all, 2 do
  local ok, entry = pcall(cjson.decode, all[i + 1])
  if ok and entry.expiresAt > tonumber(ARGV[1]) then live = live + 1 else redis.call('HDEL', KEYS[1], all[i]) end
end
if live >= tonumber(ARGV[4]) then return 'full' end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 'ok'
`;

interface Commands {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: { condition: "NX" }): Promise<string | null>;
  hGet(key: string, field: string): Promise<string | null>;
  hGetAll(key: string): Promise<Record<string, string>>;
  hDel(key: string, field: string | string[]): Promise<number>;
  hSet(key: string, field: string, value: string): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  isOpen: boolean;
}

export class RedisPracticeStore implements PracticeStore {
  readonly #client: Commands;
  readonly #prefix: string;

  private constructor(client: Commands, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  static async connect(options: RedisPracticeStoreOptions): Promise<RedisPracticeStore> {
    const cluster = options.clusterNodes && options.clusterNodes.length > 0;
    if (!cluster && !options.url) throw new Error("RedisPracticeStore needs a url or cluster nodes");
    const raw = cluster
      ? createCluster({
          rootNodes: (options.clusterNodes ?? []).map((url) => ({ url })),
          defaults: { disableOfflineQueue: true },
        })
      : createClient({ url: options.url, disableOfflineQueue: true });
    raw.on("error", (err: Error) => options.onError?.(err));
    await raw.connect();
    return new RedisPracticeStore(raw as unknown as Commands, options.prefix ?? "attune:");
  }

  #key(id: string, suffix = ""): string {
    return `${this.#prefix}p:{${id}}${suffix}`;
  }

  async createPractice(practice: PracticeRecord): Promise<void> {
    const done = await this.#client.set(this.#key(practice.id), JSON.stringify(practice), { condition: "NX" });
    if (done !== "OK") throw new Error(`practice ${practice.id} exists`);
  }

  async getPractice(id: string): Promise<PracticeRecord | null> {
    const json = await this.#client.get(this.#key(id));
    return json ? (JSON.parse(json) as PracticeRecord) : null;
  }

  async #change(id: string, edit: (p: PracticeRecord) => void): Promise<boolean> {
    // One writer per practice in practice (its therapist); the last rename or link change wins.
    const p = await this.getPractice(id);
    if (!p) return false;
    edit(p);
    await this.#client.set(this.#key(id), JSON.stringify(p));
    return true;
  }

  renamePractice(id: string, displayName: string): Promise<boolean> {
    return this.#change(id, (p) => {
      p.displayName = displayName;
    });
  }

  changeRoomLink(id: string, roomHash: string, roomVersion: number): Promise<boolean> {
    return this.#change(id, (p) => {
      p.roomHash = roomHash;
      p.roomVersion = roomVersion;
    });
  }

  async listExercises(id: string): Promise<ExerciseDefinition[]> {
    const all = await this.#client.hGetAll(this.#key(id, ":x"));
    return Object.keys(all)
      .filter((k) => !k.startsWith("#"))
      .sort((x, y) => (all[`#${x}`] ?? "").localeCompare(all[`#${y}`] ?? "") || x.localeCompare(y))
      .map((k) => JSON.parse(all[k]!) as ExerciseDefinition);
  }

  async saveExercise(id: string, definition: ExerciseDefinition): Promise<"ok" | "full" | "missing"> {
    if (!(await this.getPractice(id))) return "missing";
    const reply = await this.#client.eval(SAVE_EXERCISE, {
      keys: [this.#key(id, ":x")],
      arguments: [definition.id, JSON.stringify(definition), String(PRACTICE_LIMITS.exercisesMax)],
    });
    return reply === "full" ? "full" : "ok";
  }

  async deleteExercise(id: string, exerciseId: string): Promise<boolean> {
    const removed = await this.#client.hDel(this.#key(id, ":x"), [exerciseId, `#${exerciseId}`]);
    return removed > 0;
  }

  async addWaiting(id: string, partner: WaitingPartner, now: number): Promise<"ok" | "full" | "missing"> {
    if (!(await this.getPractice(id))) return "missing";
    const reply = await this.#client.eval(ADD_WAITING, {
      keys: [this.#key(id, ":w")],
      arguments: [String(now), partner.id, JSON.stringify(partner), String(PRACTICE_LIMITS.waitingMax)],
    });
    return reply === "full" ? "full" : "ok";
  }

  async listWaiting(id: string, now: number): Promise<WaitingPartner[]> {
    const all = await this.#client.hGetAll(this.#key(id, ":w"));
    const live: WaitingPartner[] = [];
    const expired: string[] = [];
    for (const [field, json] of Object.entries(all)) {
      const w = JSON.parse(json) as WaitingPartner;
      if (w.expiresAt > now) live.push(w);
      else expired.push(field);
    }
    if (expired.length > 0) await this.#client.hDel(this.#key(id, ":w"), expired);
    return live.sort((x, y) => x.since - y.since);
  }

  async findWaiting(id: string, ticketHash: string, now: number): Promise<WaitingPartner | null> {
    return (await this.listWaiting(id, now)).find((w) => w.ticketHash === ticketHash) ?? null;
  }

  async seatWaiting(
    id: string,
    waitingId: string,
    seat: NonNullable<WaitingPartner["seat"]>,
    expiresAt: number,
  ): Promise<boolean> {
    const json = await this.#client.hGet(this.#key(id, ":w"), waitingId);
    if (!json) return false;
    const w = JSON.parse(json) as WaitingPartner;
    w.seat = { ...seat };
    w.expiresAt = expiresAt;
    await this.#client.hSet(this.#key(id, ":w"), waitingId, JSON.stringify(w));
    return true;
  }

  async removeWaiting(id: string, waitingId: string): Promise<boolean> {
    // HDEL answers how many fields it removed: of two calls at once, one gets 1.
    return (await this.#client.hDel(this.#key(id, ":w"), waitingId)) === 1;
  }

  async close(): Promise<void> {
    if (!this.#client.isOpen) return;
    // A graceful close waits for pending replies, which a hung Redis never sends: give it a second, then drop it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), 1000);
    });
    try {
      const closing = this.#client.close().then(() => "closed" as const);
      closing.catch(() => {});
      if ((await Promise.race([closing, late])) === "late") this.#client.destroy();
    } catch {
      this.#client.destroy();
    } finally {
      clearTimeout(timer);
    }
  }
}
