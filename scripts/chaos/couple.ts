/**
 * Couples for the chaos scenarios, driven only over the documented protocol: sessions created over REST, seats
 * played through the headless participant, typed posts carrying unique text so that every acknowledged command
 * can be looked for in the final transcript, and a ledger that checks exactly that.
 */
import { nanoid } from "nanoid";
import { Participant } from "../../client/headless/participant.ts";
import type {
  Command,
  CommandAck,
  CreateSessionResponse,
  ErrorCode,
  Partner,
  SessionView,
  TranscriptEntry,
} from "../../shared/protocol.ts";
import { sleep } from "./procs.ts";

/** REST calls of a run, with every 5xx kept (a 500 breaks an invariant; /readyz's documented 503 does not). */
export class Http {
  requests = 0;
  readonly errors: string[] = [];

  async fetch(url: string, init?: RequestInit): Promise<Response> {
    this.requests++;
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const path = new URL(url).pathname;
    if (res.status >= 500 && !(path === "/readyz" && res.status === 503)) this.errors.push(`${res.status} ${path}`);
    return res;
  }

  /** GET /healthz: true on 200 {"ok":true}. */
  async healthy(origin: string): Promise<boolean> {
    try {
      const res = await this.fetch(`${origin}/healthz`);
      return res.status === 200 && ((await res.json()) as { ok?: boolean }).ok === true;
    } catch {
      return false;
    }
  }
}

/** The agenda of chaos couples: long timed talk turns, in which both partners may post. */
export const TALK_AGENDA = ["stress-reducing", "stress-reducing", "stress-reducing", "stress-reducing"];

/** Creates a guided, typed session. */
export async function createSession(http: Http, origin: string, agenda = TALK_AGENDA): Promise<CreateSessionResponse> {
  const res = await http.fetch(`${origin}/api/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    // Chaos checks invariants on the words themselves: its sessions are explicitly unencrypted.
    body: JSON.stringify({
      mode: "guided",
      channel: "typed",
      encrypted: false,
      agenda,
      names: { a: "Sam", b: "Alex" },
    }),
  });
  if (res.status !== 201) throw new Error(`POST /api/sessions answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as CreateSessionResponse;
}

/** The same seat link, pointed at another process: the token is what matters, not who issued it. */
export function via(origin: string, link: string): string {
  return `${origin}${new URL(link).pathname}`;
}

export interface Couple {
  id: string;
  links: { a: string; b: string };
  a: Participant;
  b: Participant;
}

/** Joins both seats (a at `originA`, b at `originB`), waits for both online, starts a talk step. */
export async function seatCouple(
  http: Http,
  originA: string,
  originB: string,
  opts: { reconnection?: boolean; start?: boolean } = {},
): Promise<Couple> {
  const created = await createSession(http, originA);
  const join = (origin: string, link: string) =>
    Participant.join(via(origin, link), { reconnection: opts.reconnection ?? true, timeoutMs: 15_000 });
  const a = await join(originA, created.links.a);
  const b = await join(originB, created.links.b);
  const both = (v: SessionView) => v.presence.a && v.presence.b;
  await Promise.all([a.waitFor(both, 15_000), b.waitFor(both, 15_000)]);
  if (opts.start !== false) {
    const ack = await a.send({ type: "start-exercise", exerciseId: "stress-reducing" });
    if (!ack.ok) throw new Error(`start-exercise refused: ${ack.error.code}`);
    const talking = (v: SessionView) => v.version >= ack.version && v.exercise?.step.kind === "talk";
    await Promise.all([a.waitFor(talking, 15_000), b.waitFor(talking, 15_000)]);
  }
  return { id: created.id, links: { a: created.links.a, b: created.links.b }, a, b };
}

/** A unique, checkable text for one post. */
export function postText(tag: string, seat: Partner, n: number): string {
  return `chaos ${tag} ${seat} #${n} ${nanoid(8)}`;
}

export type Outcome =
  | { kind: "ok"; version: number }
  | { kind: "refused"; code: ErrorCode }
  /** No acknowledgement ever came: the outcome is unknown to the client. */
  | { kind: "noack" };

export function outcomeOf(ack: CommandAck | null): Outcome {
  // OUTCOME_UNKNOWN says what a missing ack says: the command may have landed (a retry with its id would tell).
  if (!ack || (!ack.ok && ack.error.code === "OUTCOME_UNKNOWN")) return { kind: "noack" };
  return ack.ok ? { kind: "ok", version: ack.version } : { kind: "refused", code: ack.error.code };
}

export interface LedgerEntry {
  session: string;
  seat: Partner;
  text: string;
  sentAt: number;
  outcome: Outcome;
}

export interface LedgerVerdict {
  sent: number;
  ok: number;
  refused: number;
  noack: number;
  refusedByCode: Record<string, number>;
  /** Acknowledged ok but absent from the final transcript (or there at another version, or by another seat). */
  ackedLost: number;
  /** A text found more than once. */
  appliedTwice: number;
  /** Refused, yet the text is in the transcript. */
  refusedButApplied: number;
  refusedButAppliedByCode: Record<string, number>;
  /** Sent without an ack, found applied (legal: the outcome was unknown to the client). */
  noackApplied: number;
  /** Two ok acks naming the same version of one session: a lost update. */
  duplicateVersions: number;
  examples: string[];
}

/** Every typed post a scenario sent, with its outcome; checked against final transcripts. */
export class Ledger {
  readonly entries: LedgerEntry[] = [];

  add(session: string, seat: Partner, text: string, sentAt: number, outcome: Outcome): void {
    this.entries.push({ session, seat, text, sentAt, outcome });
  }

  /** Checks every entry against the final transcript of its session (`transcripts` by session id). */
  verify(transcripts: Map<string, TranscriptEntry[]>): LedgerVerdict {
    const v: LedgerVerdict = {
      sent: this.entries.length,
      ok: 0,
      refused: 0,
      noack: 0,
      refusedByCode: {},
      ackedLost: 0,
      appliedTwice: 0,
      refusedButApplied: 0,
      refusedButAppliedByCode: {},
      noackApplied: 0,
      duplicateVersions: 0,
      examples: [],
    };
    const found = new Map<string, TranscriptEntry[]>();
    for (const entries of transcripts.values()) {
      for (const t of entries) {
        if (t.kind !== "post" || t.text === undefined) continue;
        const list = found.get(t.text) ?? [];
        list.push(t);
        found.set(t.text, list);
      }
    }
    const versions = new Set<string>();
    const example = (s: string) => {
      if (v.examples.length < 10) v.examples.push(s);
    };
    for (const e of this.entries) {
      const hits = found.get(e.text) ?? [];
      if (hits.length > 1) {
        v.appliedTwice++;
        example(`applied ${hits.length}×: ${e.seat} post at v${hits.map((h) => h.v).join(",")}`);
      }
      if (e.outcome.kind === "ok") {
        v.ok++;
        const key = `${e.session}:${e.outcome.version}`;
        if (versions.has(key)) {
          v.duplicateVersions++;
          example(`two ok acks for v${e.outcome.version} of one session`);
        }
        versions.add(key);
        const version = e.outcome.version;
        if (!transcripts.has(e.session)) continue;
        if (!hits.some((h) => h.v === version && h.seat === e.seat)) {
          v.ackedLost++;
          example(
            `acked v${version} (${e.seat}) not in the final transcript${hits.length ? ` (found at v${hits[0]!.v})` : ""}`,
          );
        }
      } else if (e.outcome.kind === "refused") {
        v.refused++;
        v.refusedByCode[e.outcome.code] = (v.refusedByCode[e.outcome.code] ?? 0) + 1;
        if (hits.length > 0) {
          v.refusedButApplied++;
          v.refusedButAppliedByCode[e.outcome.code] = (v.refusedButAppliedByCode[e.outcome.code] ?? 0) + 1;
          example(`refused ${e.outcome.code} (${e.seat}) yet applied at v${hits[0]!.v}`);
        }
      } else {
        v.noack++;
        if (hits.length > 0) v.noackApplied++;
      }
    }
    return v;
  }
}

/** The seat's view as a fresh connection sees it (joins anew, reads the snapshot, leaves: a takeover). */
export async function freshView(origin: string, link: string): Promise<SessionView> {
  const p = await Participant.join(via(origin, link), { reconnection: false, timeoutMs: 15_000 });
  p.close();
  return p.view;
}

/** The session's transcript as a fresh connection sees it. */
export async function freshTranscript(origin: string, link: string): Promise<TranscriptEntry[]> {
  return (await freshView(origin, link)).transcript;
}

/** Sends one command once (no retry) and waits up to `timeoutMs`; null when no ack came. */
export async function sendOnce(
  p: Participant,
  command: Command,
  opts: { id?: string; expectedVersion?: number; timeoutMs?: number } = {},
): Promise<CommandAck | null> {
  try {
    return await p.send(command, { ...opts, attempts: 1, timeoutMs: opts.timeoutMs ?? 10_000 });
  } catch {
    return null;
  }
}

/**
 * One seat that follows its partner's link to whichever process is up: when its connection drops it joins
 * again through `pickOrigin()` (a fresh connection, as a client would after its server died), and a command in
 * flight is resent with the same id, which the server applies at most once.
 */
export class RoamingSeat {
  current: Participant;
  /** Disconnect → first fresh snapshot on the new connection, per failover (ms). */
  readonly resumes: number[] = [];
  readonly failures: string[] = [];
  /** Why each connection of this seat ended (Socket.IO's reasons, with the server's notice when one came). */
  readonly drops: string[] = [];
  #failover: Promise<void> | null = null;
  #closed = false;

  constructor(
    p: Participant,
    readonly seat: Partner,
    readonly link: string,
    readonly pickOrigin: () => string,
  ) {
    this.current = p;
    this.#watch(p);
  }

  get failingOver(): boolean {
    return this.#failover !== null;
  }

  #watch(p: Participant): void {
    p.on("disconnect", (reason) => {
      if (this.#closed || p !== this.current || this.#failover) return;
      this.drops.push(p.lastNotice ? `${reason} (${p.lastNotice.code})` : reason);
      const since = performance.now();
      // Assigned before #rejoin runs: closing the old participant inside it emits this event again.
      let done: () => void = () => {};
      this.#failover = new Promise<void>((r) => {
        done = r;
      });
      void this.#rejoin(since).finally(() => {
        this.#failover = null;
        done();
      });
    });
  }

  async #rejoin(since: number): Promise<void> {
    this.current.close();
    const deadline = since + 30_000;
    while (!this.#closed && performance.now() < deadline) {
      try {
        const p = await Participant.join(via(this.pickOrigin(), this.link), { reconnection: false, timeoutMs: 5000 });
        if (this.#closed) {
          p.close();
          return;
        }
        this.resumes.push(performance.now() - since);
        this.current = p;
        this.#watch(p);
        return;
      } catch (err) {
        this.failures.push((err as Error).message.slice(0, 80));
        await sleep(100);
      }
    }
  }

  /** Sends `command` until an ack arrives (same id across connections) or `deadlineMs` passes; null then. */
  async send(command: Command, deadlineMs = 30_000): Promise<CommandAck | null> {
    const id = nanoid();
    const end = performance.now() + deadlineMs;
    while (!this.#closed && performance.now() < end) {
      if (this.#failover) await this.#failover;
      const p = this.current;
      if (!p.connected) {
        await sleep(50);
        continue;
      }
      const ack = await sendOnce(p, command, { id, timeoutMs: 3000 });
      if (ack) return ack;
    }
    return null;
  }

  close(): void {
    this.#closed = true;
    this.current.close();
  }
}

/** Sorted-copy percentile (nearest rank); NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
