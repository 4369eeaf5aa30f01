/**
 * A couple's space, read and written with its key: the same code runs in the browser page and headless (scripts
 * and tests), on fetch and WebCrypto only. Everything is encrypted here before it leaves, and decrypted here
 * after it arrives; the server sees envelopes, sizes, times and kinds (docs/space.md).
 *
 * A space link is `<origin>/space/<token>#<key>`: the token (the path) opens the partner's own access, the key (the
 * fragment, which browsers never send) opens the content. Both partners' links carry the same key.
 */
import {
  deriveEntryId,
  entryContext,
  generateSpaceKey,
  importSpaceKey,
  randomEntryId,
  SpaceCryptoError,
  type SpaceKey,
  seal,
  unseal,
} from "../../shared/crypto.ts";
import type { Partner, SessionView } from "../../shared/protocol.ts";
import type {
  AnswerContent,
  AppendEntryResponse,
  CreateSpaceResponse,
  HelloContent,
  InviteContent,
  JoinedContent,
  KeptAgreement,
  PlanContent,
  SessionContent,
  SpaceEntryKind,
  SpaceEntryView,
  SpaceView,
} from "../../shared/space-protocol.ts";

/** A failure a person can act on: `code` says which (key, damaged, gone, revoked, network, server). */
export class SpaceError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 0) {
    super(message);
    this.name = "SpaceError";
    this.code = code;
    this.status = status;
  }
}

export interface ParsedSpaceLink {
  origin: string;
  token: string;
  /** The key text from the fragment ("" when the link lost it). */
  key: string;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{21}\.[A-Za-z0-9_-]{21}$/;

/** Splits a space link into origin, token and key; undefined when it is not a space link. */
export function parseSpaceLink(link: string): ParsedSpaceLink | undefined {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return undefined;
  }
  const match = /^\/space\/([^/]+)\/?$/.exec(url.pathname);
  const token = match ? decodeURIComponent(match[1]!) : "";
  if (!TOKEN_RE.test(token)) return undefined;
  return { origin: url.origin, token, key: url.hash.replace(/^#/, "") };
}

/** The whole link for a partner: the server's link plus the key in the fragment. */
export function withKey(serverLink: string, key: SpaceKey | string): string {
  return `${serverLink}#${typeof key === "string" ? key : key.text}`;
}

/** One entry after opening: its metadata and either its content or why it could not be read. */
export interface OpenedEntry<T = unknown> {
  meta: SpaceEntryView;
  content?: T;
  /** Set when the entry could not be opened (damaged, or not ours); nothing else is touched. */
  problem?: string;
}

export interface OpenedSpace {
  id: string;
  you: Partner;
  createdAt: number;
  expiresAt: number;
  entries: OpenedEntry[];
  /** How many entries could not be opened (a damaged or altered entry); 0 normally. */
  unreadable: number;
}

/** A kept session, as the space page lists it. */
export interface KeptSession {
  entryId: string;
  content: SessionContent;
}

/** One agreement with each partner's "did it happen?" as far as you may see it. */
export interface AgreementStatus {
  agreement: KeptAgreement;
  session: SessionContent;
  yours?: AnswerContent["happened"];
  /** Your partner's answer, only once you answered too (the server withholds it before). */
  theirs?: AnswerContent["happened"];
  /** Your partner answered (you have not yet): what, you will see after you answer. */
  theirsSealed: boolean;
}

/** What the space page shows, derived from the opened entries. */
export interface SpaceSummary {
  names: Record<Partner, string>;
  sessions: KeptSession[];
  agreements: AgreementStatus[];
  /** The newest invitation to a session waiting for you (from your partner), if it has not expired. */
  invite?: InviteContent & { entryId: string };
  plans: PlanContent[];
}

function partnerOther(p: Partner): Partner {
  return p === "a" ? "b" : "a";
}

async function readError(res: Response): Promise<SpaceError> {
  let code = `HTTP_${res.status}`;
  let message = "";
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? "";
  } catch {
    // not JSON
  }
  if (code === "TOKEN_UNKNOWN" || code === "SPACE_NOT_FOUND") {
    return new SpaceError(
      "gone",
      "This space link no longer opens anything: the space was erased, or it expired after 90 days without a visit.",
      res.status,
    );
  }
  if (code === "TOKEN_REVOKED") {
    return new SpaceError(
      "revoked",
      "This space link was replaced by a newer one. Ask your partner for a fresh link, or use your newest one.",
      res.status,
    );
  }
  if (res.status === 429) return new SpaceError("rate", "Too many tries just now. Wait a minute and try again.", 429);
  return new SpaceError("server", message || "Something went wrong on the server. Please try again.", res.status);
}

/** A space opened with one partner's link. */
export class SpaceClient {
  readonly origin: string;
  readonly token: string;
  readonly key: SpaceKey;
  readonly spaceId: string;
  readonly #fetch: typeof fetch;

  private constructor(origin: string, token: string, key: SpaceKey, fetcher: typeof fetch) {
    this.origin = origin;
    this.token = token;
    this.key = key;
    this.spaceId = token.slice(0, token.indexOf("."));
    // Called as a plain function: a browser's fetch refuses to run with another object as `this`.
    this.#fetch = (input, init) => fetcher(input, init);
  }

  /** Opens a partner's full link (with its key). Throws SpaceError("key") when the key is missing or mistyped. */
  static async open(link: string, fetcher: typeof fetch = fetch): Promise<SpaceClient> {
    const parsed = parseSpaceLink(link);
    if (!parsed) throw new SpaceError("link", "This is not a space link. Open the whole link you were sent.");
    if (!parsed.key) {
      throw new SpaceError(
        "key",
        "This link is missing its key (the part after #). Open the whole link again, exactly as it was sent.",
      );
    }
    try {
      return new SpaceClient(parsed.origin, parsed.token, await importSpaceKey(parsed.key), fetcher);
    } catch (err) {
      if (err instanceof SpaceCryptoError) {
        throw new SpaceError(
          "key",
          "This link's key is incomplete or mistyped. Open the whole link again, exactly as it was sent.",
        );
      }
      throw err;
    }
  }

  /**
   * Creates a space on `origin` with a fresh key, writes its first entry (your names, encrypted) and returns
   * both partners' full links. Creating it is one request; the key never leaves this client.
   */
  static async create(
    origin: string,
    names: Record<Partner, string>,
    fetcher: typeof fetch = fetch,
  ): Promise<{ links: Record<Partner, string>; space: SpaceClient; expiresAt: number }> {
    let res: Response;
    try {
      res = await fetcher(`${origin}/api/spaces`, { method: "POST", headers: { accept: "application/json" } });
    } catch {
      throw new SpaceError("network", "Couldn't reach the server. Check your connection and try again.");
    }
    if (!res.ok) throw await readError(res);
    const created = (await res.json()) as CreateSpaceResponse;
    const key = await generateSpaceKey();
    const links = { a: withKey(created.links.a, key), b: withKey(created.links.b, key) };
    const space = await SpaceClient.open(links.a, fetcher);
    const hello: HelloContent = { names, createdAt: Date.now() };
    await space.append("hello", hello, { id: await deriveEntryId(key, "hello") });
    return { links, space, expiresAt: created.expiresAt };
  }

  /** This partner's full link (token and key). */
  get link(): string {
    return `${this.origin}/space/${this.token}#${this.key.text}`;
  }

  async #call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      return await this.#fetch(`${this.origin}/api/spaces/${this.spaceId}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new SpaceError("network", "Couldn't reach the server. Check your connection and try again.");
    }
  }

  /** The space as the server lists it (opaque entries). Renews its time-to-live. */
  async raw(): Promise<SpaceView> {
    const res = await this.#call("GET", "");
    if (!res.ok) throw await readError(res);
    return (await res.json()) as SpaceView;
  }

  /**
   * Loads and decrypts the space. Throws SpaceError("key") when no entry opens with this key (the link's key is
   * wrong); a few entries that do not open are reported (`unreadable`, each with its `problem`), never dropped
   * silently and never overwritten.
   */
  async load(): Promise<OpenedSpace> {
    const view = await this.raw();
    const entries: OpenedEntry[] = [];
    let opened = 0;
    let unreadable = 0;
    for (const meta of view.entries) {
      if (!meta.envelope) {
        entries.push({ meta });
        continue;
      }
      try {
        const content = await unseal(this.key, entryContext(view.id, meta.kind, meta.id), meta.envelope);
        entries.push({ meta, content });
        opened++;
      } catch (err) {
        unreadable++;
        entries.push({ meta, problem: err instanceof Error ? err.message : "unreadable" });
      }
    }
    if (opened === 0 && unreadable > 0) {
      throw new SpaceError(
        "key",
        "This link's key does not open this space. Open the whole link again, exactly as it was sent — nothing has been changed.",
      );
    }
    return { id: view.id, you: view.you, createdAt: view.createdAt, expiresAt: view.expiresAt, entries, unreadable };
  }

  /** Encrypts `content` and appends it; `stored: false` when an entry with this id was there already. */
  async append(
    kind: SpaceEntryKind,
    content: unknown,
    options: { id?: string; group?: string } = {},
  ): Promise<AppendEntryResponse> {
    const id = options.id ?? randomEntryId();
    const envelope = await seal(this.key, entryContext(this.spaceId, kind, id), content);
    const res = await this.#call("POST", "/entries", {
      id,
      kind,
      envelope,
      ...(options.group ? { group: options.group } : {}),
    });
    if (!res.ok) throw await readError(res);
    return (await res.json()) as AppendEntryResponse;
  }

  /** The entry id of a kept session: the same for both partners (keyed by the space key), unlinkable by the server. */
  sessionEntryId(sessionId: string): Promise<string> {
    return deriveEntryId(this.key, `session:${sessionId}`);
  }

  /** Saves a kept session once, whichever partner saves it first. */
  async saveSession(sessionId: string, content: SessionContent): Promise<AppendEntryResponse> {
    return this.append("session", content, { id: await this.sessionEntryId(sessionId) });
  }

  /** Your private "did it happen?" for one agreement (one answer per partner per agreement). */
  async answer(you: Partner, ref: string, happened: AnswerContent["happened"]): Promise<AppendEntryResponse> {
    const content: AnswerContent = { ref, happened };
    return this.append("answer", content, {
      id: await deriveEntryId(this.key, `answer:${ref}:${you}`),
      group: await deriveEntryId(this.key, `group:${ref}`),
    });
  }

  /** Leaves your partner the seat link of a session you started, so they join from their space. */
  async invite(content: InviteContent): Promise<AppendEntryResponse> {
    return this.append("invite", content);
  }

  /** Records that you followed an invitation, so it is no longer offered (once per invitation). */
  async joined(inviteEntryId: string): Promise<AppendEntryResponse> {
    const content: JoinedContent = { invite: inviteEntryId };
    return this.append("joined", content, { id: await deriveEntryId(this.key, `joined:${inviteEntryId}`) });
  }

  async plan(content: PlanContent): Promise<AppendEntryResponse> {
    return this.append("plan", content);
  }

  /** A fresh link for `partner`; the old one stops working. Returns the full link (with the key). */
  async reissue(partner: Partner): Promise<string> {
    const res = await this.#call("POST", `/links/${partner}`);
    if (!res.ok) throw await readError(res);
    const body = (await res.json()) as { link: string };
    return withKey(body.link, this.key);
  }

  /** Revokes this link for good. */
  async revoke(you: Partner): Promise<void> {
    const res = await this.#call("POST", `/links/${you}/revoke`);
    if (!res.ok) throw await readError(res);
  }

  /** Erases the whole space, for both partners. */
  async erase(): Promise<void> {
    const res = await this.#call("DELETE", "");
    if (!res.ok) throw await readError(res);
  }
}

/**
 * What the opened entries add up to: names, kept sessions (oldest first), agreements and the answers you may
 * see, your partner's newest invitation, plans. The key is needed to tell which agreement a sealed answer is about.
 */
export async function summarize(space: OpenedSpace, key: SpaceKey, now = Date.now()): Promise<SpaceSummary> {
  let names: Record<Partner, string> = { a: "Partner A", b: "Partner B" };
  const sessions: KeptSession[] = [];
  const answers = new Map<string, Partial<Record<Partner, AnswerContent["happened"]>>>();
  const sealedGroups = new Set<string>();
  let invite: SpaceSummary["invite"];
  const joined = new Set(
    space.entries.flatMap((e) => (e.meta.kind === "joined" && e.content ? [(e.content as JoinedContent).invite] : [])),
  );
  const plans: PlanContent[] = [];
  for (const entry of space.entries) {
    const { meta } = entry;
    if (meta.kind === "answer" && meta.sealed && meta.group) sealedGroups.add(meta.group);
    if (entry.content === undefined) continue;
    if (meta.kind === "hello") names = { ...names, ...(entry.content as HelloContent).names };
    if (meta.kind === "session") sessions.push({ entryId: meta.id, content: entry.content as SessionContent });
    if (meta.kind === "answer") {
      const a = entry.content as AnswerContent;
      answers.set(a.ref, { ...answers.get(a.ref), [meta.by]: a.happened });
    }
    if (meta.kind === "invite") {
      const inv = entry.content as InviteContent;
      if (inv.for === space.you && meta.by !== space.you && inv.expiresAt > now && !joined.has(meta.id)) {
        if (!invite || inv.createdAt > invite.createdAt) invite = { ...inv, entryId: meta.id };
      }
    }
    if (meta.kind === "plan") plans.push(entry.content as PlanContent);
  }
  sessions.sort((x, y) => x.content.date - y.content.date);
  const agreements: AgreementStatus[] = [];
  for (const s of sessions) {
    for (const agreement of s.content.agreements) {
      const given = answers.get(agreement.ref) ?? {};
      const yours = given[space.you];
      agreements.push({
        agreement,
        session: s.content,
        ...(yours ? { yours } : {}),
        ...(yours && given[partnerOther(space.you)] ? { theirs: given[partnerOther(space.you)] } : {}),
        // Which agreement a sealed answer is about is known only through the keyed group id.
        theirsSealed: !yours && sealedGroups.has(await deriveEntryId(key, `group:${agreement.ref}`)),
      });
    }
  }
  return { names, sessions, agreements, plans, ...(invite ? { invite } : {}) };
}

/** A check-in's rating and feeling, if it holds one (idea lists are not check-ins). */
function checkInOf(view: SessionView, which: "first" | "last", p: Partner) {
  const checkIns = view.checkIns.filter((c) => !Object.values(c.answers).some((a) => a.ideas !== undefined));
  const c = which === "first" ? checkIns[0] : checkIns.length > 1 ? checkIns.at(-1) : undefined;
  const answer = c?.answers[p];
  if (!answer) return undefined;
  return {
    ...(answer.rating !== undefined ? { rating: answer.rating } : {}),
    ...(answer.feeling ? { feeling: answer.feeling } : {}),
  };
}

/**
 * The kept entry of a session both partners chose to keep, composed from a partner's view after the reveal: the
 * date, exercises, check-ins before and after, both "heard" ratings and words, agreements, and the lines both
 * ticked. Undefined unless the view says the session is kept.
 */
export function composeKept(view: SessionView): SessionContent | undefined {
  const revealed = view.reflection?.revealed;
  if (!revealed?.keep) return undefined;
  const title = (id: string) => view.agenda.find((e) => e.id === id)?.title ?? id.replace(/-/g, " ");
  const kept = new Set(revealed.lines ?? []);
  const partners = {} as SessionContent["partners"];
  for (const p of ["a", "b"] as const) {
    const before = checkInOf(view, "first", p);
    const after = checkInOf(view, "last", p);
    const heard = revealed.heard[p];
    partners[p] = {
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
      heard: heard.heard,
      ...(heard.word ? { word: heard.word } : {}),
    };
  }
  // The same for both partners when the session did anything (their reflections' times differ).
  const endedAt =
    Math.max(view.completed.at(-1)?.at ?? 0, ...view.transcript.map((t) => t.at)) || (view.reflection?.yours?.at ?? 0);
  return {
    date: endedAt || Date.now(),
    exercises: view.completed.map((c) => title(c.exerciseId)),
    partners,
    agreements: view.agreements.map((a) => ({
      ref: `${view.id}:${a.v}`,
      exercise: title(a.exerciseId),
      ...(a.what ? { what: a.what } : {}),
      ...(a.when ? { when: a.when } : {}),
      ...(a.picked ? { picked: a.picked } : {}),
      by: a.by === "therapist" ? ("therapist" as const) : a.by,
    })),
    lines: view.transcript
      .filter((t) => kept.has(t.v) && t.text)
      .map((t) => ({ by: t.seat === "therapist" ? ("therapist" as const) : t.seat, text: t.text! })),
    names: { a: view.names.a ?? "Partner A", b: view.names.b ?? "Partner B" },
  };
}
