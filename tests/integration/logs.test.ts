/**
 * The audit trail: joins, leaves, takeovers, revocations and every command (type, code, version, duration)
 * are logged, and no line ever carries what a partner typed or answered, or a token.
 */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { createLogger } from "../../server/log.ts";
import { hashToken } from "../../server/tokens.ts";
import { createTestSession, startTestServer, tokenOf } from "../support/server.ts";

const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger("info", stream) };
}

describe("logs", () => {
  it("record who did what and when, never text, answers or tokens", async () => {
    const { lines, logger } = capture();
    const server = await startTestServer({ logger });
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["check-in", "intentional-dialogue"],
      names: { a: "Quillon", b: "Mirabeau" },
    });
    const a = await Participant.join(created.links.a);
    const b = await Participant.join(created.links.b);
    open.push(a, b);
    const secrets = ["I felt unseen at dinner", "private-note-zebra", "mirror-text-walrus"] as const;
    expect((await a.send({ type: "start-exercise" })).ok).toBe(true);
    expect((await a.send({ type: "answer", answer: { rating: 2, feeling: "sad", note: secrets[1] } })).ok).toBe(true);
    expect((await b.send({ type: "answer", answer: { rating: 8, feeling: "calm" } })).ok).toBe(true);
    await a.waitFor((v) => v.phase === "lobby" && v.completed.length === 1);
    expect((await a.send({ type: "start-exercise", firstSpeaker: "a" })).ok).toBe(true);
    expect((await a.send({ type: "say", text: secrets[0] })).ok).toBe(true);
    // A refused command is logged with its code.
    expect((await a.send({ type: "post", text: secrets[2] })).ok).toBe(false);
    // A safety word (refused here: a guided session has no therapist) is logged without its type or seat.
    await a.send({ type: "ask-alone" });
    await b.send({ type: "safety-check", answer: "yes" });
    // A takeover, a revocation and the leaves they cause.
    const phone = await Participant.join(created.links.b);
    open.push(phone);
    await fetch(`${server.url}/api/sessions/${created.id}/links/a/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokenOf(created.links.a)}` },
    });
    await phone.waitFor((v) => !v.presence.a);
    await server.close();

    const all = lines.join("\n");
    for (const secret of [...secrets, "Quillon", "Mirabeau"]) expect(all).not.toContain(secret);
    for (const link of Object.values(created.links)) {
      const token = tokenOf(link);
      expect(all).not.toContain(token);
      // The token's secret part (it also names the session, whose id the logs do carry).
      expect(all).not.toContain(token.split(".")[1]!);
      expect(all).not.toContain(hashToken(token));
    }
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const msgs = records.map((r) => r.msg);
    expect(msgs).toEqual(
      expect.arrayContaining(["session created", "join", "leave", "takeover", "link revoked", "command"]),
    );
    const commands = records.filter((r) => r.msg === "command");
    expect(commands.find((r) => r.type === "say")).toMatchObject({ session: created.id, seat: "a", code: "OK" });
    expect(commands.find((r) => r.type === "post")).toMatchObject({ code: "WRONG_STEP" });
    expect(commands.filter((r) => r.type === "ask-alone" || r.type === "safety-check")).toEqual([]);
    const safety = commands.filter((r) => r.type === "safety");
    expect(safety).toHaveLength(2);
    for (const r of safety) expect(r).not.toHaveProperty("seat");
    for (const r of commands.filter((c) => c.code === "OK")) {
      expect(typeof r.version).toBe("number");
      expect(typeof r.ms).toBe("number");
    }
  });
});
