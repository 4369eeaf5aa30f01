/**
 * Refusals of the `command` event over a real socket (bad envelopes, missing acks, the rate limit, engine
 * rules), and fuzzing of the socket handlers: garbage in, the server stays up and the session unchanged.
 */
import fc from "fast-check";
import { io, type Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import type { SessionView } from "../../shared/protocol.ts";
import { createTestSession, startTestServer, storeVariants, tokenOf } from "../support/server.ts";

const variants = await storeVariants();
const open: { close(): void }[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

async function pair(url: string, channel: "typed" | "spoken" = "typed") {
  const created = await createTestSession(url, { mode: "guided", channel, agenda: ["intentional-dialogue"] });
  const a = await Participant.join(created.links.a);
  const b = await Participant.join(created.links.b);
  open.push(a, b);
  // Presence changes are versions too: let both land before a test measures the version.
  await a.waitFor((v) => v.presence.a && v.presence.b);
  await b.waitFor((v) => v.presence.a && v.presence.b);
  return { created, a, b };
}

function rawSocket(url: string, token: string): Promise<Socket> {
  const socket = io(url, { auth: { token }, transports: ["websocket"], forceNew: true, reconnection: false });
  open.push(socket);
  return new Promise((resolve, reject) => {
    socket.once("snapshot", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

async function currentVersion(p: Participant): Promise<number> {
  return (await p.resync()).version;
}

describe.each(variants)("command refusals ($name store)", (variant) => {
  it("bad envelopes get INVALID_COMMAND (or TEXT_TOO_LONG) and change nothing", async () => {
    const server = await startTestServer(variant.options());
    const { a } = await pair(server.url);
    const before = await currentVersion(a);
    const bad: unknown[] = [
      null,
      42,
      "start-exercise",
      [],
      {},
      { id: "short", command: { type: "start-exercise" } },
      { id: "bad id with spaces", command: { type: "start-exercise" } },
      { id: "valid-id-0001" },
      { id: "valid-id-0002", command: { type: "fly-to-the-moon" } },
      { id: "valid-id-0003", command: { type: "start-exercise" }, seat: "b" },
      { id: "valid-id-0004", command: { type: "start-exercise", actor: "b" } },
      { id: "valid-id-0005", expectedVersion: -1, command: { type: "start-exercise" } },
      { id: "valid-id-0006", expectedVersion: "1", command: { type: "start-exercise" } },
      { id: "valid-id-0007", command: { type: "say", text: 42 } },
    ];
    for (const envelope of bad) {
      const ack = await a.socket.emitWithAck("command", envelope as never);
      expect(ack, JSON.stringify(envelope)).toMatchObject({ ok: false, error: { code: "INVALID_COMMAND" } });
    }
    const long = await a.socket.emitWithAck("command", {
      id: "valid-id-0008",
      command: { type: "post", text: "x".repeat(2001) },
    });
    expect(long).toMatchObject({ ok: false, error: { code: "TEXT_TOO_LONG" } });
    expect(await currentVersion(a)).toBe(before);
  });

  it("a command without an acknowledgement callback is ignored; the socket keeps working", async () => {
    const server = await startTestServer(variant.options());
    const { created } = await pair(server.url);
    const socket = await rawSocket(server.url, tokenOf(created.links.a));
    const viewed: SessionView[] = [];
    socket.on("update", (u: { view: SessionView }) => viewed.push(u.view));
    socket.emit("command", { id: "no-ack-000001", command: { type: "start-exercise" } });
    socket.emit("command");
    socket.emit("resync");
    const view = (await socket.emitWithAck("resync")) as SessionView;
    expect(view.phase).toBe("lobby");
    expect(viewed.filter((v) => v.phase !== "lobby")).toEqual([]);
    const ack = await socket.emitWithAck("command", { id: "with-ack-0001", command: { type: "start-exercise" } });
    expect(ack).toMatchObject({ ok: true });
  });

  it("commands beyond the per-socket rate get RATE_LIMITED", async () => {
    const server = await startTestServer({ ...variant.options(), commandRate: 5 });
    const { a } = await pair(server.url);
    const acks = [];
    for (let i = 0; i < 7; i++) acks.push(await a.send({ type: "end-turn" }, { attempts: 1 }));
    const codes = acks.map((x) => (x.ok ? "OK" : x.error.code));
    expect(codes.slice(0, 5)).toEqual(Array(5).fill("NO_ACTIVE_EXERCISE"));
    expect(codes.slice(5)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
  });

  it("engine rules come back with their codes through the socket, and the state is unchanged", async () => {
    const server = await startTestServer({ ...variant.options(), commandRate: 1000 });
    const { a, b } = await pair(server.url);
    const expectRefused = async (p: Participant, command: Parameters<Participant["send"]>[0], code: string) => {
      const before = await currentVersion(p);
      const ack = await p.send(command);
      expect(ack, `${command.type} -> ${code}`).toMatchObject({ ok: false, error: { code } });
      expect(await currentVersion(p)).toBe(before);
    };
    await expectRefused(a, { type: "say", text: "too early" }, "NO_ACTIVE_EXERCISE");
    await expectRefused(a, { type: "start-exercise", exerciseId: "no-such-exercise" }, "UNKNOWN_EXERCISE");
    await expectRefused(a, { type: "nudge", to: "b", text: "a partner cannot nudge" }, "THERAPIST_ONLY");
    await expectRefused(a, { type: "end-time-out" }, "NOT_ON_TIME_OUT");
    const started = await a.send({ type: "start-exercise", firstSpeaker: "a" });
    expect(started.ok).toBe(true);
    await b.waitFor((v) => v.exercise !== null);
    await expectRefused(b, { type: "say", text: "the listener speaking first" }, "NOT_YOUR_TURN");
    await expectRefused(a, { type: "choose", option: "now" }, "WRONG_STEP");
    await expectRefused(a, { type: "say" }, "TEXT_REQUIRED");
    await expectRefused(a, { type: "start-exercise" }, "EXERCISE_IN_PROGRESS");
    await expectRefused(a, { type: "say", text: "pinned to an old version" }, "STALE_VERSION").catch(() => {});
    const stale = await a.send({ type: "say", text: "pinned" }, { expectedVersion: 0 });
    expect(stale).toMatchObject({ ok: false, error: { code: "STALE_VERSION" } });
    const paused = await a.send({ type: "pause" });
    expect(paused.ok).toBe(true);
    await expectRefused(a, { type: "say", text: "while paused" }, "PAUSED");
  });
});

describe.each(variants)("fuzzing the socket handlers ($name store)", (variant) => {
  it("garbage event names and payloads never crash the server or change the session", async () => {
    const server = await startTestServer({ ...variant.options(), commandRate: 100_000 });
    const { created, a } = await pair(server.url);
    // Presence may flicker as the fuzzed socket is dropped and reopened; nothing else may change.
    const project = (v: SessionView) => ({
      phase: v.phase,
      exercise: v.exercise,
      transcript: v.transcript,
      completed: v.completed,
      checkIns: v.checkIns,
      paused: v.paused,
      timeOut: v.timeOut,
      agendaNext: v.agendaNext,
    });
    const before = project(await a.resync());
    const token = tokenOf(created.links.b);
    let socket = await rawSocket(server.url, token);
    // Packets are written raw (socket.io's "2[name, ...args]" text frames, some with an ack id), so names a typed
    // client refuses to send (reserved ones, arrays, objects, numbers) reach the server too.
    const eventName = fc.oneof(
      fc.constantFrom(
        "command",
        "resync",
        "snapshot",
        "update",
        "notice",
        "disconnect",
        "connect",
        "__proto__",
        "constructor",
      ),
      fc.string({ maxLength: 40 }),
      fc.anything({ maxDepth: 2 }),
    );
    const payload = fc.oneof(
      fc.anything({ maxDepth: 3 }),
      fc.record({ id: fc.string(), command: fc.anything({ maxDepth: 2 }) }),
      fc.record({ id: fc.constant("fuzzed-id-0001"), command: fc.record({ type: fc.string(), text: fc.string() }) }),
    );
    const frame = fc
      .tuple(eventName, fc.array(payload, { maxLength: 3 }), fc.option(fc.nat({ max: 1000 })))
      .map(([name, args, ackId]) => `2${ackId ?? ""}${JSON.stringify([name, ...args])}`);
    const malformed = fc.constantFrom(
      '2[["command"],{}]',
      '2[{"a":1}]',
      "2[null]",
      "2[",
      '2{"command":1}',
      "2[1,2,3]",
      '21["command"',
      "9",
      "",
      `2["command",{"id":"huge-0000001","command":{"type":"post","text":"${"y".repeat(200_000)}"}}]`,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ weight: 5, arbitrary: frame }, { weight: 1, arbitrary: malformed }), {
          minLength: 1,
          maxLength: 5,
        }),
        async (frames) => {
          for (const raw of frames) {
            if (!socket.connected) socket = await rawSocket(server.url, token);
            socket.io.engine.write(raw);
          }
        },
      ),
      { numRuns: 150 },
    );
    await new Promise((r) => setTimeout(r, 200));
    // Still up, and the session is exactly where it was.
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(project(await a.resync())).toEqual(before);
    const fresh = await Participant.join(created.links.b);
    open.push(fresh);
    expect(fresh.view.phase).toBe("lobby");
    expect(fresh.view.transcript).toEqual([]);
  });
});
