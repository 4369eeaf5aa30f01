/** Picks the session store from the configuration: Redis when a URL is given, else the embedded memory store. */
import { MemoryStore } from "./memory.ts";
import { RedisStore } from "./redis.ts";
import type { SessionStore } from "./types.ts";

export { MemoryStore } from "./memory.ts";
export { DEFAULT_REDIS_PREFIX, RedisStore } from "./redis.ts";
export type { SeatLink, SeatLookup, SessionRecord, SessionStore, UpdateResult } from "./types.ts";

export interface StoreConfig {
  redisUrl?: string;
  /** The nodes of a Redis Cluster (instead of redisUrl). */
  redisClusterNodes?: string[];
  redisPrefix: string;
  /** Receives Redis connection errors (e.g. to log them); never message content. */
  onRedisError?: (err: Error) => void;
}

/** The store the configuration asks for; rejects when a configured Redis cannot be reached. */
export async function createStore(config: StoreConfig): Promise<SessionStore> {
  if (!config.redisUrl && !config.redisClusterNodes?.length) return new MemoryStore();
  return RedisStore.connect({
    url: config.redisUrl,
    clusterNodes: config.redisClusterNodes,
    prefix: config.redisPrefix,
    onError: config.onRedisError,
  });
}
