/**
 * Test helpers: a real Attune server on a free port with a silent logger, closed automatically after the
 * suite (or test) that started it, and a typed session-creation call.
 */
import { afterAll } from "vitest";
import type { Participant } from "../../client/headless/participant.ts";
import type { Command, CreateSessionRequest, CreateSessionResponse } from "../../shared/protocol.ts";
import { generateSessionKeys, linksWithKeys, type SessionKeys, sealNames } from "../../shared/session-crypto.ts";
import { type RunningAttune, startAttune } from "../../server/app.ts";
import { type Config, loadConfig } from "../../server/config.ts";
import { type Logger, silentLogger } from "../../server/log.ts";
import type { PracticeStore } from "../../server/store/practice.ts";
import type { SessionStore } from "../../server/store/types.ts";

export type TestServerOptions = Partial<Config> & {
  store?: SessionStore;
  /** A practice store to read back what the server kept (left open when the server closes). */
  practiceStore?: PracticeStore;
  logger?: Logger;
  clientDir?: string;
  /** Presence grace in ms (default here 150, so suites need not wait the production grace on every leave). */
  presenceGraceMs?: number;
  beatMs?: number;
};

const running = new Set<RunningAttune>();
let hooked = false;

/**
 * Starts Attune on 127.0.0.1 port 0 with a silent logger (unless one is given). Every server started here is
 * closed in an afterAll of the file that started it; calling close() earlier is fine.
 */
export async function startTestServer(overrides: TestServerOptions = {}): Promise<RunningAttune> {
  const { store, practiceStore, logger, clientDir, presenceGraceMs, beatMs, ...configOverrides } = overrides;
  const config: Config = { ...loadConfig({}), host: "127.0.0.1", port: 0, logLevel: "silent", ...configOverrides };
  const server = await startAttune({
    config,
    store,
    practiceStore,
    clientDir,
    logger: logger ?? silentLogger(),
    presenceGraceMs: presenceGraceMs ?? 150,
    beatMs,
  });
  const tracked: RunningAttune = {
    ...server,
    close: async () => {
      running.delete(tracked);
      await server.close();
    },
  };
  running.add(tracked);
  if (!hooked) {
    hooked = true;
    afterAll(async () => {
      await Promise.all([...running].map((s) => s.close()));
    });
  }
  return tracked;
}

/** POST /api/sessions; throws with the server's error body unless it answers 201. */
export async function createTestSession(
  url: string,
  body: CreateSessionRequest,
  headers: Record<string, string> = {},
): Promise<CreateSessionResponse> {
  // Tests of other things send typed words in clear: their sessions are unencrypted unless they say otherwise
  // (createEncryptedTestSession makes one the way the browser does).
  const res = await fetch(`${url}/api/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ encrypted: false, ...body }),
  });
  const json = (await res.json()) as unknown;
  if (res.status !== 201) throw new Error(`POST /api/sessions answered ${res.status}: ${JSON.stringify(json)}`);
  return json as CreateSessionResponse;
}

/**
 * Creates an end-to-end encrypted session as the creating browser does: fresh keys here, names sealed before they
 * leave, and each link given its seat's keys in the fragment (the server never sees them).
 */
export async function createEncryptedTestSession(
  url: string,
  body: Omit<CreateSessionRequest, "encrypted">,
  headers: Record<string, string> = {},
): Promise<CreateSessionResponse & { keys: SessionKeys }> {
  const keys = await generateSessionKeys();
  const request: CreateSessionRequest = { ...body, encrypted: true };
  if (body.names) request.names = await sealNames(keys, body.names);
  const created = await createTestSession(url, request, headers);
  return { ...created, links: linksWithKeys(created.links, keys, body.mode), keys };
}

/** The token at the end of a join link. */
export function tokenOf(link: string): string {
  return decodeURIComponent(new URL(link).pathname.split("/").pop() ?? "");
}

/** Store backends a suite runs against: memory always; Redis when it answers (required under CI). */
export interface StoreVariant {
  name: "memory" | "redis";
  /** Config overrides selecting the backend (a unique key prefix per call for Redis). */
  options(): Partial<Config>;
}

/** The store variants to run; call once per file at top level (it checks Redis). */
export async function storeVariants(): Promise<StoreVariant[]> {
  const { REDIS_URL, redisAvailable, requireService } = await import("./env.ts");
  const variants: StoreVariant[] = [{ name: "memory", options: () => ({}) }];
  if (requireService("Redis", await redisAvailable())) {
    variants.push({
      name: "redis",
      options: () => ({ redisUrl: REDIS_URL, redisPrefix: redisTestPrefix() }),
    });
  }
  return variants;
}

const prefixes = new Set<string>();

/** A fresh Redis key prefix whose keys (sessions, adapter stream) are deleted after the file's tests. */
export function redisTestPrefix(label = "attune-test"): string {
  const prefix = `${label}:${Math.random().toString(36).slice(2, 10)}:`;
  prefixes.add(prefix);
  return prefix;
}

afterAll(async () => {
  if (prefixes.size === 0) return;
  const { REDIS_URL } = await import("./env.ts");
  const { createClient } = await import("redis");
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    for (const prefix of prefixes) {
      // Only this suite's keys: its session prefix, and the adapter's stream and recovery keys named after it.
      for (const pattern of [`${prefix}*`, `socket.io:${prefix}*`, `sio:session:${prefix}*`]) {
        for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 200 })) {
          const list = Array.isArray(keys) ? keys : [keys];
          if (list.length > 0) await client.del(list);
        }
      }
    }
  } finally {
    prefixes.clear();
    if (client.isOpen) await client.quit().catch(() => {});
  }
});

/** One move of a seat, as the driver below plays it. */
export interface PlayedMove {
  seat: "a" | "b";
  stepId: string;
  role: string;
  command: Command;
  version: number;
}

/**
 * Plays the running exercise to its end with two partners: at every step exactly the seat(s) whose move it is
 * act (say with text when typed, without when spoken; the first option of a choice; an answer; end-turn), and
 * after every applied command both views are awaited at the new version and checked against their seat.
 * `choose` may pick another option for a step (to walk a loop); returns the moves in order.
 */
export async function playToEnd(
  a: Participant,
  b: Participant,
  opts: { choose?: (stepId: string, visit: number) => string | undefined; maxMoves?: number } = {},
): Promise<PlayedMove[]> {
  const moves: PlayedMove[] = [];
  const visits = new Map<string, number>();
  // Start from one shared version: a partner's last update (e.g. a presence change) may still be on its way.
  const caughtUp = Math.max(a.view.version, b.view.version);
  await Promise.all([a.waitForVersion(caughtUp), b.waitForVersion(caughtUp)]);
  const exerciseId = a.view.exercise?.id;
  if (!exerciseId) throw new Error("no exercise is running");
  const doneBefore = a.view.completed.length;
  for (let i = 0; i < (opts.maxMoves ?? 200); i++) {
    if (a.view.completed.length > doneBefore) return moves;
    const ex = a.view.exercise;
    if (!ex) throw new Error(`exercise stopped without completing (phase ${a.view.phase})`);
    const bx = b.view.exercise!;
    // Both seats see the same step, from their own role.
    if (bx.step.id !== ex.step.id || bx.speaker !== ex.speaker) throw new Error("partners see different steps");
    const movers = [a, b].filter((p) => p.view.exercise!.step.yourMove);
    if (movers.length === 0) throw new Error(`nobody may act at step ${ex.step.id}`);
    for (const p of movers) {
      const view = p.view;
      const step = view.exercise!.step;
      const seat = view.you.seat as "a" | "b";
      const visit = (visits.get(`${seat}:${step.id}`) ?? 0) + 1;
      visits.set(`${seat}:${step.id}`, visit);
      let command: Command;
      if (step.kind === "say") {
        command = view.channel === "typed" ? { type: "say", text: `${seat} at ${step.id} #${visit}` } : { type: "say" };
      } else if (step.kind === "choose") {
        command = { type: "choose", option: opts.choose?.(step.id, visit) ?? step.options![0]!.id };
      } else if (step.kind === "private-answer") {
        const f = step.answerFields ?? {};
        command = {
          type: "answer",
          answer: {
            ...(f.rating ? { rating: f.rating.max - (seat === "a" ? 1 : 2) } : {}),
            ...(f.feelings ? { feeling: f.feelings[seat === "a" ? 0 : 1] } : {}),
            ...(f.note ? { note: `private note of ${seat}` } : {}),
          },
        };
      } else {
        command = { type: "end-turn" };
      }
      const ack = await p.send(command);
      if (!ack.ok)
        throw new Error(`${seat} ${command.type} at ${step.id} refused: ${ack.error.code} ${ack.error.message}`);
      moves.push({ seat, stepId: step.id, role: step.role, command, version: ack.version });
      await Promise.all([a.waitForVersion(ack.version), b.waitForVersion(ack.version)]);
    }
  }
  throw new Error("exercise did not finish within the move budget");
}
