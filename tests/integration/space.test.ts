/**
 * The couple's space over REST and through the headless space client (issue 15), on the memory store and on
 * Redis: capability links, opaque entries, idempotent appends, the sealed "did it happen?" answers, revoke,
 * reissue and erase, limits and clear errors; and, on Redis, a scan of every byte the store holds for a space
 * after a kept session, which must find none of the session's words, names or ratings in clear.
 */
import { createClient, RESP_TYPES } from "redis";
import { describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { composeKept, parseSpaceLink, SpaceClient, SpaceError, summarize } from "../../client/headless/space.ts";
import { generateSpaceKey } from "../../shared/crypto.ts";
import type { SessionContent } from "../../shared/space-protocol.ts";
import { loadConfig } from "../../server/config.ts";
import { REDIS_URL } from "../support/env.ts";
import { createTestSession, startTestServer, storeVariants } from "../support/server.ts";

const variants = await storeVariants();
const NAMES = { a: "Robin", b: "Sam" };

async function call(url: string, method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${url}/api/spaces${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: (text ? JSON.parse(text) : null) as Record<string, unknown> & {
      error?: { code: string; message: string; field?: string };
    },
  };
}

const tokenOf = (link: string) => parseSpaceLink(link)!.token;

function content(word: string): SessionContent {
  return {
    date: Date.UTC(2026, 0, 10, 18),
    exercises: ["Emotional check-in"],
    partners: { a: { heard: 7, word }, b: { heard: 8 } },
    agreements: [{ ref: "s1:9", exercise: "Repair", what: "a walk on Sunday", by: "a" }],
    lines: [],
    names: NAMES,
  };
}

describe.each(variants)("the couple's space ($name store)", (variant) => {
  it("creates a space with one private link per partner; each opens the space as that partner", async () => {
    const server = await startTestServer(variant.options());
    const created = await call(server.url, "POST", "");
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    const links = created.body.links as { a: string; b: string };
    for (const link of [links.a, links.b]) {
      expect(link).toMatch(new RegExp(`^${server.url}/space/[A-Za-z0-9_-]{21}\\.[A-Za-z0-9_-]{21}$`));
    }
    expect(tokenOf(links.a)).not.toBe(tokenOf(links.b));
    const id = created.body.id as string;
    expect(tokenOf(links.a).startsWith(`${id}.`)).toBe(true);
    const a = await call(server.url, "GET", `/${id}`, tokenOf(links.a));
    const b = await call(server.url, "GET", `/${id}`, tokenOf(links.b));
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ id, you: "a", entries: [] });
    expect(b.body).toMatchObject({ id, you: "b", entries: [] });
    const ttl = await server.store.spaces().ttl(id);
    expect(ttl).toBeGreaterThan(89 * 24 * 3600_000);
  });

  it("refuses a missing, unknown or foreign token with a clear error, and slows down guessing", async () => {
    const server = await startTestServer({ ...variant.options(), authFailuresPerMinute: 4 });
    const one = await call(server.url, "POST", "");
    const two = await call(server.url, "POST", "");
    const id = one.body.id as string;
    const own = tokenOf((one.body.links as { a: string }).a);
    expect((await call(server.url, "GET", `/${id}`)).body.error?.code).toBe("TOKEN_MISSING");
    const unknown = await call(server.url, "GET", `/${id}`, `${id}.${"x".repeat(21)}`);
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toMatchObject({ code: "TOKEN_UNKNOWN" });
    expect((await call(server.url, "GET", `/${id}`, "not-a-token")).body.error?.code).toBe("TOKEN_UNKNOWN");
    const foreign = await call(server.url, "GET", `/${id}`, tokenOf((two.body.links as { b: string }).b));
    expect(foreign.status).toBe(403);
    expect(foreign.body.error?.code).toBe("NOT_YOURS");
    // Four failures spent: even the right token waits now.
    await call(server.url, "GET", `/${id}`, `${id}.${"y".repeat(21)}`);
    const blocked = await call(server.url, "GET", `/${id}`, own);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error?.code).toBe("RATE_LIMITED");
  });

  it("stores opaque entries once per id, validates them, and lists id, kind, author, size and time", async () => {
    const server = await startTestServer(variant.options());
    const { links, space } = await SpaceClient.create(server.url, NAMES);
    const b = await SpaceClient.open(links.b);
    const before = await space.raw();
    expect(before.entries).toHaveLength(1);
    expect(before.entries[0]).toMatchObject({ kind: "hello", by: "a" });
    expect(before.entries[0]!.size).toBeGreaterThan(20);
    expect(JSON.stringify(before)).not.toContain("Robin");

    const [first, second] = await Promise.all([
      space.saveSession("session-1", content("lighter")),
      b.saveSession("session-1", content("lighter")),
    ]);
    expect([first.stored, second.stored].sort()).toEqual([false, true]);
    expect((await b.raw()).entries.filter((e) => e.kind === "session")).toHaveLength(1);

    const id = space.spaceId;
    const token = space.token;
    const envelope = { v: 1, iv: "A".repeat(16), ct: "B".repeat(40) };
    const bad = [
      [{ id: "short", kind: "session", envelope }, "id"],
      [{ id: "x".repeat(22), kind: "diary", envelope }, "kind"],
      [{ id: "x".repeat(22), kind: "session", envelope: { ...envelope, v: 2 } }, "envelope.v"],
      [{ id: "x".repeat(22), kind: "session", envelope: { ...envelope, iv: "a+b/" } }, "envelope.iv"],
      [{ id: "x".repeat(22), kind: "answer", envelope }, "group"],
      [{ id: "x".repeat(22), kind: "session", envelope, extra: 1 }, "body"],
    ] as const;
    for (const [body, field] of bad) {
      const res = await call(server.url, "POST", `/${id}/entries`, token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error?.code).toBe("INVALID_ENTRY");
      expect(res.body.error?.field).toBe(field);
    }
    const huge = await call(server.url, "POST", `/${id}/entries`, token, {
      id: "y".repeat(22),
      kind: "session",
      envelope: { ...envelope, ct: "C".repeat(49_000) },
    });
    expect(huge.status).toBe(413);
    expect((await space.raw()).entries).toHaveLength(2);
  });

  it("keeps a partner's 'did it happen?' sealed from the other until both answered", async () => {
    const server = await startTestServer(variant.options());
    const { links, space: a } = await SpaceClient.create(server.url, NAMES);
    const b = await SpaceClient.open(links.b);
    await a.saveSession("s1", content("calm"));
    await a.answer("a", "s1:9", "yes");

    const seenByB = await b.raw();
    const sealed = seenByB.entries.find((e) => e.kind === "answer")!;
    expect(sealed.sealed).toBe(true);
    expect(sealed.envelope).toBeUndefined();
    let summaryB = await summarize(await b.load(), b.key);
    expect(summaryB.agreements[0]).toMatchObject({ theirsSealed: true });
    expect(summaryB.agreements[0]!.theirs).toBeUndefined();
    const summaryA = await summarize(await a.load(), a.key);
    expect(summaryA.agreements[0]).toMatchObject({ yours: "yes", theirsSealed: false });
    expect(summaryA.agreements[0]!.theirs).toBeUndefined();

    await b.answer("b", "s1:9", "partly");
    // Answering twice lands once.
    expect((await b.answer("b", "s1:9", "no")).stored).toBe(false);
    summaryB = await summarize(await b.load(), b.key);
    expect(summaryB.agreements[0]).toMatchObject({ yours: "partly", theirs: "yes" });
    expect((await summarize(await a.load(), a.key)).agreements[0]).toMatchObject({ yours: "yes", theirs: "partly" });
  });

  it("wrong key: a clear error and nothing written; a tampered entry is reported, the rest still opens", async () => {
    const server = await startTestServer(variant.options());
    const { links, space } = await SpaceClient.create(server.url, NAMES);
    await space.saveSession("s1", content("steady"));
    const other = await generateSpaceKey();
    const wrong = await SpaceClient.open(`${links.b.split("#")[0]}#${other.text}`);
    const err = await wrong.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SpaceError);
    expect((err as SpaceError).code).toBe("key");
    expect((err as SpaceError).message).toMatch(/key does not open this space/);
    await expect(SpaceClient.open(links.b.split("#")[0]!)).rejects.toThrow(/missing its key/);
    await expect(SpaceClient.open(`${links.b.split("#")[0]}#abc`)).rejects.toThrow(/incomplete or mistyped/);

    // Tamper with the stored session entry directly in the store, as a server-side attacker could.
    const spaces = server.store.spaces();
    const stored = (await spaces.listEntries(space.spaceId))!;
    const target = stored.find((e) => e.kind === "session")!;
    const env = JSON.parse(target.envelope) as { ct: string };
    const flipped = env.ct[5] === "A" ? "B" : "A";
    const altered = { ...env, ct: env.ct.slice(0, 5) + flipped + env.ct.slice(6) };
    await spaces.erase(space.spaceId);
    const ids = { a: tokenOf(links.a), b: tokenOf(links.b) };
    const { hashToken } = await import("../../server/tokens.ts");
    await spaces.createSpace(
      { id: space.spaceId, createdAt: 1 },
      [
        { partner: "a", tokenHash: hashToken(ids.a) },
        { partner: "b", tokenHash: hashToken(ids.b) },
      ],
      60_000,
    );
    const limits = { maxEntries: 10, maxBytes: 100_000 };
    for (const e of stored) {
      const envelope = e.id === target.id ? JSON.stringify(altered) : e.envelope;
      await spaces.append(space.spaceId, { ...e, envelope }, limits, 60_000);
    }
    const opened = await space.load();
    expect(opened.unreadable).toBe(1);
    const bad = opened.entries.find((e) => e.meta.id === target.id)!;
    expect(bad.content).toBeUndefined();
    expect(bad.problem).toMatch(/changed or moved/);
    expect(opened.entries.find((e) => e.meta.kind === "hello")!.content).toMatchObject({ names: NAMES });
  });

  it("revokes only your own link, reissues either partner's, and erase ends both links at once", async () => {
    const server = await startTestServer(variant.options());
    const { links, space: a } = await SpaceClient.create(server.url, NAMES);
    const b = await SpaceClient.open(links.b);
    const id = a.spaceId;
    const refused = await call(server.url, "POST", `/${id}/links/b/revoke`, a.token);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.message).toMatch(/only your own link/);

    const freshB = await a.reissue("b");
    expect(parseSpaceLink(freshB)!.key).toBe(a.key.text);
    await expect(b.raw()).rejects.toMatchObject({ code: "revoked" });
    const b2 = await SpaceClient.open(freshB);
    expect((await b2.raw()).you).toBe("b");

    await b2.revoke("b");
    await expect(b2.raw()).rejects.toMatchObject({ code: "revoked" });
    const b3 = await SpaceClient.open(await a.reissue("b"));
    expect((await b3.load()).you).toBe("b");

    await b3.erase();
    await expect(a.raw()).rejects.toMatchObject({ code: "gone" });
    await expect(b3.raw()).rejects.toMatchObject({ code: "gone" });
    const gone = await call(server.url, "GET", `/${id}`, a.token);
    expect(gone.status).toBe(401);
    expect(await server.store.spaces().listEntries(id)).toBeNull();
  });

  it("limits space creation per address per hour (SPACES_PER_HOUR) with Retry-After", async () => {
    const server = await startTestServer({ ...variant.options(), spacesPerHour: 2 });
    expect((await call(server.url, "POST", "")).status).toBe(201);
    expect((await call(server.url, "POST", "")).status).toBe(201);
    const third = await call(server.url, "POST", "");
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(third.body.error?.message).toMatch(/too many spaces/);
  });

  it("a visit renews the space's time-to-live (SPACE_TTL_DAYS)", async () => {
    const server = await startTestServer({ ...variant.options(), spaceTtlMs: 4000 });
    const { space } = await SpaceClient.create(server.url, NAMES);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await server.store.spaces().ttl(space.spaceId)).toBeLessThan(3000);
    await space.raw();
    expect(await server.store.spaces().ttl(space.spaceId)).toBeGreaterThan(3500);
  });
});

describe("space configuration", () => {
  it("reads SPACE_TTL_DAYS and SPACES_PER_HOUR, and refuses bad values naming the variable", () => {
    expect(loadConfig({})).toMatchObject({ spaceTtlMs: 90 * 86_400_000, spacesPerHour: 20 });
    expect(loadConfig({ SPACE_TTL_DAYS: "0.5", SPACES_PER_HOUR: "3" })).toMatchObject({
      spaceTtlMs: 43_200_000,
      spacesPerHour: 3,
    });
    for (const bad of ["0", "-1", "ninety", "4000"]) {
      expect(() => loadConfig({ SPACE_TTL_DAYS: bad })).toThrow(/SPACE_TTL_DAYS must be a number of days/);
    }
    expect(() => loadConfig({ SPACES_PER_HOUR: "0" })).toThrow(/SPACES_PER_HOUR/);
    expect(() => loadConfig({ SPACES_PER_HOUR: "many" })).toThrow(/SPACES_PER_HOUR/);
  });
});

describe.runIf(variants.some((v) => v.name === "redis"))("what Redis holds for a space", () => {
  it("after a kept session, no byte of the space's keys carries its words, names or ratings in clear", async () => {
    const redis = variants.find((v) => v.name === "redis")!;
    const options = redis.options();
    const server = await startTestServer(options);
    const names = { a: "Marguerite", b: "Bartholomew" };
    const session = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["check-in", "appreciation"],
      names,
    });
    const [pa, pb] = await Promise.all([Participant.join(session.links.a), Participant.join(session.links.b)]);
    try {
      const ok = async (p: Participant, command: Parameters<Participant["send"]>[0]) => {
        const ack = await p.send(command);
        if (!ack.ok) throw new Error(`${command.type}: ${ack.error.code} ${ack.error.message}`);
        await Promise.all([pa.waitForVersion(ack.version), pb.waitForVersion(ack.version)]);
        return ack.version;
      };
      await ok(pa, { type: "start-exercise", exerciseId: "check-in" });
      await ok(pa, { type: "answer", answer: { rating: 3, feeling: "frustrated", note: "zanzibar evening" } });
      await ok(pb, { type: "answer", answer: { rating: 9, feeling: "hopeful" } });
      await ok(pa, { type: "start-exercise", exerciseId: "appreciation" });
      const v1 = await ok(pa, { type: "say", text: "I treasured the quokka picnic" });
      await ok(pb, { type: "say", text: "You loved the quokka picnic, thank you" });
      await ok(pa, { type: "end-session" });
      await ok(pa, { type: "reflect", heard: 6, word: "understood", keep: true, lines: [v1] });
      await ok(pb, { type: "reflect", heard: 9, word: "cherished", keep: true, lines: [v1] });
      const keptA = composeKept(pa.view)!;
      const keptB = composeKept(pb.view)!;
      expect(keptA).toBeDefined();
      expect(keptA.lines).toEqual([{ by: "a", text: "I treasured the quokka picnic" }]);
      expect(keptA.partners.a).toMatchObject({ before: { rating: 3, feeling: "frustrated" }, heard: 6 });

      const { links, space } = await SpaceClient.create(server.url, names);
      const spaceB = await SpaceClient.open(links.b);
      const saved = await Promise.all([space.saveSession(session.id, keptA), spaceB.saveSession(session.id, keptB)]);
      expect(saved.filter((s) => s.stored)).toHaveLength(1);
      const summary = await summarize(await spaceB.load(), spaceB.key);
      expect(summary.sessions).toHaveLength(1);
      expect(summary.sessions[0]!.content.partners.b).toMatchObject({ heard: 9, word: "cherished" });

      const admin = createClient({ url: REDIS_URL });
      admin.on("error", () => {});
      await admin.connect();
      try {
        const keys: string[] = [];
        for await (const batch of admin.scanIterator({ MATCH: `${options.redisPrefix}sp:*`, COUNT: 200 })) {
          keys.push(...batch);
        }
        expect(keys.length).toBe(4);
        expect(keys.every((k) => k.includes(`{${space.spaceId}}`))).toBe(true);
        const binary = admin.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
        let bytes = "";
        for (const key of keys) {
          const dumped = await binary.dump(key);
          bytes += Buffer.from(dumped as unknown as Buffer).toString("latin1");
          const type = await admin.type(key);
          if (type === "hash") bytes += JSON.stringify(await admin.hGetAll(key));
          if (type === "list") bytes += JSON.stringify(await admin.lRange(key, 0, -1));
        }
        expect(bytes.length).toBeGreaterThan(1000);
        const secrets = [
          "Marguerite",
          "Bartholomew",
          "quokka",
          "zanzibar",
          "frustrated",
          "hopeful",
          "understood",
          "cherished",
          "treasured",
          "Emotional check-in",
          "Appreciation",
          "heard",
          "rating",
          "feeling",
          session.id,
          space.key.text,
        ];
        for (const secret of secrets) expect(bytes, secret).not.toContain(secret);
      } finally {
        await admin.close();
      }
    } finally {
      pa.close();
      pb.close();
    }
  });
});
