/** Coaching from the console: one composer for nudges, messages to both and notes; the notes; the step-out channel. */
import type { ComponentChildren, Ref } from "preact";
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
  /** Controlled text (the console keeps drafts while switching between nudge, message and note). */
  text?: string;
  onText?: (text: string) => void;
  inputRef?: Ref<HTMLTextAreaElement>;
}) {
  const { busy, error, run } = useAction(props.send);
  const [ownText, setOwnText] = useState("");
  const text = props.text ?? ownText;
  const setText = props.onText ?? setOwnText;
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
        ref={props.inputRef}
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

export type ComposerMode = "nudge" | "both" | "note";

const MODES: { mode: ComposerMode; label: string; key: string }[] = [
  { mode: "nudge", label: "Nudge", key: "N" },
  { mode: "both", label: "To both", key: "M" },
  { mode: "note", label: "Note", key: "W" },
];

/**
 * One writing box for the three things a therapist writes mid-session: a private nudge to one partner, a message to
 * both, and a note for themself. Each is one keystroke away (N, M, W) and keeps its draft while another is open.
 */
export function Composer(props: {
  view: SessionView;
  send: Send;
  mode: ComposerMode;
  onMode: (mode: ComposerMode) => void;
  drafts: Record<ComposerMode, string>;
  onDraft: (mode: ComposerMode, text: string) => void;
  inputRef: Ref<HTMLTextAreaElement>;
}) {
  const { view, send, mode } = props;
  const [to, setTo] = useState<Partner>("a");
  const modeGroup = useId();
  const toGroup = useId();
  const recent = view.nudges.slice(-2).reverse();
  const common = {
    view,
    send,
    text: props.drafts[mode],
    onText: (text: string) => props.onDraft(mode, text),
    inputRef: props.inputRef,
  };
  return (
    <section class="console-panel coaching" aria-labelledby="coaching-heading">
      <h3 id="coaching-heading">Coaching</h3>
      <fieldset class="composer-modes">
        <legend class="sr-only">Write</legend>
        {MODES.map((m) => (
          <label key={m.mode} class={`mode-tab${mode === m.mode ? " selected" : ""}`}>
            <input
              type="radio"
              name={modeGroup}
              checked={mode === m.mode}
              onChange={() => props.onMode(m.mode)}
              aria-keyshortcuts={m.key}
            />
            <span>{m.label}</span>{" "}
            <span class="key-hint" aria-hidden="true">
              {m.key}
            </span>
          </label>
        ))}
      </fieldset>
      {mode === "nudge" && (
        <TextCommandForm
          key="nudge"
          {...common}
          type="nudge"
          label="Private nudge"
          hint={`Only ${seatName(view, to)} sees it.`}
          button="Send nudge"
          build={(text) => ({ type: "nudge", to, text })}
        >
          <fieldset class="choice-group inline">
            <legend>Nudge to</legend>
            <div class="chips">
              {(["a", "b"] as Partner[]).map((p) => (
                <label key={p} class={`chip${to === p ? " selected" : ""}`}>
                  <input type="radio" name={toGroup} checked={to === p} onChange={() => setTo(p)} />
                  <span>{seatName(view, p)}</span>
                </label>
              ))}
            </div>
          </fieldset>
        </TextCommandForm>
      )}
      {mode === "both" && (
        <TextCommandForm
          key="both"
          {...common}
          type="message-both"
          label="Message to both"
          hint="Both partners see it in the shared conversation."
          button="Send to both"
          build={(text) => ({ type: "message-both", text })}
        />
      )}
      {mode === "note" && (
        <TextCommandForm
          key="note"
          {...common}
          type="note"
          label="New note"
          hint="Only you see your notes; they go into your session record."
          button="Save note"
          done="Saved."
          build={(text) => ({ type: "note", text })}
        />
      )}
      {mode === "nudge" && recent.length > 0 && (
        <ul class="sent-list" aria-label="Nudges sent">
          {recent.map((n) => (
            <li key={n.v}>
              <span class="who">To {seatName(view, n.to)}</span> {n.text}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Notes only the therapist ever sees, newest last, in a list that scrolls on its own. */
export function NotesList({ view }: { view: SessionView }) {
  return (
    <section class="console-panel notes" aria-labelledby="notes-heading">
      <h3 id="notes-heading">Private notes</h3>
      {view.notes.length === 0 ? (
        <p class="hint">Only you see these; they are never sent to the couple.</p>
      ) : (
        <ol class="note-list">
          {view.notes.map((n) => (
            <li key={n.v}>
              <span class="when">{clockTime(n.at)}</span> {n.text}
            </li>
          ))}
        </ol>
      )}
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
