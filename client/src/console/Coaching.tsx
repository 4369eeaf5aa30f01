/** Coaching from the console: a private nudge, a message to both, private notes and the step-out channel. */
import type { ComponentChildren } from "preact";
import { useId, useState } from "preact/hooks";
import type { Command, CommandType, Partner, SessionView } from "../../../shared/protocol.ts";
import { ActionError, CommandButton, Reason, type Send, useAction } from "../room/Controls.tsx";
import { clockTime, permission, seatName } from "../room/words.ts";

// The protocol module carries zod; the browser bundle imports only its types, so the limit is restated here.
const TEXT_MAX = 2000;

/** A labelled text box with a send button for one command type, disabled with the engine's reason. */
export function TextCommandForm(props: {
  view: SessionView;
  send: Send;
  type: CommandType;
  label: string;
  button: string;
  build: (text: string) => Command;
  rows?: number;
  hint?: string;
  /** What the status line says once the command is applied. */
  done?: string;
  children?: ComponentChildren;
}) {
  const { busy, error, run } = useAction(props.send);
  const [text, setText] = useState("");
  const [sent, setSent] = useState(false);
  const inputId = useId();
  const reasonId = useId();
  const p = permission(props.view, props.type);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setSent(false);
    if (await run(props.build(text))) {
      setText("");
      setSent(true);
    }
  };
  return (
    <form class="console-form" onSubmit={submit}>
      {props.children}
      <label for={inputId}>{props.label}</label>
      {props.hint && <p class="hint">{props.hint}</p>}
      <textarea
        id={inputId}
        rows={props.rows ?? 2}
        maxLength={TEXT_MAX}
        value={text}
        disabled={!p.allowed}
        aria-describedby={p.allowed ? undefined : reasonId}
        onInput={(e) => {
          setSent(false);
          setText((e.currentTarget as HTMLTextAreaElement).value);
        }}
      />
      <button type="submit" class="btn secondary" disabled={!p.allowed || busy || !text.trim()}>
        {props.button}
      </button>
      {!p.allowed && <Reason id={reasonId} text={p.reason} />}
      <p class="sent-status" role="status">
        {sent ? (props.done ?? "Sent.") : ""}
      </p>
      <ActionError text={error} />
    </form>
  );
}

/** A private nudge to one partner and a message to both. */
export function CoachingPanel({ view, send }: { view: SessionView; send: Send }) {
  const [to, setTo] = useState<Partner>("a");
  const groupName = useId();
  const recent = view.nudges.slice(-4).reverse();
  return (
    <section class="console-panel coaching" aria-labelledby="coaching-heading">
      <h3 id="coaching-heading">Coaching</h3>
      <TextCommandForm
        view={view}
        send={send}
        type="nudge"
        label="Private nudge"
        hint="Only the partner you pick sees it."
        button="Send nudge"
        build={(text) => ({ type: "nudge", to, text })}
      >
        <fieldset class="choice-group">
          <legend>Nudge to</legend>
          <div class="chips">
            {(["a", "b"] as Partner[]).map((p) => (
              <label key={p} class={`chip${to === p ? " selected" : ""}`}>
                <input type="radio" name={groupName} checked={to === p} onChange={() => setTo(p)} />
                <span>{seatName(view, p)}</span>
              </label>
            ))}
          </div>
        </fieldset>
      </TextCommandForm>
      {recent.length > 0 && (
        <ul class="sent-list" aria-label="Nudges sent">
          {recent.map((n) => (
            <li key={n.v}>
              <span class="who">To {seatName(view, n.to)}</span> {n.text}
            </li>
          ))}
        </ul>
      )}
      <TextCommandForm
        view={view}
        send={send}
        type="message-both"
        label="Message to both"
        hint="Appears in the shared conversation."
        button="Send to both"
        build={(text) => ({ type: "message-both", text })}
      />
    </section>
  );
}

/** Notes only the therapist ever sees. */
export function NotesPanel({ view, send }: { view: SessionView; send: Send }) {
  return (
    <section class="console-panel notes" aria-labelledby="notes-heading">
      <h3 id="notes-heading">Private notes</h3>
      <p class="hint">Only you see these; they are never sent to the couple.</p>
      {view.notes.length > 0 && (
        <ol class="note-list">
          {view.notes.map((n) => (
            <li key={n.v}>
              <span class="when">{clockTime(n.at)}</span> {n.text}
            </li>
          ))}
        </ol>
      )}
      <TextCommandForm
        view={view}
        send={send}
        type="note"
        label="New note"
        button="Save note"
        done="Saved."
        rows={3}
        build={(text) => ({ type: "note", text })}
      />
    </section>
  );
}

/** The conversation with the partner who stayed while the other is stepped out. */
export function PrivateChannelPanel({ view, send }: { view: SessionView; send: Send }) {
  const out = view.steppedOut;
  const { busy, error, run } = useAction(send);
  if (!out) return null;
  const stayed: Partner = out === "a" ? "b" : "a";
  const messages = view.privateMessages.filter((m) => m.with === stayed);
  return (
    <section class="console-panel private-channel" aria-labelledby="private-heading">
      <h3 id="private-heading">Private conversation with {seatName(view, stayed)}</h3>
      <p class="hint">{seatName(view, out)} cannot see any of this.</p>
      <MessageList view={view} messages={messages} />
      <TextCommandForm
        view={view}
        send={send}
        type="private-message"
        label={`Message to ${seatName(view, stayed)}`}
        button="Send privately"
        build={(text) => ({ type: "private-message", text })}
      />
      <CommandButton
        view={view}
        type="bring-back"
        label={`Bring ${seatName(view, out)} back`}
        variant="primary"
        busy={busy}
        onClick={() => run({ type: "bring-back" })}
      />
      <ActionError text={error} />
    </section>
  );
}

/** Private messages, oldest first, as plain text, in a live log so new ones are announced. */
export function MessageList({ view, messages }: { view: SessionView; messages: SessionView["privateMessages"] }) {
  return (
    <div role="log" aria-label="Private messages">
      {messages.length === 0 ? (
        <p class="hint">No messages yet.</p>
      ) : (
        <ol class="message-list">
          {messages.map((m) => (
            <li key={m.v} class={m.seat === view.you.seat ? "mine" : undefined}>
              <span class="who">{m.seat === view.you.seat ? "You" : seatName(view, m.seat)}</span> {m.text}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
