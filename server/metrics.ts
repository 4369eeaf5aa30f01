/**
 * What a running node is doing, for Prometheus (prom-client, its own registry per process). Labels are only
 * command types, result codes and store operations: never a session id, a name, a token or any text.
 * The endpoint (GET /metrics) is off unless METRICS_TOKEN is set, and then needs it as a Bearer token.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { LogEntry, Seat } from "../shared/protocol.ts";
import type {
  NodeRegistry,
  SeatLink,
  SessionChange,
  SessionRecord,
  SessionStore,
  UpdateResult,
  WorkingRecord,
} from "./store/types.ts";

/** Readings a node takes of itself when scraped. */
export interface NodeReadings {
  sockets(): number;
  sessions(): number;
  timers(): number;
}

export interface Metrics {
  readonly registry: Registry;
  /** A command from a seat was answered: applied ("OK") or refused with `code`, after `ms`. */
  command(type: string | undefined, code: string, ms: number): void;
  /** One call to the store took `ms`. */
  storeCall(op: string, ms: number, failed: boolean): void;
  /** A compare-and-set lost to another process. */
  conflict(): void;
  /** A commit was published to the other processes. */
  fanout(): void;
  /** Where the gauges read from (set once the transport and service exist). */
  read(readings: NodeReadings): void;
}

/** A metrics set with its own registry (so two nodes in one test process never mix their counts). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  let readings: NodeReadings | undefined;
  const commands = new Counter({
    name: "attune_commands_total",
    help: "Commands answered, by command type and result code (OK when applied).",
    labelNames: ["type", "code"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "attune_command_duration_seconds",
    help: "Time from a command's arrival to its acknowledgement.",
    labelNames: ["result"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const store = new Histogram({
    name: "attune_store_call_duration_seconds",
    help: "Store round trips, by operation (update is the compare-and-set of one command).",
    labelNames: ["op", "result"],
    buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const conflicts = new Counter({
    name: "attune_cas_conflicts_total",
    help: "Compare-and-sets lost to another process (the command is re-applied on the winner's record).",
    registers: [registry],
  });
  const fanouts = new Counter({
    name: "attune_fanout_messages_total",
    help: "Commits published to the other processes (one message per applied command when there are peers).",
    registers: [registry],
  });
  new Gauge({
    name: "attune_connected_sockets",
    help: "Sockets connected to this process.",
    registers: [registry],
    collect() {
      this.set(readings?.sockets() ?? 0);
    },
  });
  new Gauge({
    name: "attune_served_sessions",
    help: "Sessions with at least one socket on this process.",
    registers: [registry],
    collect() {
      this.set(readings?.sessions() ?? 0);
    },
  });
  new Gauge({
    name: "attune_timers_armed",
    help: "Step timers this process has armed.",
    registers: [registry],
    collect() {
      this.set(readings?.timers() ?? 0);
    },
  });
  return {
    registry,
    command(type, code, ms) {
      commands.inc({ type: type ?? "unknown", code });
      latency.observe({ result: code === "OK" ? "applied" : "refused" }, ms / 1000);
    },
    storeCall(op, ms, failed) {
      store.observe({ op, result: failed ? "error" : "ok" }, ms / 1000);
    },
    conflict() {
      conflicts.inc();
    },
    fanout() {
      fanouts.inc();
    },
    read(next) {
      readings = next;
    },
  };
}

/** A store that times every call into `metrics` and otherwise is `inner`. */
export function measuredStore(inner: SessionStore, metrics: Metrics): SessionStore {
  const timed = async <T>(op: string, call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const result = await call();
      metrics.storeCall(op, performance.now() - started, false);
      return result;
    } catch (err) {
      metrics.storeCall(op, performance.now() - started, true);
      throw err;
    }
  };
  return {
    create: (record: SessionRecord, links: SeatLink[], ttlMs: number) =>
      timed("create", () => inner.create(record, links, ttlMs)),
    load: (id: string) => timed("load", () => inner.load(id)),
    loadWorking: (id: string): Promise<WorkingRecord | null> => timed("load_working", () => inner.loadWorking(id)),
    loadLog: (id: string): Promise<LogEntry[] | null> => timed("load_log", () => inner.loadLog(id)),
    update: (id: string, expected: number, change: SessionChange, ttlMs: number): Promise<UpdateResult> =>
      timed("update", () => inner.update(id, expected, change, ttlMs)),
    delete: (id: string) => timed("delete", () => inner.delete(id)),
    findSeat: (id: string, hash: string) => timed("find_seat", () => inner.findSeat(id, hash)),
    revokeSeat: (id: string, seat: Seat) => timed("revoke_seat", () => inner.revokeSeat(id, seat)),
    reissueSeat: (id: string, seat: Seat, hash: string) =>
      timed("reissue_seat", () => inner.reissueSeat(id, seat, hash)),
    ttl: (id: string) => timed("ttl", () => inner.ttl(id)),
    ping: () => inner.ping(),
    nodeRegistry: (): NodeRegistry => inner.nodeRegistry(),
    spaces: () => inner.spaces(),
    close: () => inner.close(),
  };
}
