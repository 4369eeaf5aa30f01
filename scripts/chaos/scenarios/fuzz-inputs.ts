/**
 * fast-check arbitraries for the fuzz scenario: command envelopes (valid-shaped, invalid, ill-formed Unicode,
 * wrong types, binary attachments) as socket.io-client emits, and raw engine.io / socket.io frames for a bare
 * websocket. Payloads stay under the 64 KB message cap except where a frame means to exceed it.
 */
import fc from "fast-check";
import { COMMAND_TYPES } from "../../../shared/protocol.ts";

/** A lone surrogate run: ill-formed UTF-16 that every seat must still see identically (or never see). */
const illFormed = fc
  .array(fc.integer({ min: 0xd800, max: 0xdfff }), { minLength: 1, maxLength: 120 })
  .map((units) => String.fromCharCode(...units));

/** Text a partner might type, odd text, and text over the 2,000-character cap. */
export const textArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 80 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 60 }) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.string({ maxLength: 20 }), illFormed, fc.string({ maxLength: 20 })).map((p) => p.join("")),
  },
  // Long runs of one lone surrogate: issue 9 saw those reach the other process as U+FFFD.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom("\udfff", "\ud800", "\udbff\udbff"), fc.integer({ min: 20, max: 600 }))
      .map(([unit, n]) => unit.repeat(n)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("", " ", "\u0000", "\u202e", "\ufeff", "\u{1f600}".repeat(30), "a\u0301".repeat(50)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 2001, max: 20_000 }).map((n) => "x".repeat(n)) },
);

const option = fc.oneof(fc.constantFrom("now", "later", "got-it", "not-quite", "more"), fc.string({ maxLength: 70 }));

/** Commands of the right shape (the engine decides whether each is legal now). end-session is left out so a
 * session stays playable for the rest of its inputs. */
const validCommand = fc.oneof(
  // Posts are legal in a talk step: weighted up so that many (ill-formed text included) are accepted.
  { weight: 12, arbitrary: fc.record({ type: fc.constant("post"), text: textArb }) },
  fc.record({ type: fc.constant("say"), text: textArb }, { requiredKeys: ["type"] }),
  fc.record({ type: fc.constant("choose"), option }),
  fc.record({
    type: fc.constant("answer"),
    answer: fc.record(
      { rating: fc.integer({ min: -5, max: 105 }), feeling: fc.string({ maxLength: 45 }), note: textArb },
      { requiredKeys: [] },
    ),
  }),
  fc.record(
    {
      type: fc.constant("start-exercise"),
      exerciseId: fc.oneof(fc.constantFrom("stress-reducing", "check-in", "repair"), fc.string({ maxLength: 70 })),
      firstSpeaker: fc.constantFrom("a", "b", "c"),
    },
    { requiredKeys: ["type"] },
  ),
  fc.record(
    { type: fc.constant("call-time-out"), minutes: fc.integer({ min: 0, max: 2000 }) },
    { requiredKeys: ["type"] },
  ),
  fc.constant({ type: "end-time-out" }),
  fc.constant({ type: "resume" }),
  fc.constantFrom(
    ...[
      "end-turn",
      "time-up",
      "end-time-out",
      "pause",
      "resume",
      "end-exercise",
      "skip-step",
      "back-step",
      "hand-floor",
      "bring-back",
    ].map((type) => ({ type })),
  ),
  fc.record({ type: fc.constant("admit"), partners: fc.array(fc.constantFrom("a", "b", "x"), { maxLength: 3 }) }),
  fc.record({ type: fc.constant("adjust-timer"), seconds: fc.integer({ min: -4000, max: 4000 }) }),
  fc.record({
    type: fc.constantFrom("nudge", "message-both", "note", "private-message"),
    to: fc.constantFrom("a", "b"),
    text: textArb,
  }),
  fc.record({ type: fc.constant("step-out"), partner: fc.constantFrom("a", "b") }),
  fc.record({ type: fc.constant("add-exercise"), definition: fc.jsonValue({ maxDepth: 3 }) }),
);

/** Commands of the wrong shape: unknown types, wrong field types, extra fields, system commands, junk. */
const invalidCommand = fc.oneof(
  fc.record({
    type: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("presence", "PRESENCE", "post ", "__proto__")),
  }),
  fc.record({ type: fc.constant("presence"), seat: fc.constantFrom("a", "b", "therapist"), online: fc.boolean() }),
  fc.record({ type: fc.constantFrom(...COMMAND_TYPES), text: fc.anything(), extra: fc.anything() }),
  fc.record({ type: fc.anything(), text: textArb }),
  fc.record({
    type: fc.constant("post"),
    text: fc.oneof(fc.integer(), fc.array(fc.string()), fc.constant(null), fc.object()),
  }),
  fc.dictionary(fc.constantFrom("type", "__proto__", "constructor", "prototype", "text", "toString"), fc.anything()),
  fc.anything({ maxDepth: 3 }),
);

const idArb = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/) },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.string({ maxLength: 80 }), fc.integer(), fc.constant(null), fc.array(fc.string())),
  },
);

const versionArb = fc.oneof(
  fc.nat({ max: 5000 }),
  fc.integer({ min: -10, max: -1 }),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, "3", null, true),
);

/** A command envelope, valid-shaped or not. */
export const envelopeArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ id: idArb, command: validCommand }) },
  { weight: 2, arbitrary: fc.record({ id: idArb, expectedVersion: versionArb, command: validCommand }) },
  { weight: 4, arbitrary: fc.record({ id: idArb, command: invalidCommand }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.record({ id: idArb, command: validCommand, extra: fc.anything() }) },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.string({ maxLength: 50 }), fc.integer(), fc.constant(null), fc.array(fc.anything())),
  },
);

/** One emit from a socket.io client: an event name, its arguments, whether it asks for an ack. */
export interface Emit {
  event: string;
  args: unknown[];
  ack: boolean;
}

/** Binary attachments ride on socket.io's binary packets. */
const binary = fc.uint8Array({ maxLength: 256 }).map((u) => Buffer.from(u));

export const emitArb: fc.Arbitrary<Emit> = fc.oneof(
  { weight: 14, arbitrary: envelopeArb.map((e): Emit => ({ event: "command", args: [e], ack: true })) },
  // The same, without an ack callback: the server must apply nothing.
  { weight: 2, arbitrary: envelopeArb.map((e): Emit => ({ event: "command", args: [e], ack: false })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(envelopeArb, fc.array(fc.oneof(fc.anything({ maxDepth: 2 }), binary), { minLength: 1, maxLength: 3 }))
      // The last argument is then no callback: the server ignores the command (documented), so none is awaited.
      .map(([e, extra]): Emit => ({ event: "command", args: [e, ...extra], ack: false })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ id: idArb, command: fc.record({ type: fc.constant("post"), text: binary }) })
      .map((e): Emit => ({ event: "command", args: [e], ack: true })),
  },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }).map((x): Emit => ({ event: "resync", args: [x], ack: false })) },
  { weight: 1, arbitrary: fc.constant<Emit>({ event: "resync", args: [], ack: true }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.constantFrom(
            "__proto__",
            "constructor",
            "toString",
            "hasOwnProperty",
            "snapshot",
            "update",
            "notice",
            "Command",
            "command ",
          ),
          fc.string({ maxLength: 30 }),
        ),
        fc.array(fc.oneof(fc.anything({ maxDepth: 2 }), binary), { maxLength: 3 }),
      )
      .map(([event, args]): Emit => ({ event, args, ack: false })),
  },
);

/** A frame sent on a bare websocket: text, binary, or text bytes that are not UTF-8. */
export type Frame = { text: string } | { binary: Buffer } | { badUtf8: Buffer };

const ackId = fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined }).map((n) => (n === undefined ? "" : String(n)));
const jsonish = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null");
const eventName = fc.oneof(
  fc.constantFrom("command", "resync", "__proto__", "constructor", "toString", "snapshot"),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 })),
);

/** Events (odd names, fuzzed command envelopes): frames a connection survives, so they reach the handlers. */
export const eventFrameArb: fc.Arbitrary<Frame> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc
      .tuple(ackId, eventName, fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 }))
      .map(([id, name, args]) => ({ text: `42${id}${JSON.stringify([name, ...args])}` })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.nat({ max: 1_000_000 }), envelopeArb)
      .map(([id, env]) => ({ text: `42${id}${JSON.stringify(["command", env]) ?? '["command"]'}` })),
  },
);

/** Any frame, most of them fatal to the connection. */
export const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  // engine.io: unknown packet types, bare digits, probes, garbage.
  {
    weight: 2,
    arbitrary: fc
      .constantFrom("", "0", "1", "2", "3", "5", "6", "7", "8", "9", "2probe", "3probe", "4", "40", "41", "49")
      .map((text) => ({ text })),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 60 }).map((text) => ({ text })) },
  // socket.io packets of every type, with or without attachments count, namespace, ack id; any JSON after.
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 0, max: 9 }),
        fc.option(fc.nat({ max: 3 })),
        fc.constantFrom("", "/", "/admin,", "/,", "nsp,"),
        ackId,
        jsonish,
      )
      .map(([t, att, nsp, id, body]) => ({ text: `4${t}${att === null ? "" : `${att}-`}${nsp}${id}${body}` })),
  },
  // Events: odd names (arrays, objects, numbers), then any arguments.
  {
    weight: 6,
    arbitrary: fc
      .tuple(ackId, eventName, fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 }))
      .map(([id, name, args]) => ({ text: `42${id}${JSON.stringify([name, ...args])}` })),
  },
  // Command events with fuzzed envelopes (JSON-safe ones), mostly asking for an ack.
  {
    weight: 8,
    arbitrary: fc
      .tuple(ackId, envelopeArb)
      .map(([id, env]) => ({ text: `42${id}${JSON.stringify(["command", env]) ?? '["command"]'}` })),
  },
  // Binary packets: placeholders with or without the attachment, absurd attachment counts, bare binary frames.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom("0", "1", "2", "99", "999999999"), ackId, fc.integer({ min: -1, max: 3 }))
      .map(([n, id, num]) => ({ text: `45${n}-${id}["command",{"_placeholder":true,"num":${num}}]` })),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }).map((u) => ({ binary: Buffer.from(u) })) },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((u) => ({ badUtf8: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(u)]) })),
  },
  // Huge: just under and over the 64 KB cap.
  {
    weight: 1,
    arbitrary: fc.integer({ min: 50_000, max: 80_000 }).map((n) => ({
      text: `42${JSON.stringify(["command", { id: "hugeframe01", command: { type: "post", text: "y".repeat(n) } }])}`,
    })),
  },
);
