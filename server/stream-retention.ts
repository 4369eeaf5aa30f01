/**
 * Retention of the Redis Streams adapter's stream. Every cross-process broadcast (each seat's view, typed text
 * included) is appended to one stream that Redis never expires by itself; left alone, intimate content would
 * outlive the sessions it belongs to. Entries are only needed while a disconnected client may still recover its
 * missed packets, so each process trims entries older than that window.
 */
/** The little of a node-redis client the trim needs (any client type, whatever its modules). */
interface StreamClient {
  readonly isReady: boolean;
  xTrim(key: string, strategy: "MINID", threshold: string): Promise<number>;
}

/** Removes the stream entries older than `retentionMs` before `now`; returns how many were removed. */
export async function trimAdapterStream(
  client: StreamClient,
  streamName: string,
  retentionMs: number,
  now: number = Date.now(),
): Promise<number> {
  // Stream ids start with the millisecond time of the entry, so MINID trims by age.
  const minId = `${Math.max(0, now - retentionMs)}-0`;
  return client.xTrim(streamName, "MINID", minId);
}

/** Trims the stream every `everyMs` until the returned stop function is called; failures are reported, not thrown. */
export function keepAdapterStreamTrimmed(
  client: StreamClient,
  streamName: string,
  retentionMs: number,
  everyMs: number,
  onError: (err: Error) => void,
): () => void {
  const timer = setInterval(() => {
    if (!client.isReady) return;
    trimAdapterStream(client, streamName, retentionMs).catch((err: Error) => onError(err));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
