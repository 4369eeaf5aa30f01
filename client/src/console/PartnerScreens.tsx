/**
 * Partner-side screens of a therapist-led session: the private waiting space for a partner the therapist stepped
 * out, the private conversation for the partner who stayed, and the therapist's messages to both.
 */
import "./console.css";
import { useContext, useEffect, useRef, useState } from "preact/hooks";
import type { Partner, SessionView } from "../../../shared/protocol.ts";
import type { Send } from "../room/Controls.tsx";
import { useDismissed } from "../room/dismissed.ts";
import { SharedDeviceContext } from "../room/shared-device.ts";
import { seatName } from "../room/words.ts";
import { MessageList, TextCommandForm } from "./Coaching.tsx";
import { floorSuggestionWords, waitingRoomLine } from "./words.ts";

/**
 * A partner still in the waiting room of a therapist-led session. The therapist's name (given at creation, or the
 * practice's name) is asked for once with this seat's own token; until it comes, or without one, the words stay
 * neutral ("Your therapist").
 */
export function PartnerWaitingRoom({ token }: { token?: string | undefined }) {
  const [therapistName, setTherapistName] = useState<string | null>(null);
  useEffect(() => {
    if (!token) return;
    let live = true;
    void fetch("/api/session/waiting-room", {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    })
      .then((res) => (res.ok ? (res.json() as Promise<{ therapistName?: unknown }>) : null))
      .then((body) => {
        if (live && typeof body?.therapistName === "string") setTherapistName(body.therapistName);
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [token]);
  return (
    <section class="waiting" aria-labelledby="waiting-heading" data-testid="waiting-room">
      <h2 id="waiting-heading">You're in the waiting room</h2>
      <p>{waitingRoomLine(therapistName)}</p>
    </section>
  );
}

/** The screen of the partner sent out: calm, and carrying nothing of the private conversation. */
export function SteppedOutScreen() {
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  return (
    <section class="waiting stepped-out" aria-labelledby="stepped-out-heading" data-testid="stepped-out">
      <h2 id="stepped-out-heading" tabIndex={-1} ref={headingRef}>
        A short pause for you
      </h2>
      <p>Your therapist is taking a few minutes with your partner on their own. This is a normal part of a session.</p>
      <p>
        You'll both be back together in the shared room at the step where you left off. This page changes by itself; you
        can keep it open.
      </p>
      <p class="hint">While you wait: a few slow breaths, a glass of water, a stretch.</p>
    </section>
  );
}

/** The private conversation with the therapist, shown to the partner who stayed in the room. */
export function PartnerPrivateChannel({ view, send }: { view: SessionView; send: Send }) {
  const out = view.steppedOut;
  if (!out || out === view.you.seat) return null;
  const mine = view.privateMessages.filter((m) => m.with === (view.you.seat as Partner));
  return (
    <section class="console-panel private-channel partner-side" aria-labelledby="partner-private-heading">
      <h2 id="partner-private-heading">Just you and your therapist</h2>
      <p class="hint">
        {seatName(view, out)} has stepped out for a moment and can't see this conversation. The exercise waits until
        you're both back.
      </p>
      <MessageList view={view} messages={mine} />
      <TextCommandForm
        view={view}
        send={send}
        type="private-message"
        label="Message to your therapist"
        button="Send"
        build={(text) => ({ type: "private-message", text })}
      />
    </section>
  );
}

/** The therapist's recent messages to both partners (kept visible in the spoken channel and in the lobby too). */
export function TherapistMessages({ view }: { view: SessionView }) {
  const ex = view.exercise;
  // The typed transcript of the running exercise already shows its messages; repeating them would be noise.
  const inTranscript = (exerciseId?: string) => view.channel === "typed" && ex !== null && exerciseId === ex.id;
  // Read messages fold away for this partner (the other still sees theirs), and stay folded after a reload.
  const [dismissed, dismiss] = useDismissed(view, "messages");
  const messages = view.transcript
    .filter((e) => e.kind === "message" && !inTranscript(e.exerciseId))
    .slice(-3)
    .filter((m) => !dismissed.has(m.v));
  if (messages.length === 0 || view.you.seat === "therapist") return null;
  return (
    <section class="therapist-messages" aria-label="Messages from your therapist">
      {messages.map((m) => (
        <div key={m.v} class="nudge message">
          <p>
            <span class="who">Your therapist, to you both:</span> {m.text}
          </p>
          <button type="button" class="btn quiet small" onClick={() => dismiss(m.v)}>
            Got it
          </button>
        </div>
      ))}
    </section>
  );
}

/**
 * Guided sessions: a kind, private suggestion to the partner who has held the floor far longer than the other, from
 * the moment the engine names (only this partner's view carries it, and never a number). On one shared device it
 * shows while that partner holds the device, and names them rather than saying "you".
 */
export function FloorSuggestion({ view }: { view: SessionView }) {
  const from = view.floorSuggestion?.from;
  // A quiet check every few seconds is plenty for a suggestion measured in minutes.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (from === undefined) return;
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(id);
  }, [from]);
  const sharedDevice = useContext(SharedDeviceContext);
  const due = from !== undefined && Math.max(now, Date.now()) >= from;
  if (!due || from === undefined || view.you.seat === "therapist") return null;
  return (
    <section
      class="floor-suggestion"
      aria-label={sharedDevice ? `A suggestion for ${seatName(view, view.you.seat)}` : "A suggestion for you"}
      aria-live="polite"
      data-testid="floor-suggestion"
    >
      <p>{floorSuggestionWords(view, sharedDevice)}</p>
    </section>
  );
}
