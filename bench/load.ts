/**
 * The load generator, run in its own process (forked by bench/run.ts with an IPC channel) so that its CPU never
 * counts as the server's. It holds R rooms x 2 partner sockets; every room applies one command every P ms and
 * the generator times command -> ack and command -> the other partner's update.
 *
 * Against Attune each room plays real turns of the speaker-listener exercise (speak, paraphrase, confirm; the
 * floor passes every other round), driven by the headless participant and the bot's move logic. Against the
 * relay each room sends the same-sized typed text, alternating senders. Same shape, same clocks.
 *
 * IPC: parent -> { type: "config", config } then { type: "go" } and finally { type: "stop" };
 * child -> "joined" (rooms ready: idle point), "window-start", "progress" (soak), "window-end" (stats), "error".
 * After "window-end" the load continues, unmeasured, until "stop" (or a minute), so that the parent can take
 * readings that would disturb the window (a Redis MONITOR sample).
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { io, type Socket } from "socket.io-client";
import { type ChoosePolicy, nextMove } from "../client/headless/bot.ts";
import { Participant } from "../client/headless/participant.ts";
import type { Command, CommandAck, SessionView } from "../shared/protocol.ts";
import { type LatencySummary, summarize } from "./stats.ts";

/** Conversation entries each simulated partner keeps (the bots answer the latest words only). */
const KEEP_ENTRIES = 16;

export type RoomSpec = { kind: "attune"; a: string; b: string } | { kind: "relay"; a: string; b: string; room: string };

export interface LoadConfig {
  rooms: RoomSpec[];
  periodMs: number;
  warmupMs: number;
  durationMs: number;
  /** Rooms joined at once. */
  joinConcurrency: number;
  /** Soak: send a progress report this often (ms); 0 = never. */
  progressEveryMs: number;
  /** A command not acknowledged within this time counts as a time-out error (ms). */
  ackTimeoutMs: number;
}

export interface WindowStats {
  rooms: number;
  periodMs: number;
  windowMs: number;
  sent: number;
  applied: number;
  appliedPerSec: number;
  refused: Record<string, number>;
  timeouts: number;
  /** Ticks skipped because the room's previous command had not yet reached both partners. */
  lateTicks: number;
  disconnects: number;
  ack: LatencySummary;
  peer: LatencySummary;
  /** Peer update latency since the previous progress report (soak: is p99 flat over time?). */
  intervalPeer?: LatencySummary;
  /** p99 of the load generator's own event-loop delay since the previous progress report (ms): when this grows,
   * the latencies it measures include its own stalls. */
  intervalLoadLagP99?: number;
  /** Bytes of each `update` frame the partners received (its JSON, as Socket.IO sends it). */
  updateBytes: { count: number; mean: number; p99: number; max: number };
  /** Mean bytes per update, by the number of turns the room had taken when it arrived (buckets of 10 turns). */
  updateBytesByTurns: Record<string, number>;
  /** CPU seconds the load generator itself used in the window (to see whether the client was the bottleneck). */
  loadCpuSeconds: number;
}

export type LoadMessage =
  | { type: "joined"; rooms: number; joinMs: number }
  | { type: "window-start" }
  | { type: "progress"; atMs: number; stats: WindowStats }
  | { type: "window-end"; stats: WindowStats }
  | { type: "error"; message: string };

export type ParentMessage = { type: "config"; config: LoadConfig } | { type: "go" } | { type: "stop" };

const TEXTS = [
  "I feel stretched thin when the week fills up before I have had a say in it.",
  "What matters to me is that we plan the weekend together, not around each other.",
  "I noticed that I go quiet when I am tired, and then I feel far from you.",
  "From where I stand, the evenings are the only time we really get to talk.",
];

class Metrics {
  sent = 0;
  applied = 0;
  timeouts = 0;
  lateTicks = 0;
  disconnects = 0;
  refused: Record<string, number> = {};
  ack: number[] = [];
  peer: number[] = [];
  intervalPeer: number[] = [];
  updateBytes: number[] = [];
  byTurns = new Map<number, { n: number; bytes: number }>();
  recording = false;
  startedAt = 0;
  cpuAtStart = process.cpuUsage();

  reset(): void {
    this.sent = 0;
    this.applied = 0;
    this.timeouts = 0;
    this.lateTicks = 0;
    this.disconnects = 0;
    this.refused = {};
    this.ack = [];
    this.peer = [];
    this.intervalPeer = [];
    this.updateBytes = [];
    this.byTurns.clear();
    this.startedAt = performance.now();
    this.cpuAtStart = process.cpuUsage();
  }

  /** One update frame of `bytes` reached a partner of a room that had taken `turns` turns. */
  update(bytes: number, turns: number): void {
    if (!this.recording) return;
    this.updateBytes.push(bytes);
    const bucket = Math.floor(turns / 10) * 10;
    const b = this.byTurns.get(bucket) ?? { n: 0, bytes: 0 };
    b.n++;
    b.bytes += bytes;
    this.byTurns.set(bucket, b);
  }

  peerLatency(ms: number): void {
    this.peer.push(ms);
    this.intervalPeer.push(ms);
  }

  /** The peer latencies since the last call (for per-interval soak reports). */
  takeInterval(): LatencySummary {
    const out = summarize(this.intervalPeer);
    this.intervalPeer = [];
    return out;
  }

  refuse(code: string): void {
    this.refused[code] = (this.refused[code] ?? 0) + 1;
  }

  snapshot(rooms: number, periodMs: number): WindowStats {
    const windowMs = performance.now() - this.startedAt;
    const cpu = process.cpuUsage(this.cpuAtStart);
    return {
      rooms,
      periodMs,
      windowMs: Math.round(windowMs),
      sent: this.sent,
      applied: this.applied,
      appliedPerSec: windowMs > 0 ? (this.applied * 1000) / windowMs : 0,
      refused: { ...this.refused },
      timeouts: this.timeouts,
      lateTicks: this.lateTicks,
      disconnects: this.disconnects,
      ack: summarize(this.ack),
      peer: summarize(this.peer),
      updateBytes: bytesSummary(this.updateBytes),
      updateBytesByTurns: Object.fromEntries(
        [...this.byTurns].sort(([x], [y]) => x - y).map(([turns, b]) => [String(turns), Math.round(b.bytes / b.n)]),
      ),
      loadCpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  }
}

function bytesSummary(values: number[]): WindowStats["updateBytes"] {
  if (values.length === 0) return { count: 0, mean: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((x, y) => x - y);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return {
    count: values.length,
    mean: Math.round(mean),
    p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!,
    max: sorted[sorted.length - 1]!,
  };
}

interface RoomDriver {
  join(): Promise<void>;
  tick(): void;
  close(): void;
}

/** Confirm steps alternate "and I have more" with handing over the floor, so the exercise never ends. */
function floorPassing(): ChoosePolicy {
  let rounds = 0;
  return (step) => {
    const ids = step.options?.map((o) => o.id) ?? [];
    rounds++;
    if (rounds % 2 === 0 && ids.includes("hand-floor")) return "hand-floor";
    if (ids.includes("more")) return "more";
    const first = ids[0];
    if (!first) throw new Error(`step ${step.id} has no options`);
    return first;
  };
}

class AttuneRoom implements RoomDriver {
  #a!: Participant;
  #b!: Participant;
  #busy = false;
  #texts = 0;
  /** Commands this room has had applied (its turns, in the update-size buckets). */
  #turns = 0;
  readonly #choose = floorPassing();
  #target: { version: number; t0: number; peer: Participant; recording: boolean } | null = null;

  constructor(
    readonly spec: Extract<RoomSpec, { kind: "attune" }>,
    readonly metrics: Metrics,
    readonly ackTimeoutMs: number,
  ) {}

  async join(): Promise<void> {
    [this.#a, this.#b] = await Promise.all([
      // Each partner keeps the tail of the conversation only: this process plays every device of the run.
      Participant.join(this.spec.a, { timeoutMs: 30_000, keepEntries: KEEP_ENTRIES, keepEvents: KEEP_ENTRIES }),
      Participant.join(this.spec.b, { timeoutMs: 30_000, keepEntries: KEEP_ENTRIES, keepEvents: KEEP_ENTRIES }),
    ]);
    for (const p of [this.#a, this.#b]) {
      p.on("view", (view) => this.#onView(p, view));
      p.on("disconnect", () => this.metrics.disconnects++);
      p.socket.on("update", (msg) => this.metrics.update(JSON.stringify(["update", msg]).length, this.#turns));
    }
    if (!this.#a.view.exercise) {
      const ack = await this.#a.send({ type: "start-exercise" }, { timeoutMs: 30_000 });
      if (!ack.ok) throw new Error(`start-exercise refused: ${ack.error.code}`);
      await Promise.all([this.#a.waitForVersion(ack.version, 30_000), this.#b.waitForVersion(ack.version, 30_000)]);
    }
  }

  #onView(p: Participant, view: SessionView): void {
    const target = this.#target;
    if (target && p === target.peer && view.version >= target.version) {
      if (target.recording) this.metrics.peerLatency(performance.now() - target.t0);
      this.#target = null;
    }
  }

  tick(): void {
    if (this.#busy || this.#target) {
      if (this.metrics.recording) this.metrics.lateTicks++;
      return;
    }
    const opts = { textFor: () => TEXTS[this.#texts++ % TEXTS.length]!, choose: this.#choose };
    let mover: Participant | undefined;
    let command: Command | null = null;
    for (const p of [this.#a, this.#b]) {
      command = nextMove(p.view, opts);
      if (command) {
        mover = p;
        break;
      }
    }
    if (!mover || !command) {
      if (this.metrics.recording) this.metrics.lateTicks++;
      return;
    }
    const peer = mover === this.#a ? this.#b : this.#a;
    const recording = this.metrics.recording;
    const t0 = performance.now();
    this.#busy = true;
    this.#target = { version: Math.max(mover.version, peer.version) + 1, t0, peer, recording };
    if (recording) this.metrics.sent++;
    const sentFrom = mover;
    mover
      .send(command, { timeoutMs: this.ackTimeoutMs, attempts: 1 })
      .then((ack: CommandAck) => {
        if (recording) {
          this.metrics.ack.push(performance.now() - t0);
          if (ack.ok) this.metrics.applied++;
          else this.metrics.refuse(ack.error.code);
        }
        if (ack.ok) this.#turns++;
        if (!ack.ok) {
          this.#target = null;
          return;
        }
        // The mover's own update must land before the next tick may pick a move from its view.
        return sentFrom.waitForVersion(ack.version, this.ackTimeoutMs).then(() => {});
      })
      .catch(() => {
        if (recording) this.metrics.timeouts++;
        this.#target = null;
      })
      .finally(() => {
        this.#busy = false;
      });
  }

  close(): void {
    this.#a?.close();
    this.#b?.close();
  }
}

type RelaySocket = Socket;

class RelayRoom implements RoomDriver {
  #a!: RelaySocket;
  #b!: RelaySocket;
  #turn = 0;
  #version = 0;
  #busy = false;
  #target: { version: number; t0: number; peer: RelaySocket; recording: boolean } | null = null;

  constructor(
    readonly spec: Extract<RoomSpec, { kind: "relay" }>,
    readonly metrics: Metrics,
    readonly ackTimeoutMs: number,
  ) {}

  #connect(origin: string): Promise<RelaySocket> {
    const socket = io(origin, { auth: { room: this.spec.room }, transports: ["websocket"], forceNew: true });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("relay connect timed out")), 30_000);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(socket);
      });
      socket.once("connect_error", (err) => {
        clearTimeout(timer);
        socket.disconnect();
        reject(err);
      });
    });
  }

  async join(): Promise<void> {
    [this.#a, this.#b] = await Promise.all([this.#connect(this.spec.a), this.#connect(this.spec.b)]);
    for (const s of [this.#a, this.#b]) {
      s.on("update", (msg: { version: number }) => {
        this.metrics.update(JSON.stringify(["update", msg]).length, this.#turn);
        this.#onUpdate(s, msg.version);
      });
      s.on("disconnect", () => this.metrics.disconnects++);
    }
  }

  #onUpdate(s: RelaySocket, version: number): void {
    this.#version = Math.max(this.#version, version);
    const target = this.#target;
    if (target && s === target.peer && version >= target.version) {
      if (target.recording) this.metrics.peerLatency(performance.now() - target.t0);
      this.#target = null;
    }
  }

  tick(): void {
    if (this.#busy || this.#target) {
      if (this.metrics.recording) this.metrics.lateTicks++;
      return;
    }
    const mover = this.#turn++ % 2 === 0 ? this.#a : this.#b;
    const peer = mover === this.#a ? this.#b : this.#a;
    const recording = this.metrics.recording;
    const t0 = performance.now();
    this.#busy = true;
    this.#target = { version: this.#version + 1, t0, peer, recording };
    if (recording) this.metrics.sent++;
    const envelope = {
      id: `r${this.#turn}-${this.spec.room}`,
      command: { type: "say", text: TEXTS[this.#turn % TEXTS.length] },
    };
    mover
      .timeout(this.ackTimeoutMs)
      .emitWithAck("command", envelope)
      .then((ack: { ok: boolean; version: number }) => {
        this.#version = Math.max(this.#version, ack.version);
        if (recording) {
          this.metrics.ack.push(performance.now() - t0);
          this.metrics.applied++;
        }
      })
      .catch(() => {
        if (recording) this.metrics.timeouts++;
        this.#target = null;
      })
      .finally(() => {
        this.#busy = false;
      });
  }

  close(): void {
    this.#a?.disconnect();
    this.#b?.disconnect();
  }
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, items.length)) }, worker));
}

function send(msg: LoadMessage): void {
  process.send?.(msg);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(
  config: LoadConfig,
  waitForGo: Promise<void>,
  stopped: () => boolean,
  stopSignal: Promise<void>,
): Promise<void> {
  const metrics = new Metrics();
  const drivers: RoomDriver[] = config.rooms.map((spec) =>
    spec.kind === "attune"
      ? new AttuneRoom(spec, metrics, config.ackTimeoutMs)
      : new RelayRoom(spec, metrics, config.ackTimeoutMs),
  );
  const timers: ReturnType<typeof setTimeout>[] = [];
  try {
    const joinStart = performance.now();
    await inBatches(drivers, config.joinConcurrency, (d) => d.join());
    send({ type: "joined", rooms: drivers.length, joinMs: Math.round(performance.now() - joinStart) });
    await waitForGo;
    // Spread the rooms evenly over the period so the load is steady rather than in bursts.
    drivers.forEach((d, i) => {
      const offset = (i * config.periodMs) / drivers.length;
      timers.push(
        setTimeout(() => {
          d.tick();
          timers.push(setInterval(() => d.tick(), config.periodMs));
        }, offset),
      );
    });
    await sleep(config.warmupMs);
    metrics.reset();
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const takeLag = (): number => {
      const p99 = lag.percentile(99) / 1e6;
      lag.reset();
      return Math.round(p99 * 100) / 100;
    };
    metrics.recording = true;
    send({ type: "window-start" });
    const end = performance.now() + config.durationMs;
    while (performance.now() < end && !stopped()) {
      const left = end - performance.now();
      const step = config.progressEveryMs > 0 ? Math.min(config.progressEveryMs, left) : left;
      await sleep(Math.max(0, step));
      if (config.progressEveryMs > 0 && performance.now() < end) {
        send({
          type: "progress",
          atMs: Math.round(performance.now() - metrics.startedAt),
          stats: {
            ...metrics.snapshot(drivers.length, config.periodMs),
            intervalPeer: metrics.takeInterval(),
            intervalLoadLagP99: takeLag(),
          },
        });
      }
    }
    metrics.recording = false;
    send({ type: "window-end", stats: metrics.snapshot(drivers.length, config.periodMs) });
    // The load goes on, unmeasured, until the parent has taken its end-of-window readings (bounded).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      stopSignal,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 60_000);
      }),
    ]);
    clearTimeout(timer);
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const d of drivers) d.close();
  }
}

if (process.send) {
  let go!: () => void;
  const waitForGo = new Promise<void>((resolve) => {
    go = resolve;
  });
  let stop = false;
  let stopNow!: () => void;
  const stopSignal = new Promise<void>((resolve) => {
    stopNow = resolve;
  });
  let running: Promise<void> | null = null;
  process.on("message", (msg: ParentMessage) => {
    if (msg.type === "config" && !running) {
      running = run(msg.config, waitForGo, () => stop, stopSignal).catch((err: unknown) => {
        send({ type: "error", message: err instanceof Error ? err.message : String(err) });
      });
    } else if (msg.type === "go") {
      go();
    } else if (msg.type === "stop") {
      stop = true;
      stopNow();
      go();
      void (running ?? Promise.resolve()).finally(() => process.exit(0));
    }
  });
  // The parent going away must not leave thousands of sockets open.
  process.on("disconnect", () => process.exit(0));
}
