/**
 * The Socket.IO transport: handshake, rooms, takeover and the mapping of socket events to service calls.
 * It stays thin; every decision about a session is the service's.
 */
import { performance } from "node:perf_hooks";
import { RateLimiterMemory } from "rate-limiter-flexible";
import type { Server, Socket } from "socket.io";
import {
  type CommandAck,
  type CommandError,
  ErrorCode,
  type Seat,
  SEATS,
  type ServerToClientEvents,
} from "../shared/protocol.ts";
import type { ClientAddress } from "./client-address.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { AuthGuard } from "./guard.ts";

/** Commands a partner sends the therapist alone: logged without their type or seat. */
const SAFETY_COMMANDS: ReadonlySet<string> = new Set(["ask-alone", "safety-check"]);
import { type CommandOutcome, type Commit, type Outbox, OutcomeUnknownError, type SessionService } from "./service.ts";

/** What the client may send. Handlers receive unknown arguments: anything can arrive on the wire. */
export interface InboundEvents {
  command: (...args: unknown[]) => void;
  resync: (...args: unknown[]) => void;
}

export interface SocketData {
  sessionId: string;
  seat: Seat;
  /** When this socket took its seat: the newest socket of a seat wins. */
  joinedAt: number;
}

/** Messages between Attune processes (through the adapter). */
export interface InterServerEvents {
  dismiss: (room: string, notice: CommandError) => void;
  /** A record another process stored; each process renders every seat's own view for its own sockets. */
  commit: (commit: Commit) => void;
  /** A process started: whoever hears it now has a peer to tell about updates (and answers `here`). */
  hello: () => void;
  /** The answer to `hello`: the newcomer learns of the processes already running. */
  here: () => void;
}

export type AttuneServer = Server<InboundEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type AttuneSocket = Socket<InboundEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Room of every socket of a session. */
export const sessionRoom = (sessionId: string): string => `s:${sessionId}`;
/** Room of one seat's socket(s). */
export const seatRoom = (sessionId: string, seat: Seat): string => `s:${sessionId}:${seat}`;

/** An Error whose message is the code and whose `data` carries {code, message}: what connect_error shows. */
function handshakeError(error: CommandError): Error & { data: CommandError } {
  const err = new Error(error.code) as Error & { data: CommandError };
  err.data = { code: error.code, message: error.message };
  return err;
}

/**
 * Tells every socket in `room` why, then disconnects it. Done by each process for its own sockets: a cluster
 * broadcast is delivered locally only after it is written to Redis, so emit-then-disconnectSockets through the
 * adapter would drop the local sockets before their notice reached them.
 */
export function dismissRoom(io: AttuneServer, clustered: boolean, room: string, notice: CommandError): void {
  dismissLocal(io, room, notice);
  if (clustered) io.serverSideEmit("dismiss", room, notice);
}

function dismissLocal(io: AttuneServer, room: string, notice: CommandError): void {
  io.local.to(room).emit("notice", notice);
  io.local.in(room).disconnectSockets(true);
}

/** When a starting process first counts its peers (its own subscription is registered by then). */
const FIRST_PEER_COUNT_MS = 500;

/**
 * Emits to one socket of this process directly. With connection state recovery on, a plain socket.emit goes
 * through the adapter (a stream write, delivered only once written), so a snapshot could arrive after updates
 * that io.local sent meanwhile, and the client, still waiting for its first snapshot, would drop them.
 */
function toSocket(io: AttuneServer, socket: AttuneSocket) {
  return io.local.to(socket.id);
}

/** Whether other Attune processes share this one's rooms, known without a Redis call per update. */
export interface Peers {
  /** False when the last count found this process alone and no process announced itself since, or once stopped. */
  any(): boolean;
  /** Another process spoke (announced itself or published updates). */
  heard(): void;
  stop(): void;
}

/**
 * Tracks whether this process has peers. The adapter's serverCount() costs a Redis round trip (PUBSUB NUMSUB),
 * too dear per update, so it runs every `refreshMs`; a new process announces itself at start (`hello`, answered
 * with `here`), long before its first socket can join, so nobody misses it meanwhile. A count taken before an
 * announcement never overrides it: only a later count may say "alone" again (a crashed peer drops out at the
 * next refresh).
 */
export function trackPeers(io: AttuneServer, refreshMs: number): Peers {
  // Unknown until the first count: publish meanwhile.
  let count = Number.POSITIVE_INFINITY;
  let epoch = 0;
  const refresh = () => {
    const asked = epoch;
    io.of("/")
      .adapter.serverCount()
      .then(
        (n) => {
          if (epoch === asked) count = n;
        },
        () => {
          count = Number.POSITIVE_INFINITY;
        },
      );
  };
  // No count at once: until this process's own subscription is registered, NUMSUB would leave it out.
  io.serverSideEmit("hello");
  const first = setTimeout(refresh, Math.min(refreshMs, FIRST_PEER_COUNT_MS));
  first.unref();
  const timer = setInterval(refresh, refreshMs);
  timer.unref();
  let stopped = false;
  return {
    // Once stopped (shutting down, the adapter's client about to close) nothing more is published.
    any: () => !stopped && count > 1,
    heard() {
      epoch++;
      if (count < 2) count = 2;
    },
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}

/**
 * The outbox the service uses. Sockets on this process get their update at once (io.local: no Redis write);
 * when other processes share the rooms, ONE server-side message per applied command carries every seat's update
 * to them, and each sends its own sockets theirs. Through pub/sub, so typed text never lands in the adapter's
 * stream.
 */
export function createOutbox(
  getIo: () => AttuneServer,
  clustered: boolean,
  getPeers?: () => Peers | undefined,
): Outbox {
  return {
    localSeats(sessionId) {
      const rooms = getIo().of("/").adapter.rooms;
      return SEATS.filter((seat) => rooms.has(seatRoom(sessionId, seat)));
    },
    update(sessionId, seat, update) {
      getIo().local.to(seatRoom(sessionId, seat)).emit("update", update);
    },
    snapshot(sessionId, seat, view) {
      getIo().local.to(seatRoom(sessionId, seat)).emit("snapshot", view);
    },
    sharing() {
      return clustered && getPeers?.()?.any() !== false;
    },
    shareCommit(commit) {
      if (clustered) getIo().serverSideEmit("commit", commit);
    },
    dismiss(sessionId, seat, notice) {
      dismissRoom(getIo(), clustered, seat ? seatRoom(sessionId, seat) : sessionRoom(sessionId), notice);
    },
    async seatConnected(sessionId, seat) {
      const sockets = await getIo().in(seatRoom(sessionId, seat)).timeout(FETCH_TIMEOUT_MS).fetchSockets();
      return sockets.length > 0;
    },
  };
}

/** How long to wait for other processes to list their sockets (a crashed one never answers). */
const FETCH_TIMEOUT_MS = 2000;

/** The sockets in `room` on every process; only this process's when another does not answer in time. */
async function socketsIn(io: AttuneServer, room: string) {
  try {
    return await io.in(room).timeout(FETCH_TIMEOUT_MS).fetchSockets();
  } catch {
    return await io.local.in(room).fetchSockets();
  }
}

export interface TransportOptions {
  io: AttuneServer;
  /** Who else shares the rooms (clustered only). */
  peers?: Peers;
  /** Whether other processes share the sockets' rooms (Redis adapter). */
  clustered: boolean;
  service: SessionService;
  guard: AuthGuard;
  config: Config;
  logger: Logger;
  /** Where each answered command is counted. */
  metrics?: Pick<Metrics, "command">;
  /** How the client's address is read (shared with the HTTP side, so both count failures alike). */
  address: ClientAddress;
}

export interface Transport {
  /** Seats whose presence is still being settled (awaited on shutdown). */
  settle(timeoutMs: number): Promise<void>;
  /** Drops every local socket without telling it to stay away, so clients reconnect (elsewhere or later). */
  dropAll(): void;
}

/** Wires handshake, connection and event handlers onto `io`. */
export function attachTransport({
  io,
  peers,
  clustered,
  service,
  guard,
  config,
  logger,
  metrics,
  address,
}: TransportOptions): Transport {
  const limiter = new RateLimiterMemory({ points: config.commandRate, duration: 10 });
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const tracked = p.catch((err: unknown) => logger.warn({ err: (err as Error).message }, "background task failed"));
    pending.add(tracked);
    void tracked.finally(() => pending.delete(tracked));
  };

  io.on("dismiss", (room, notice) => {
    if (typeof room === "string" && notice && typeof notice === "object") dismissLocal(io, room, notice);
  });
  io.on("commit", (commit) => {
    peers?.heard();
    service.acceptCommit(commit);
  });
  io.on("hello", () => {
    peers?.heard();
    if (peers?.any()) io.serverSideEmit("here");
  });
  io.on("here", () => peers?.heard());

  io.use((socket, next) => {
    // Not socket.handshake.address (the proxy's, behind one): the client's, read as REST reads it.
    const ip = address.ip(socket.request);
    const auth = socket.handshake.auth as unknown;
    const token = auth && typeof auth === "object" ? (auth as { token?: unknown }).token : undefined;
    (async () => {
      if (await guard.blocked(ip)) {
        return next(handshakeError({ code: ErrorCode.RATE_LIMITED, message: "too many invalid links; wait a minute" }));
      }
      const result = await service.authenticate(token);
      if (!result.ok) {
        if (result.error.code !== ErrorCode.TOKEN_MISSING) await guard.fail(ip);
        logger.info({ code: result.error.code }, "handshake refused");
        return next(handshakeError(result.error));
      }
      socket.data.sessionId = result.identity.sessionId;
      socket.data.seat = result.identity.seat;
      next();
    })().catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, "handshake failed");
      next(handshakeError({ code: ErrorCode.INTERNAL, message: "the server could not check this link" }));
    });
  });

  io.on("connection", (socket: AttuneSocket) => {
    const { sessionId, seat } = socket.data;
    socket.data.joinedAt = Date.now();
    service.attach(sessionId, seat);
    socket.on("error", (err) => logger.warn({ session: sessionId, seat, err: err.message }, "socket error"));

    socket.on("command", (envelope: unknown, ack: unknown) => {
      // Without an acknowledgement the client cannot learn the outcome; applying it blind would help no one.
      if (typeof ack !== "function") return;
      const reply = ack as (a: CommandAck) => void;
      const started = performance.now();
      limiter
        .consume(socket.id)
        .then(
          () => service.handleCommand(sessionId, seat, envelope),
          (): CommandOutcome => ({
            ack: { ok: false, error: { code: ErrorCode.RATE_LIMITED, message: "too many commands; slow down" } },
            resync: false,
          }),
        )
        .then(
          async (outcome) => {
            reply(outcome.ack);
            metrics?.command(outcome.type, outcome.ack.ok ? "OK" : outcome.ack.error.code, performance.now() - started);
            if (outcome.resync) {
              const view = await service.snapshot(sessionId, seat);
              if (view) toSocket(io, socket).emit("snapshot", view);
            }
            // At the production level (warn) this line is off: skip building it, once per command.
            if (!logger.isLevelEnabled("info")) return;
            const ackCode = outcome.ack.ok ? "OK" : outcome.ack.error.code;
            // A partner's private word about safety: the operator's log says a safety command came, not whose or which.
            const quiet = outcome.type !== undefined && SAFETY_COMMANDS.has(outcome.type);
            logger.info(
              {
                session: sessionId,
                seat: quiet ? undefined : seat,
                type: quiet ? "safety" : outcome.type,
                code: ackCode,
                version: outcome.ack.ok ? outcome.ack.version : undefined,
                ms: Math.round((performance.now() - started) * 10) / 10,
              },
              "command",
            );
          },
          (err: unknown) => {
            logger.error({ session: sessionId, seat, err: (err as Error).message }, "command failed");
            if (err instanceof OutcomeUnknownError) {
              reply({
                ok: false,
                error: {
                  code: ErrorCode.OUTCOME_UNKNOWN,
                  message: "the server could not confirm this was saved; send it again (it is never applied twice)",
                },
              });
              return;
            }
            reply({ ok: false, error: { code: ErrorCode.INTERNAL, message: "the server could not apply this" } });
          },
        )
        .catch((err: unknown) => logger.error({ err: (err as Error).message }, "command reply failed"));
    });

    socket.on("resync", (ack: unknown) => {
      limiter.consume(socket.id).then(
        () =>
          service.snapshot(sessionId, seat).then(
            (view) => {
              if (!view) return;
              if (typeof ack === "function") (ack as (v: typeof view) => void)(view);
              else toSocket(io, socket).emit("snapshot", view);
            },
            (err: unknown) => logger.warn({ session: sessionId, seat, err: (err as Error).message }, "resync failed"),
          ),
        () => {},
      );
    });

    socket.on("disconnect", (reason) => {
      // Presence is settled by the service once a short grace has passed without the seat coming back.
      service.detach(sessionId, seat);
      void limiter.delete(socket.id).catch(() => {});
      logger.info({ session: sessionId, seat, reason }, "leave");
    });

    track(
      (async () => {
        const room = seatRoom(sessionId, seat);
        await socket.join([sessionRoom(sessionId), room]);
        // The snapshot goes first: the takeover check below may wait on other processes.
        const view = await service.snapshot(sessionId, seat);
        if (!view) {
          toSocket(io, socket).emit("notice", {
            code: ErrorCode.SESSION_NOT_FOUND,
            message: "this session no longer exists",
          });
          socket.disconnect(true);
          return;
        }
        if (!socket.connected) return;
        toSocket(io, socket).emit("snapshot", view);
        logger.info({ session: sessionId, seat }, "join");
        // A seat has one live socket: older ones (on any process) are told why and dropped.
        const others = await socketsIn(io, room);
        let tookOver = false;
        for (const other of others) {
          if (other.id === socket.id) continue;
          const theirs = other.data.joinedAt ?? 0;
          if (theirs < socket.data.joinedAt || (theirs === socket.data.joinedAt && other.id < socket.id)) {
            // Every socket is alone in the room named by its id.
            dismissRoom(io, clustered, other.id, {
              code: ErrorCode.SEAT_TAKEN_OVER,
              message: "this seat was opened on another device",
            });
            tookOver = true;
          }
        }
        if (tookOver) logger.info({ session: sessionId, seat }, "takeover");
        await service.reconcilePresence(sessionId, seat);
      })(),
    );
  });

  return {
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (pending.size > 0 && Date.now() < deadline) {
        await Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 50))]);
      }
    },
    dropAll() {
      for (const socket of io.of("/").sockets.values()) socket.conn.close();
    },
  };
}
