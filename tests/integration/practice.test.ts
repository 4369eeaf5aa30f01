/**
 * Practices over HTTP and sockets, on memory and Redis: a practice opened with a key (plain-language refusals for a
 * missing or wrong key), its library (per-path problems, edit in place, survives a restart when stored in Redis), a
 * standing room link two partners open and wait at, a session started with both from the waiting list (admitted,
 * named, the library loaded) without new links, a changed link that stops the old one, and an audit trail that never
 * carries names, exercise text or tokens.
 */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { createLogger } from "../../server/log.ts";
import { WAITING_TICKETS_PER_MINUTE } from "../../server/practice.ts";
import { MemoryStore } from "../../server/store/memory.ts";
import { MemoryPracticeStore } from "../../server/store/practice.ts";
import { hashToken } from "../../server/tokens.ts";
import { SpaceCryptoError } from "../../shared/crypto.ts";
import {
  generateWaitingKeyPair,
  keepPrivateKey,
  unwrapSeatKeys,
  type WaitingKeyPair,
} from "../../shared/key-exchange.ts";
import {
  generateSessionKeys,
  keyFragmentFor,
  linkWithKeys,
  readKeyFragment,
  sealNames,
} from "../../shared/session-crypto.ts";
import { type ByteTap, startByteTap } from "../support/byte-tap.ts";
import { GRATITUDE_MINUTE } from "../support/exercises.ts";
import { api, tokenIn, wrapForSeats } from "../support/practice-api.ts";
import { startTestServer, storeVariants } from "../support/server.ts";
import { redisDump } from "../support/store-dump.ts";

const KEY = "practice-key-0123456789abcdef";
const variants = await storeVariants();
const open: Participant[] = [];
const taps: ByteTap[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) p.close();
  await Promise.all(taps.splice(0).map((t) => t.close()));
});

function capture(level: "info" | "debug" = "info") {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger(level, stream) };
}

describe.each(variants)("practices ($name)", (variant) => {
  it("refuses a missing or wrong key in plain words, and opens a practice with a good one", async () => {
    const server = await startTestServer({ ...variant.options(), therapistApiKeys: [KEY] });
    const missing = await api(server.url, "POST", "/api/practices", undefined, { displayName: "Rivera Couples" });
    expect(missing).toMatchObject({
      status: 401,
      body: { error: { message: "Enter your practice key to open a practice." } },
    });
    const wrong = await api(server.url, "POST", "/api/practices", "not-the-key", { displayName: "Rivera Couples" });
    expect(wrong).toMatchObject({ status: 401, body: { error: { message: "That practice key wasn't recognised." } } });
    const noName = await api(server.url, "POST", "/api/practices", KEY, { displayName: "  " });
    expect(noName.status).toBe(400);
    expect(noName.body.error.message).toMatch(/^displayName: /);
    const made = await api(server.url, "POST", "/api/practices", KEY, { displayName: "Rivera Couples" });
    expect(made.status).toBe(201);
    expect(made.body.links.practice).toMatch(/\/practice\/o\./);
    expect(made.body.links.room).toMatch(/\/wait\/r\./);
    const owner = tokenIn(made.body.links.practice);
    const view = await api(server.url, "GET", "/api/practice", owner);
    expect(view.body).toMatchObject({ displayName: "Rivera Couples", exercises: [], waiting: [] });
    // The room link shown again is the one handed out (derived, never stored).
    expect(view.body.roomLink).toBe(made.body.links.room);
    // One character changed (never to the one it already was).
    const altered = `${owner.slice(0, -1)}${owner.endsWith("x") ? "y" : "x"}`;
    expect((await api(server.url, "GET", "/api/practice", altered)).status).toBe(401);
    expect((await api(server.url, "GET", "/api/practice")).status).toBe(401);
  });

  it("keeps a library with per-path problems, edits in place, and removes", async () => {
    const server = await startTestServer({ ...variant.options(), therapistApiKeys: [KEY] });
    const made = await api(server.url, "POST", "/api/practices", KEY, { displayName: "Rivera Couples" });
    const owner = tokenIn(made.body.links.practice);
    const bad = await api(server.url, "POST", "/api/practice/exercises", owner, {
      definition: { id: "Bad Id", title: "x", summary: "y", colour: "blue", steps: [] },
    });
    expect(bad.status).toBe(400);
    const paths = (bad.body.error.problems as { path: string }[]).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(["colour", "id", "steps"]));
    const good = await api(server.url, "POST", "/api/practice/exercises", owner, { definition: GRATITUDE_MINUTE });
    expect(good).toMatchObject({ status: 200, body: { id: GRATITUDE_MINUTE.id } });
    const edited = { ...GRATITUDE_MINUTE, title: "Gratitude, two minutes" };
    await api(server.url, "POST", "/api/practice/exercises", owner, { definition: edited });
    const view = await api(server.url, "GET", "/api/practice", owner);
    expect(view.body.exercises.map((e: { title: string }) => e.title)).toEqual(["Gratitude, two minutes"]);
    const gone = await api(server.url, "DELETE", `/api/practice/exercises/${GRATITUDE_MINUTE.id}`, owner);
    expect(gone.status).toBe(200);
    expect((await api(server.url, "DELETE", `/api/practice/exercises/${GRATITUDE_MINUTE.id}`, owner)).status).toBe(404);
  });

  it("two partners wait at the standing link; the therapist starts them into one session without new links", async () => {
    const { lines, logger } = capture();
    const server = await startTestServer({ ...variant.options(), therapistApiKeys: [KEY], logger });
    const made = await api(server.url, "POST", "/api/practices", KEY, { displayName: "Rivera Couples" });
    const owner = tokenIn(made.body.links.practice);
    const room = tokenIn(made.body.links.room);
    await api(server.url, "POST", "/api/practice/exercises", owner, { definition: GRATITUDE_MINUTE });

    expect((await api(server.url, "GET", "/api/standing-room", room)).body).toEqual({ practiceName: "Rivera Couples" });
    const robin = await api(server.url, "POST", "/api/standing-room/wait", room, { firstName: " Quillon " });
    const kai = await api(server.url, "POST", "/api/standing-room/wait", room, { firstName: "Mirabeau" });
    expect(robin.status).toBe(201);
    expect((await api(server.url, "POST", "/api/standing-room/wait", room, { firstName: "" })).status).toBe(400);
    for (const t of [robin.body.ticket, kai.body.ticket]) {
      expect((await api(server.url, "GET", "/api/standing-room/ticket", t)).body).toEqual({
        status: "waiting",
        practiceName: "Rivera Couples",
      });
    }
    const waiting = (await api(server.url, "GET", "/api/practice", owner)).body.waiting as {
      id: string;
      firstName: string;
    }[];
    expect(waiting.map((w) => w.firstName)).toEqual(["Quillon", "Mirabeau"]);

    // Partners who waited without a public key (an API client, an older page): their session starts unencrypted.
    const started = await api(server.url, "POST", "/api/practice/sessions", owner, {
      a: waiting[0]!.id,
      b: waiting[1]!.id,
      channel: "typed",
      encrypted: false,
    });
    expect(started.status).toBe(201);
    const therapist = await Participant.join(started.body.links.therapist);
    open.push(therapist);
    // Each partner's page learns its seat with its own ticket, once.
    const seatA = await api(server.url, "GET", "/api/standing-room/ticket", robin.body.ticket);
    const seatB = await api(server.url, "GET", "/api/standing-room/ticket", kai.body.ticket);
    expect(started.body.encrypted).toBe(false);
    // No keys to hand out in an unencrypted session: the token and the seat only.
    expect(seatA.body).toEqual({ status: "started", token: expect.any(String), seat: "a" });
    expect(seatB.body).toEqual({ status: "started", token: expect.any(String), seat: "b" });
    expect((await api(server.url, "GET", "/api/standing-room/ticket", robin.body.ticket)).status).toBe(404);
    const a = await Participant.join(`${server.url}/join/${seatA.body.token}`);
    const b = await Participant.join(`${server.url}/join/${seatB.body.token}`);
    open.push(a, b);
    for (const p of [a, b, therapist]) {
      await p.waitFor((v) => v.admitted.a && v.admitted.b);
      expect(p.view!.id).toBe(started.body.id);
      expect(p.view!.names).toEqual({ a: "Quillon", b: "Mirabeau" });
      expect(p.view!.waiting).toBe(false);
    }
    expect(therapist.view!.agenda.map((e) => e.id)).toContain(GRATITUDE_MINUTE.id);
    expect((await api(server.url, "GET", "/api/practice", owner)).body.waiting).toEqual([]);

    // Changing the link: the old one stops working at once, the new one works.
    const changed = await api(server.url, "POST", "/api/practice/room-link", owner);
    expect((await api(server.url, "GET", "/api/standing-room", room)).status).toBe(401);
    expect((await api(server.url, "GET", "/api/standing-room", tokenIn(changed.body.roomLink))).status).toBe(200);
    await server.close();

    const all = lines.join("\n");
    for (const secret of ["Quillon", "Mirabeau", "Rivera Couples", KEY, owner, room, robin.body.ticket]) {
      expect(all).not.toContain(secret);
    }
    expect(all).not.toContain(hashToken(owner));
    const audits = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.audit);
    expect(audits.map((r) => r.audit)).toEqual(
      expect.arrayContaining([
        "key-used",
        "practice-opened",
        "waiting",
        "session-started",
        "seat-taken",
        "link-changed",
      ]),
    );
    for (const r of audits) expect(typeof r.time).toBe("number");
  });
});

/** A waiting page, played here as the browser plays it: its own key pair, its ticket and its waiting place's id. */
interface WaitingPage {
  ticket: string;
  waitingId: string;
  pair: WaitingKeyPair;
}

/** The waiting page as the console sees it. */
const seatOf = (page: WaitingPage) => ({ publicKey: page.pair.publicKey, waitingId: page.waitingId });

async function waitWithKey(url: string, room: string, firstName: string): Promise<WaitingPage> {
  const pair = await generateWaitingKeyPair();
  const out = await api(url, "POST", "/api/standing-room/wait", room, { firstName, publicKey: pair.publicKey });
  expect(out.status).toBe(201);
  expect(out.body).toEqual({ ticket: expect.any(String), waitingId: expect.any(String), practiceName: "Dr Rivera" });
  return { ticket: out.body.ticket, waitingId: out.body.waitingId, pair };
}

describe.each(variants)("sessions from the waiting list are end-to-end encrypted ($name)", (variant) => {
  it("two asks at once with one ticket: one is handed the seat, the other told where; the token works", async () => {
    const server = await startTestServer({ ...variant.options(), therapistApiKeys: [KEY] });
    const made = await api(server.url, "POST", "/api/practices", KEY, { displayName: "Rivera Couples" });
    const owner = tokenIn(made.body.links.practice);
    const room = tokenIn(made.body.links.room);
    const robin = await api(server.url, "POST", "/api/standing-room/wait", room, { firstName: "Quillon" });
    const kai = await api(server.url, "POST", "/api/standing-room/wait", room, { firstName: "Mirabeau" });
    const waiting = (await api(server.url, "GET", "/api/practice", owner)).body.waiting as { id: string }[];
    const started = await api(server.url, "POST", "/api/practice/sessions", owner, {
      a: waiting[0]!.id,
      b: waiting[1]!.id,
      channel: "spoken",
    });
    expect(started.status).toBe(201);
    const asks = await Promise.all(
      Array.from({ length: 4 }, () => api(server.url, "GET", "/api/standing-room/ticket", robin.body.ticket)),
    );
    const given = asks.filter((r) => r.status === 200);
    expect(given).toHaveLength(1);
    expect(given[0]!.body).toEqual({ status: "started", token: expect.any(String), seat: "a" });
    for (const r of asks.filter((x) => x.status !== 200)) {
      // Each loser is told plainly (409 while it raced the winner, 404 once the wait is over).
      expect([404, 409]).toContain(r.status);
      if (r.status === 409) expect(r.body.error.message).toBe("you joined from another window or tab; carry on there");
    }
    // The one token handed out is live: no later ask switched it off.
    const a = await Participant.join(`${server.url}/join/${given[0]!.body.token}`);
    open.push(a);
    await a.waitFor((v) => v.admitted.a);
    expect(a.view!.you.seat).toBe("a");
    expect((await api(server.url, "GET", "/api/standing-room/ticket", kai.body.ticket)).status).toBe(200);
  });

  it("wraps each partner's keys to their own page: the session is encrypted and the server keeps no key", async () => {
    const { lines, logger } = capture("debug");
    const practiceStore = new MemoryPracticeStore();
    const sessionStore = new MemoryStore();
    const options = variant.options() as { redisPrefix?: string };
    const server = await startTestServer({
      ...options,
      therapistApiKeys: [KEY],
      logger,
      ...(variant.name === "memory" ? { practiceStore, store: sessionStore } : {}),
    });
    const tap = await startByteTap(server.url);
    taps.push(tap);
    const url = tap.url;
    const made = await api(url, "POST", "/api/practices", KEY, { displayName: "Dr Rivera" });
    const owner = tokenIn(made.body.links.practice);
    const room = tokenIn(made.body.links.room);
    const robin = await waitWithKey(url, room, "Quillon");
    const kai = await waitWithKey(url, room, "Mirabeau");

    // The practice sees each page's public key, to wrap that partner's keys to.
    const listed = (await api(url, "GET", "/api/practice", owner)).body.waiting as {
      id: string;
      firstName: string;
      publicKey: string | null;
    }[];
    expect(listed.map((w) => [w.id, w.firstName, w.publicKey])).toEqual([
      [robin.waitingId, "Quillon", robin.pair.publicKey],
      [kai.waitingId, "Mirabeau", kai.pair.publicKey],
    ]);

    // The console: keys made here, names sealed, each partner's fragment wrapped to their own page.
    const keys = await generateSessionKeys();
    const fragments = { a: keyFragmentFor(keys, "a", "therapist"), b: keyFragmentFor(keys, "b", "therapist") };
    const wrappedKeys = await wrapForSeats(keys, { a: seatOf(robin), b: seatOf(kai) });
    const names = await sealNames(keys, { a: "Quillon", b: "Mirabeau" });
    const pair = { a: robin.waitingId, b: kai.waitingId, channel: "typed" };
    const started = await api(url, "POST", "/api/practice/sessions", owner, { ...pair, names, wrappedKeys });
    expect(started.status).toBe(201);
    expect(started.body.encrypted).toBe(true);

    // What the server keeps before the partners ask: their public keys and wrapped keys, never a key of the session.
    const secrets = [
      keys.conversation.text,
      keys.notes.text,
      keys.private.a.text,
      keys.private.b.text,
      ...(await Promise.all([robin, kai].map(async (p) => (await keepPrivateKey(p.pair.privateKey)).d!))),
    ];
    const keptBefore =
      variant.name === "memory"
        ? JSON.stringify(await practiceStore.listWaiting(made.body.id, Date.now()))
        : await redisDump(options.redisPrefix!);
    expect(keptBefore).toContain(wrappedKeys.a);
    expect(secrets.filter((k) => keptBefore.includes(k))).toEqual([]);

    // Each page gets its own seat and its own wrapped keys, once.
    const seatA = await api(url, "GET", "/api/standing-room/ticket", robin.ticket);
    const seatB = await api(url, "GET", "/api/standing-room/ticket", kai.ticket);
    expect(seatA.body).toEqual({ status: "started", token: expect.any(String), seat: "a", wrappedKeys: wrappedKeys.a });
    expect(seatB.body).toEqual({ status: "started", token: expect.any(String), seat: "b", wrappedKeys: wrappedKeys.b });
    expect((await api(url, "GET", "/api/standing-room/ticket", robin.ticket)).status).toBe(404);
    expect((await api(url, "GET", "/api/standing-room/ticket", kai.ticket)).status).toBe(404);

    // Each page opens its own keys, and not the other's.
    const placeA = { waitingId: robin.waitingId, seat: "a" as const };
    const placeB = { waitingId: kai.waitingId, seat: "b" as const };
    const openedA = await unwrapSeatKeys(robin.pair, seatA.body.wrappedKeys, placeA);
    const openedB = await unwrapSeatKeys(kai.pair, seatB.body.wrappedKeys, placeB);
    expect([openedA, openedB]).toEqual([fragments.a, fragments.b]);
    const crossed = await unwrapSeatKeys(robin.pair, seatB.body.wrappedKeys, placeB).catch((e: unknown) => e);
    expect(crossed).toBeInstanceOf(SpaceCryptoError);
    expect((crossed as SpaceCryptoError).problem).toBe("unreadable");
    const readA = await readKeyFragment(openedA);
    expect(readA.private.b).toBeUndefined();
    expect(readA.notes).toBeUndefined();

    // The partners enter with those keys kept as a link's fragment would be; the therapist with their link's keys.
    const therapist = await Participant.join(
      linkWithKeys(started.body.links.therapist, keys, "therapist", "therapist"),
    );
    const a = await Participant.join(`${url}/join/${seatA.body.token}#${openedA}`);
    const b = await Participant.join(`${url}/join/${seatB.body.token}#${openedB}`);
    open.push(therapist, a, b);
    for (const p of [a, b, therapist]) {
      await p.waitFor((v) => v.admitted.a && v.admitted.b);
      expect(p.view.encrypted).toBe(true);
      expect((await p.opened()).names).toEqual({ a: "Quillon", b: "Mirabeau" });
    }
    // Names are kept sealed: the session's own record holds no first name.
    expect(therapist.view.names.a).toMatch(/^e1\./);
    const ack = await therapist.send({ type: "start-exercise", exerciseId: "intentional-dialogue", firstSpeaker: "a" });
    expect(ack.ok).toBe(true);
    await a.waitFor((v) => v.exercise?.step.yourMove === true);
    const said = "ZqWaitingListWordsVex";
    const version = await a.send({ type: "say", text: said });
    if (!version.ok) throw new Error(version.error.message);
    await Promise.all([b.waitForVersion(version.version), therapist.waitForVersion(version.version)]);
    for (const p of [b, therapist]) {
      expect((await p.opened()).transcript.map((e) => e.text)).toContain(said);
      expect(p.opener.failures).toBe(0);
    }
    // A text in clear is refused by the engine, and nothing changes.
    const before = therapist.version;
    const clear = await therapist.socket.emitWithAck("command", {
      id: "clear-text-0001",
      command: { type: "message-both", text: "in clear" },
    });
    expect(clear).toMatchObject({ ok: false, error: { code: "TEXT_NOT_SEALED" } });
    expect(therapist.version).toBe(before);

    // Neither the bytes the server received, nor what it keeps, nor its logs hold a key of the session.
    const received = tap.received().toString("utf8");
    expect(tap.problems).toEqual([]);
    expect(received).toContain(wrappedKeys.a);
    expect(received).not.toContain(said);
    expect(secrets.filter((k) => received.includes(k))).toEqual([]);
    const sessionKept =
      variant.name === "memory"
        ? JSON.stringify([
            await sessionStore.load(started.body.id),
            await sessionStore.loadWorking(started.body.id),
            await sessionStore.loadLog(started.body.id),
          ])
        : await redisDump(options.redisPrefix!);
    expect(sessionKept).toContain(started.body.id);
    expect(secrets.filter((k) => sessionKept.includes(k))).toEqual([]);
    expect(sessionKept).not.toContain(said);
    expect(sessionKept).not.toContain("Quillon");
    await server.close();
    const logs = lines.join("\n");
    expect(lines.length).toBeGreaterThan(5);
    const logged = [...secrets, robin.pair.publicKey, kai.pair.publicKey, wrappedKeys.a, wrappedKeys.b, said];
    expect(logged.filter((k) => logs.includes(k))).toEqual([]);
    const audits = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.audit);
    expect(audits.find((r) => r.audit === "session-started")).toMatchObject({ encrypted: true });
  });

  it("refuses a bad public key, clear names and missing or malformed wrapped keys, and changes nothing", async () => {
    const server = await startTestServer({ ...variant.options(), therapistApiKeys: [KEY] });
    const made = await api(server.url, "POST", "/api/practices", KEY, { displayName: "Dr Rivera" });
    const owner = tokenIn(made.body.links.practice);
    const room = tokenIn(made.body.links.room);
    const good = (await generateWaitingKeyPair()).publicKey;
    for (const publicKey of [
      "not-a-key",
      `B${"A".repeat(86)}`,
      `${good}A`,
      good.slice(0, -1),
      12345,
      null,
      { x: 1 },
      "B".repeat(10_000),
    ]) {
      const refused = await api(server.url, "POST", "/api/standing-room/wait", room, {
        firstName: "Quillon",
        publicKey,
      });
      expect(refused.status, String(publicKey).slice(0, 20)).toBe(400);
      expect(refused.body.error.message).toMatch(/^publicKey: this is not a P-256 public key/);
    }
    // Nothing was kept: nobody waits yet.
    expect((await api(server.url, "GET", "/api/practice", owner)).body.waiting).toEqual([]);

    const robin = await waitWithKey(server.url, room, "Quillon");
    const kai = await waitWithKey(server.url, room, "Mirabeau");
    const keys = await generateSessionKeys();
    const names = await sealNames(keys, { a: "Quillon", b: "Mirabeau" });
    const wrappedKeys = await wrapForSeats(keys, { a: seatOf(robin), b: seatOf(kai) });
    const pair = { a: robin.waitingId, b: kai.waitingId, channel: "typed" };
    const refusals: [Record<string, unknown>, number, RegExp][] = [
      [{ names }, 400, /^wrappedKeys: an encrypted session needs each partner's keys/],
      [{ names, wrappedKeys: [wrappedKeys.a, wrappedKeys.b] }, 400, /^wrappedKeys: /],
      [{ names, wrappedKeys: { a: wrappedKeys.a } }, 400, /^wrappedKeys\.b: /],
      [{ names, wrappedKeys: { a: "x1.short", b: wrappedKeys.b } }, 400, /^wrappedKeys\.a: /],
      [{ names, wrappedKeys: { ...wrappedKeys, b: `${wrappedKeys.b}${"A".repeat(2000)}` } }, 400, /^wrappedKeys\.b: /],
      [{ names, wrappedKeys: { ...wrappedKeys, a: 7 } }, 400, /^wrappedKeys\.a: /],
      [{ names, wrappedKeys, encrypted: "yes" }, 400, /^encrypted: give true or false$/],
      [{ encrypted: false, wrappedKeys }, 400, /^wrappedKeys: an unencrypted session takes no keys$/],
      [{ encrypted: false, names }, 400, /^names: an unencrypted session takes the first names/],
    ];
    for (const [extra, status, message] of refusals) {
      const refused = await api(server.url, "POST", "/api/practice/sessions", owner, { ...pair, ...extra });
      expect(refused.status, JSON.stringify(extra).slice(0, 60)).toBe(status);
      expect(refused.body.error.message).toMatch(message);
    }
    const clear = await api(server.url, "POST", "/api/practice/sessions", owner, {
      ...pair,
      names: { a: "Quillon", b: "Mirabeau" },
      wrappedKeys,
    });
    expect(clear.body.error.code).toBe("TEXT_NOT_SEALED");
    // Nothing was started by a refused request: both partners still wait, and their pages hear nothing new.
    const still = (await api(server.url, "GET", "/api/practice", owner)).body.waiting as { started: boolean }[];
    expect(still.map((w) => w.started)).toEqual([false, false]);
    expect((await api(server.url, "GET", "/api/standing-room/ticket", robin.ticket)).body.status).toBe("waiting");

    // A partner who waited without a key (an older page): an encrypted start is refused in words, an unencrypted
    // one goes ahead.
    const keyless = await api(server.url, "POST", "/api/standing-room/wait", room, { firstName: "Oriel" });
    const oriel = keyless.body.waitingId as string;
    const refused = await api(server.url, "POST", "/api/practice/sessions", owner, {
      a: robin.waitingId,
      b: oriel,
      channel: "typed",
      names,
      wrappedKeys,
    });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: "INVALID_COMMAND" } } });
    expect(refused.body.error.message).toBe(
      "b: that partner waited without a key, so their session cannot be end-to-end encrypted; start it with encrypted: false",
    );
    const plain = await api(server.url, "POST", "/api/practice/sessions", owner, {
      a: robin.waitingId,
      b: oriel,
      channel: "typed",
      encrypted: false,
    });
    expect(plain).toMatchObject({ status: 201, body: { encrypted: false } });
    const seat = await api(server.url, "GET", "/api/standing-room/ticket", robin.ticket);
    expect(seat.body).toEqual({ status: "started", token: expect.any(String), seat: "a" });
    // The partner still waiting with a key starts encrypted with another who has one.
    const third = await waitWithKey(server.url, room, "Sorrel");
    const late = await wrapForSeats(keys, { a: seatOf(kai), b: seatOf(third) });
    const ok = await api(server.url, "POST", "/api/practice/sessions", owner, {
      a: kai.waitingId,
      b: third.waitingId,
      channel: "typed",
      names,
      wrappedKeys: late,
    });
    expect(ok).toMatchObject({ status: 201, body: { encrypted: true } });
    await server.close();
  });
});

describe("the audit trail of keys and exports", () => {
  it("logs key use and refusal by tag, and the record's export by the therapist alone", async () => {
    const { lines, logger } = capture();
    const server = await startTestServer({ therapistApiKeys: [KEY], logger });
    const post = (key?: string) =>
      api(server.url, "POST", "/api/sessions", key, {
        mode: "therapist",
        channel: "typed",
        encrypted: false,
        names: { a: "Quillon" },
      });
    expect((await post()).body.error.message).toMatch(/needs your practice key/);
    expect(await post("wrong-key-0123456789")).toMatchObject({
      status: 401,
      body: { error: { message: "That practice key wasn't recognised." } },
    });
    const made = await post(KEY);
    expect(made.status).toBe(201);
    const therapistToken = tokenIn(made.body.links.therapist);
    const partnerToken = tokenIn(made.body.links.a);
    const exported = await api(server.url, "POST", `/api/sessions/${made.body.id}/record-exported`, therapistToken);
    expect(exported).toMatchObject({ status: 200, body: { ok: true } });
    const byPartner = await api(server.url, "POST", `/api/sessions/${made.body.id}/record-exported`, partnerToken);
    expect(byPartner.status).toBe(403);
    await server.close();

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.find((r) => r.msg === "therapist key refused")).toMatchObject({ audit: "key-refused" });
    expect(records.find((r) => r.msg === "therapist key used")).toMatchObject({ audit: "key-used" });
    expect(records.filter((r) => r.msg === "record exported")).toEqual([
      expect.objectContaining({ session: made.body.id, by: "therapist", audit: "export" }),
    ]);
    const all = lines.join("\n");
    for (const secret of [KEY, "wrong-key-0123456789", therapistToken, partnerToken, "Quillon"]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe("the standing link, the library a session loads, and who lets a partner in", () => {
  it("limits waiting places per client address, with a plain 'wait a minute', and counts each address apart", async () => {
    const server = await startTestServer({ therapistApiKeys: [KEY], trustProxy: ["loopback"] });
    const made = await api(server.url, "POST", "/api/practices", KEY, { displayName: "Rivera Couples" });
    const room = tokenIn(made.body.links.room);
    const waitFrom = async (ip: string, firstName: string) => {
      const res = await fetch(`${server.url}/api/standing-room/wait`, {
        method: "POST",
        headers: { authorization: `Bearer ${room}`, "content-type": "application/json", "x-forwarded-for": ip },
        body: JSON.stringify({ firstName }),
      });
      return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
    };
    for (let i = 0; i < WAITING_TICKETS_PER_MINUTE; i++) {
      expect((await waitFrom("203.0.113.7", `Tryer${i}`)).status).toBe(201);
    }
    const refused = await waitFrom("203.0.113.7", "Onemore");
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toBe("Too many tries from here. Please wait a minute, then try again.");
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    // The refused try took no place in the waiting list.
    const owner = tokenIn(made.body.links.practice);
    const waiting = (await api(server.url, "GET", "/api/practice", owner)).body.waiting as { firstName: string }[];
    expect(waiting.map((w) => w.firstName)).not.toContain("Onemore");
    expect(waiting).toHaveLength(WAITING_TICKETS_PER_MINUTE);
    // Another address is counted on its own.
    expect((await waitFrom("198.51.100.4", "Elsewhere")).status).toBe(201);
    await server.close();
  });

  it("renames a practice, refusing an empty, a too long or an ill-formed name and keeping the old one", async () => {
    const server = await startTestServer({ therapistApiKeys: [KEY] });
    const made = await api(server.url, "POST", "/api/practices", KEY, { displayName: "Rivera Couples" });
    const owner = tokenIn(made.body.links.practice);
    const room = tokenIn(made.body.links.room);
    for (const displayName of ["  ", "x".repeat(81), "Dr \ud800Rivera", 7, undefined]) {
      const refused = await api(server.url, "PATCH", "/api/practice", owner, { displayName });
      expect(refused.status, String(displayName)).toBe(400);
      expect(refused.body.error.message).toMatch(/^displayName: /);
    }
    expect((await api(server.url, "GET", "/api/practice", owner)).body.displayName).toBe("Rivera Couples");
    expect((await api(server.url, "PATCH", "/api/practice", room, { displayName: "Dr Rivera" })).status).toBe(401);
    const renamed = await api(server.url, "PATCH", "/api/practice", owner, { displayName: " Dr   Rivera " });
    expect(renamed).toEqual({ status: 200, body: { displayName: "Dr Rivera" } });
    expect((await api(server.url, "GET", "/api/standing-room", room)).body).toEqual({ practiceName: "Dr Rivera" });
    await server.close();
  });

  it("loads only the library exercises the therapist chose, and refuses ids the library does not hold", async () => {
    const server = await startTestServer({ therapistApiKeys: [KEY] });
    const made = await api(server.url, "POST", "/api/practices", KEY, { displayName: "Dr Rivera" });
    const owner = tokenIn(made.body.links.practice);
    const room = tokenIn(made.body.links.room);
    const second = { ...GRATITUDE_MINUTE, id: "gratitude-two", title: "Gratitude, two" };
    for (const definition of [GRATITUDE_MINUTE, second]) {
      await api(server.url, "POST", "/api/practice/exercises", owner, { definition });
    }
    const quillon = await api(server.url, "POST", "/api/standing-room/wait", room, { firstName: "Quillon" });
    await api(server.url, "POST", "/api/standing-room/wait", room, { firstName: "Mirabeau" });
    const waiting = (await api(server.url, "GET", "/api/practice", owner)).body.waiting as { id: string }[];
    const pair = { a: waiting[0]!.id, b: waiting[1]!.id, channel: "typed", encrypted: false };

    const refusals = [
      [{ exercises: ["no-such-exercise"] }, /^exercises\[0\]: that exercise is not in your library$/],
      [{ exercises: [second.id, second.id] }, /^exercises: each exercise may be chosen once$/],
      [{ exercises: "gratitude-two" }, /^exercises: give a list/],
      [{ exercises: [1] }, /^exercises: give a list/],
    ] as const;
    for (const [extra, message] of refusals) {
      const refused = await api(server.url, "POST", "/api/practice/sessions", owner, { ...pair, ...extra });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toMatch(message);
    }
    // Nothing was started by a refused request: both partners still wait.
    const still = (await api(server.url, "GET", "/api/practice", owner)).body.waiting as { started: boolean }[];
    expect(still.map((w) => w.started)).toEqual([false, false]);

    const started = await api(server.url, "POST", "/api/practice/sessions", owner, { ...pair, exercises: [second.id] });
    expect(started.status).toBe(201);
    const therapist = await Participant.join(started.body.links.therapist);
    open.push(therapist);
    await therapist.waitFor((v) => v.admitted.a && v.admitted.b);
    const ids = therapist.view!.agenda.map((e) => e.id);
    expect(ids).toContain(second.id);
    expect(ids).not.toContain(GRATITUDE_MINUTE.id);

    // The partner's page is told who lets them in: the practice's name, and nothing else.
    const seat = await api(server.url, "GET", "/api/standing-room/ticket", quillon.body.ticket);
    const host = await api(server.url, "GET", "/api/session/waiting-room", seat.body.token);
    expect(host).toEqual({ status: 200, body: { therapistName: "Dr Rivera" } });
    await server.close();
  });

  it("creates a session with links from the practice, loading only the chosen library exercises", async () => {
    const server = await startTestServer({ therapistApiKeys: [KEY] });
    const made = await api(server.url, "POST", "/api/practices", KEY, { displayName: "Dr Rivera" });
    const owner = tokenIn(made.body.links.practice);
    const second = { ...GRATITUDE_MINUTE, id: "gratitude-two", title: "Gratitude, two" };
    for (const definition of [GRATITUDE_MINUTE, second]) {
      await api(server.url, "POST", "/api/practice/exercises", owner, { definition });
    }
    const path = "/api/practice/sessions/with-links";
    const unknown = await api(server.url, "POST", path, owner, { channel: "typed", exercises: ["nope"] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe("exercises[0]: that exercise is not in your library");
    expect((await api(server.url, "POST", path, owner, { channel: "carrier-pigeon" })).status).toBe(400);
    expect((await api(server.url, "POST", path, undefined, { channel: "typed" })).status).toBe(401);

    // A name in clear in a typed (so, by default, encrypted) session is refused; the console seals it first.
    const clear = await api(server.url, "POST", path, owner, { channel: "typed", names: { a: "Quillon" } });
    expect(clear).toMatchObject({ status: 400, body: { error: { code: "TEXT_NOT_SEALED" } } });
    const created = await api(server.url, "POST", path, owner, {
      channel: "typed",
      encrypted: false,
      names: { a: "Quillon", b: "Mirabeau" },
      exercises: [GRATITUDE_MINUTE.id],
    });
    expect(created.status).toBe(201);
    const therapist = await Participant.join(created.body.links.therapist);
    open.push(therapist);
    await therapist.waitFor((v) => v.agenda.some((e) => e.id === GRATITUDE_MINUTE.id));
    const ids = therapist.view!.agenda.map((e) => e.id);
    expect(ids).not.toContain(second.id);
    expect(therapist.view!.admitted).toEqual({ a: false, b: false });
    const host = await api(server.url, "GET", "/api/session/waiting-room", tokenIn(created.body.links.a));
    expect(host.body).toEqual({ therapistName: "Dr Rivera" });
    await server.close();
  });

  it("names the therapist given at creation in the waiting room, and says nothing when no name was given", async () => {
    const server = await startTestServer({ therapistApiKeys: [KEY] });
    const create = (extra: Record<string, unknown>) =>
      api(server.url, "POST", "/api/sessions", KEY, { mode: "therapist", channel: "typed", ...extra });
    const named = await create({ therapistName: "  Dr Rivera " });
    expect(named.status).toBe(201);
    for (const seat of ["a", "b", "therapist"] as const) {
      const host = await api(server.url, "GET", "/api/session/waiting-room", tokenIn(named.body.links[seat]));
      expect(host).toEqual({ status: 200, body: { therapistName: "Dr Rivera" } });
    }
    const unnamed = await create({});
    const host = await api(server.url, "GET", "/api/session/waiting-room", tokenIn(unnamed.body.links.a));
    expect(host.body).toEqual({ therapistName: null });
    // A guided session has no therapist to name, whatever was sent.
    const guided = await api(server.url, "POST", "/api/sessions", undefined, {
      mode: "guided",
      channel: "typed",
      therapistName: "Dr Rivera",
    });
    const none = await api(server.url, "GET", "/api/session/waiting-room", tokenIn(guided.body.links.a));
    expect(none.body).toEqual({ therapistName: null });
    // Ill-formed or over-long names are refused, and no session is made.
    expect((await create({ therapistName: "x".repeat(81) })).status).toBe(400);
    expect((await create({ therapistName: "Dr \ud800Rivera" })).status).toBe(400);
    expect((await create({ therapistName: "   " })).status).toBe(400);
    expect((await api(server.url, "GET", "/api/session/waiting-room", "not-a-token")).status).toBe(401);
    await server.close();
  });
});
