/**
 * Assembles one Attune process: store, service, HTTP app and Socket.IO on one port, with the Redis Streams
 * adapter for fan-out when Redis is configured, and a graceful close.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import { createClientAddress } from "./client-address.ts";
import type { Config } from "./config.ts";
import { createAuthGuard } from "./guard.ts";
import { createHttpApp } from "./http.ts";
import { createLogger, type Logger } from "./log.ts";
import { originAllowed, refuseForeignUpgrades } from "./origin.ts";
import { SessionService } from "./service.ts";
import { createStore } from "./store/index.ts";
import { keepAdapterStreamTrimmed } from "./stream-retention.ts";
import type { SessionStore } from "./store/types.ts";
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
}

export interface RunningAttune {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  store: SessionStore;
  /** Stops accepting, drops sockets (clients reconnect elsewhere or later), closes timers, adapter and store. */
  close(): Promise<void>;
}

/** Socket.IO message size cap; commands are small and text is capped far below this. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** How long a disconnected socket may recover missed packets; adapter stream entries outlive it only briefly. */
const RECOVERY_WINDOW_MS = 2 * 60_000;
const STREAM_RETENTION_MS = RECOVERY_WINDOW_MS + 60_000;
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
  const store =
    opts.store ??
    (await createStore({
      redisUrl: config.redisUrl,
      redisPrefix: config.redisPrefix,
      onRedisError: (err) => logger.warn({ err: err.message }, "redis store error"),
    }));

  let adapterClient: ReturnType<typeof createClient> | undefined;
  let stopTrimming: (() => void) | undefined;
  let io: AttuneServer | undefined;
  let peers: Peers | undefined;
  const outbox = createOutbox(
    () => {
      if (!io) throw new Error("socket server not started");
      return io;
    },
    Boolean(config.redisUrl),
    () => peers,
  );
  const service = new SessionService({
    store,
    outbox,
    logger,
    ttlMs: config.sessionTtlMs,
    cacheSize: opts.sessionCacheSize,
  });
  const guard = createAuthGuard(config.authFailuresPerMinute);
  // One reading of the client's address (TRUST_PROXY) for every limit and check, on both HTTP and sockets.
  const address = createClientAddress(config.trustProxy);
  const app = createHttpApp({ config, service, store, guard, logger, address, clientDir: opts.clientDir });
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
      connectionStateRecovery: {
        maxDisconnectionDuration: RECOVERY_WINDOW_MS,
        // The handshake must run again on recovery: a link revoked meanwhile may not slip back in.
        skipMiddlewares: false,
      },
    });
    // A refused websocket upgrade gets the same 403 JSON as a refused polling request (not Engine.IO's 400 html).
    refuseForeignUpgrades(io.engine, (req) => originAllowed(config, address, req));
    if (config.nodeName) {
      // The node's name leads every Engine.IO session id, so a load balancer can send each request of a
      // long-polling session (they carry ?sid=) to the node that holds it; see docs/operations.md.
      const node = config.nodeName;
      io.engine.generateId = () => `${node}.${randomBytes(15).toString("base64url")}`;
    }
    if (config.redisUrl) {
      adapterClient = createClient({
        url: config.redisUrl,
        socket: { reconnectStrategy: (n) => Math.min(n * 100, 2000) },
      });
      adapterClient.on("error", (err: Error) => logger.warn({ err: err.message }, "redis adapter error"));
      await adapterClient.connect();
      // Stream and channel names sit outside the session key prefix so session keys alone match `${prefix}*`.
      const streamName = adapterStreamName(config.redisPrefix);
      io.adapter(
        createAdapter(adapterClient, {
          streamName,
          channelPrefix: `socket.io:${config.redisPrefix}`,
          sessionKeyPrefix: `sio:session:${config.redisPrefix}`,
          blockTimeInMs: 1000,
          // A crashed process drops out of cross-process requests (fetchSockets) after 5 s instead of 10.
          heartbeatInterval: 2000,
          heartbeatTimeout: 5000,
          onlyPlaintext: true,
        }),
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
    clustered: Boolean(config.redisUrl),
    service,
    guard,
    config,
    logger,
    address,
  });

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
      service.close();
      peers?.stop();
      stopTrimming?.();
      await io!.close().catch(() => {});
      if (adapterClient?.isOpen) await adapterClient.quit().catch(() => {});
      if (ownsStore) await store.close().catch(() => {});
      httpServer.closeAllConnections();
      logger.info("stopped");
    })();
    return closing;
  };

  logger.info({ port, redis: Boolean(config.redisUrl), node: config.nodeName }, "listening");
  return { url, port, store, close };
}
