/**
 * Everything Redis holds under one deployment's key prefix (and the adapter's stream named after it), as text, so a
 * test can search it for what must never be kept (words, keys). Reads every key whatever its type.
 */
import { REDIS_URL } from "./env.ts";

export async function redisDump(prefix: string): Promise<string> {
  const { createClient } = await import("redis");
  const client = createClient({ url: REDIS_URL });
  client.on("error", () => {});
  await client.connect();
  const out: string[] = [];
  const read: Record<string, (key: string) => string[]> = {
    string: (key) => ["GET", key],
    hash: (key) => ["HGETALL", key],
    list: (key) => ["LRANGE", key, "0", "-1"],
    set: (key) => ["SMEMBERS", key],
    zset: (key) => ["ZRANGE", key, "0", "-1", "WITHSCORES"],
    stream: (key) => ["XRANGE", key, "-", "+"],
  };
  try {
    for (const pattern of [`${prefix}*`, `socket.io:${prefix}*`]) {
      for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 500 })) {
        for (const key of Array.isArray(batch) ? batch : [batch]) {
          out.push(key);
          const type = String(await client.sendCommand(["TYPE", key]));
          const command = read[type];
          if (!command) throw new Error(`key of unexpected type ${type}`);
          out.push(JSON.stringify(await client.sendCommand(command(key))));
        }
      }
    }
  } finally {
    await client.quit().catch(() => {});
  }
  return out.join("\n");
}
