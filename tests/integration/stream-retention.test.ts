/**
 * The Redis Streams adapter keeps every broadcast it carries in a stream that never expires by itself. These
 * tests prove that typed text is never sent that way, and that whatever the adapter does write is trimmed once
 * it is older than the recovery window, so nothing outlives its purpose in Redis.
 */
import { createClient } from "redis";
import { afterAll, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { adapterStreamName } from "../../server/app.ts";
import { keepAdapterStreamTrimmed, trimAdapterStream } from "../../server/stream-retention.ts";
import { REDIS_URL, redisAvailable, requireService } from "../support/env.ts";
import { createTestSession, redisTestPrefix, startTestServer } from "../support/server.ts";

const runs = requireService("Redis", await redisAvailable());

describe.runIf(runs)("adapter stream retention", () => {
  const client = createClient({ url: REDIS_URL });
  client.on("error", () => {});
  const streams: string[] = [];
  afterAll(async () => {
    if (!client.isOpen) return;
    for (const s of streams) await client.del(s);
    await client.quit();
  });

  async function streamText(stream: string): Promise<string> {
    const entries = await client.xRange(stream, "-", "+");
    return JSON.stringify(entries);
  }

  it("typed text never reaches the adapter stream, and the trim removes entries older than the window", async () => {
    await client.connect();
    const prefix = redisTestPrefix("attune-retention");
    const stream = adapterStreamName(prefix);
    streams.push(stream);
    const server = await startTestServer({ redisUrl: REDIS_URL, redisPrefix: prefix });
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue"],
    });
    const a = await Participant.join(created.links.a);
    const b = await Participant.join(created.links.b);
    const marker = "retention-marker-about-our-weekend";
    try {
      expect((await a.send({ type: "start-exercise" })).ok).toBe(true);
      expect((await a.send({ type: "say", text: marker })).ok).toBe(true);
      await b.waitFor((v) => v.transcript.some((t) => t.text === marker));
      // Views travel to local sockets directly and to other processes by pub/sub: nothing lands in the stream.
      expect(await streamText(stream)).not.toContain(marker);
    } finally {
      a.close();
      b.close();
      await server.close();
    }

    // Whatever the adapter does write there stays only as long as a reconnecting client may need it.
    await client.xAdd(stream, "*", { note: marker });
    expect(await trimAdapterStream(client, stream, 60_000)).toBe(0);
    expect(await streamText(stream)).toContain(marker);
    const removed = await trimAdapterStream(client, stream, 60_000, Date.now() + 61_000);
    expect(removed).toBeGreaterThan(0);
    expect(await streamText(stream)).not.toContain(marker);
  });

  it("the periodic trim runs on its own and stops when told", async () => {
    if (!client.isOpen) await client.connect();
    const stream = adapterStreamName(redisTestPrefix("attune-retention-timer"));
    streams.push(stream);
    await client.xAdd(stream, "1-1", { old: "entry" });
    await client.xAdd(stream, "*", { fresh: "entry" });
    const errors: Error[] = [];
    const stop = keepAdapterStreamTrimmed(client, stream, 60_000, 20, (e) => errors.push(e));
    try {
      await expect.poll(async () => client.xLen(stream), { timeout: 2000 }).toBe(1);
    } finally {
      stop();
    }
    expect(errors).toEqual([]);
    expect(await streamText(stream)).toContain("fresh");
  });
});
