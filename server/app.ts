/**
 * Assembles one Attune process: store, service, HTTP app and Socket.IO on one port, with the Redis Streams
 * adapter for fan-out when Redis is configured, and a graceful close.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { createClient, createCluster } from "redis";
import { Server } from "socket.io";
import { withCaughtPublish } from "./adapter-client.ts";
import { createClientAddress } from "./client-address.ts";
import type { Config } from "./config.ts";
import { createAuthGuard } from "./guard.ts";
import { createHttpApp } from "./http.ts";
import { createLogger, type Logger } from "./log.ts";
import { createMetrics, measuredStore } from "./metrics.ts";
import { originAllowed, refuseForeignUpgrades } from "./origin.ts";
import { SessionService } from "./service.ts";
import { createStore } from "./store/index.ts";
import { keepAdapterStreamTrimmed } from "./stream-retention.ts";
import type { SessionStore } from "./store/types.ts";
import { PracticeService } from "./practice.ts";
import { MemoryPracticeStore, type PracticeStore } from "./store/practice.ts";
import { RedisPracticeStore } from "./store/practice-redis.ts";
import { type AttuneServer, attachTransport, createOutbox, type Peers, trackPeers } from "./transport.ts";

export interface StartOptions {
  config: Config;
  /** A store to use instead of the configured one; close() leaves a given store open (its owner closes it). */
  store?: SessionStore;
  logger?: Logger;
  /** Directory of the built client (default client/dist). */
  clientDir?: string;
  /** How often a clustered process re-counts its peers, in ms (default 2 s; tests shorten it). */
  peerRefreshMs?: number;
  /** Sessions whose last record the service keeps (default DEFAULT_CACHE_SIZE). */
  sessionCacheSize?: number;
  /** How long a seat stays online after its last socket left, in ms (default DEFAULT_PRESENCE_GRACE_MS). */
  presenceGraceMs?: number;
  /** How often the process beats in the node registry, in ms (default DEFAULT_BEAT_MS; tests shorten it). */
  beatMs?: number;
  /** A practice store to use instead of the configured one (left open on close). */
  practiceStore?: PracticeStore;
}

export interface RunningAttune {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  store: SessionStore;
  /** Stops accepting, drops sockets (clients reconnect elsewhere or later), closes timers, adapter and store. */
  close(): Promise<void>;
}

/** The adapter's Redis connection: one Redis, or a Redis Cluster. */
type AdapterClient = ReturnType<typeof createClient> | ReturnType<typeof createCluster>;

/** Socket.IO message size cap; commands are small and text is capped far below this. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/**
 * How long adapter stream entries are kept. Attune sends nothing through the stream that a client could recover
 * (updates go to local sockets, commits through pub/sub; every reconnect gets a fresh snapshot), so entries are
 * kept only as long as an adapter may need them to catch up.
 */
const STREAM_RETENTION_MS = 3 * 60_000;
/** How often a process re-counts its peers (a crashed one stops being sent updates after this long). */
const PEER_REFRESH_MS = 2000;

/** The Redis stream the adapter writes for a deployment; outside the session key prefix on purpose. */
export function adapterStreamName(redisPrefix: string): string {
  return `socket.io:${redisPrefix}`;
}

/** Starts an Attune server and resolves once it listens. */
export async function startAttune(opts: StartOptions): Promise<RunningAttune> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(config.logLevel);
  const ownsStore = !opts.store;
  const metrics = createMetrics();
  const rawStore =
    opts.store ??
    (await createStore({
      redisUrl: config.redisUrl,
      redisClusterNodes: config.redisClusterNodes,
      redisPrefix: config.redisPrefix,
      onRedisError: (err) => logger.warn({ err: err.message }, "redis store error"),
    }));
  const store = measuredStore(rawStore, metrics);

  let adapterClient: AdapterClient | undefined;
  const shared = Boolean(config.redisUrl || config.redisClusterNodes?.length);
  let stopTrimming: (() => void) | undefined;
  let io: AttuneServer | undefined;
  let peers: Peers | undefined;
  const outbox = createOutbox(
    () => {
      if (!io) throw new Error("socket server not started");
      return io;
    },
    shared,
    () => peers,
  );
  const service = new SessionService({
    store,
    outbox,
    logger,
    ttlMs: config.sessionTtlMs,
    cacheSize: opts.sessionCacheSize,
    presenceGraceMs: opts.presenceGraceMs,
    beatMs: opts.beatMs,
    metrics,
  });
  const guard = createAuthGuard(config.authFailuresPerMinute);
  // One reading of the client's address (TRUST_PROXY) for every limit and check, on both HTTP and sockets.
  const address = createClientAddress(config.trustProxy);
  // Practices (docs/practice.md) live beside the sessions: in the same Redis when there is one, else in memory.
  const practiceStore =
    opts.practiceStore ??
    (shared
      ? await RedisPracticeStore.connect({
          url: config.redisUrl,
          clusterNodes: config.redisClusterNodes,
          prefix: config.redisPrefix,
          onError: (err) => logger.warn({ err: err.message }, "redis practice store error"),
        })
      : new MemoryPracticeStore());
  const practices = new PracticeService({ store: practiceStore, sessions: service, logger });
  const app = createHttpApp({
    config,
    service,
    store,
    guard,
    logger,
    address,
    clientDir: opts.clientDir,
    metrics,
    practices,
  });
  const httpServer = createServer(app);
  httpServer.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    else socket.destroy();
  });

  try {
    io = new Server(httpServer, {
      maxHttpBufferSize: MAX_MESSAGE_BYTES,
      transports: ["polling", "websocket"],
      serveClient: false,
      allowRequest: (req, callback) => {
        if (originAllowed(config, address, req)) callback(null, true);
        else callback("ORIGIN_NOT_ALLOWED", false);
      },
      cors: config.allowedOrigins.length > 0 ? { origin: config.allowedOrigins, credentials: false } : undefined,
      // No connection state recovery: it would buffer every update for minutes per socket, and a reconnecting
      // client gets a fresh snapshot anyway (the one path that is always right).
    });
    // A refused websocket upgrade gets the same 403 JSON as a refused polling request (not Engine.IO's 400 html).
    refuseForeignUpgrades(io.engine, (req) => originAllowed(config, address, req));
    if (config.nodeName) {
      // The node's name leads every Engine.IO session id, so a load balancer can send each request of a
      // long-polling session (they carry ?sid=) to the node that holds it; see docs/operations.md.
      const node = config.nodeName;
      io.engine.generateId = () => `${node}.${randomBytes(15).toString("base64url")}`;
    }
    if (shared) {
      const socket = { reconnectStrategy: (n: number) => Math.min(n * 100, 2000) };
      adapterClient = config.redisClusterNodes?.length
        ? createCluster({ rootNodes: config.redisClusterNodes.map((url) => ({ url })), defaults: { socket } })
        : createClient({ url: config.redisUrl, socket });
      adapterClient.on("error", (err: Error) => logger.warn({ err: err.message }, "redis adapter error"));
      await adapterClient.connect();
      // Stream and channel names sit outside the session key prefix so session keys alone match `${prefix}*`.
      const streamName = adapterStreamName(config.redisPrefix);
      io.adapter(
        createAdapter(
          withCaughtPublish(adapterClient, (err) => logger.warn({ err: err.message }, "redis adapter publish lost")),
          {
            streamName,
            channelPrefix: `socket.io:${config.redisPrefix}`,
            sessionKeyPrefix: `sio:session:${config.redisPrefix}`,
            blockTimeInMs: 1000,
            // A crashed process drops out of cross-process requests (fetchSockets) after 5 s instead of 10.
            heartbeatInterval: 2000,
            heartbeatTimeout: 5000,
            onlyPlaintext: true,
          },
        ),
      );
      peers = trackPeers(io, opts.peerRefreshMs ?? PEER_REFRESH_MS);
      stopTrimming = keepAdapterStreamTrimmed(adapterClient, streamName, STREAM_RETENTION_MS, 30_000, (err) =>
        logger.warn({ err: err.message }, "redis adapter stream trim failed"),
      );
    }
    io.engine.on("connection_error", (err: { code?: number; message?: string }) => {
      logger.debug({ code: err.code, message: err.message }, "engine connection refused");
    });
  } catch (err) {
    if (adapterClient?.isOpen) await adapterClient.quit().catch(() => {});
    if (ownsStore) await store.close().catch(() => {});
    throw err;
  }

  const transport = attachTransport({
    io,
    peers,
    clustered: shared,
    service,
    guard,
    config,
    logger,
    metrics,
    address,
  });
  metrics.read({
    sockets: () => io?.engine.clientsCount ?? 0,
    sessions: () => service.servedSessions,
    timers: () => service.timersArmed,
  });

  await service.start();
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  httpServer.on("error", (err) => logger.error({ err: err.message }, "http server error"));
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      httpServer.close();
      // Dropping the transport (not a server "disconnect") lets clients reconnect to another process.
      transport.dropAll();
      await transport.settle(3000);
      // Seats that left get their grace: a partner reconnecting to another process stays online throughout.
      await service.drain(4000);
      service.close();
      peers?.stop();
      stopTrimming?.();
      await io!.close().catch(() => {});
      if (adapterClient?.isOpen) await adapterClient.quit().catch(() => {});
      if (ownsStore) await store.close().catch(() => {});
      if (!opts.practiceStore) await practiceStore.close().catch(() => {});
      httpServer.closeAllConnections();
      logger.info("stopped");
    })();
    return closing;
  };

  logger.info(
    { port, redis: shared, cluster: Boolean(config.redisClusterNodes?.length), node: config.nodeName },
    "listening",
  );
  return { url, port, store, close };
}
