/**
 * Keyboard shortcuts of the live console: pause or resume, back, skip, hand the floor, and the three writing boxes.
 * Single keys without modifiers, ignored while typing in any text field (or when a control with its own keys, such
 * as a select, has focus), so a sentence is never cut short by a keystroke. Each refusal is spoken, with the reason.
 */
import { useEffect, useRef } from "preact/hooks";
import type { Command, CommandType, SessionView } from "../../../shared/protocol.ts";
import type { Send } from "../room/Controls.tsx";
import { permission, seatName } from "../room/words.ts";
import type { ComposerMode } from "./Coaching.tsx";

export interface Shortcut {
  key: string;
  does: string;
}

/** The shortcuts, as the console documents them. */
export function shortcutList(view: SessionView): Shortcut[] {
  const listener = view.exercise ? seatName(view, view.exercise.listener) : "the listener";
  return [
    { key: "P", does: "Pause or resume the exercise" },
    { key: "B", does: "Back one step" },
    { key: "S", does: "Skip this step" },
    { key: "F", does: `Hand the floor to ${listener}` },
    { key: "N", does: "Write a private nudge" },
    { key: "M", does: "Write a message to both" },
    { key: "W", does: "Write a private note" },
    { key: "Esc", does: "Leave the writing box (keeps the draft)" },
  ];
}

/** True when a key press belongs to the element that has focus (typing, choosing in a list, editing). */
function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    // Radios and checkboxes take no letters; every other input does.
    return !["radio", "checkbox", "button", "submit", "reset", "file"].includes(target.type);
  }
  return false;
}

const COMMAND_KEYS: Record<string, { type: CommandType; done: string } | "pause-resume"> = {
  p: "pause-resume",
  b: { type: "back-step", done: "Back one step." },
  s: { type: "skip-step", done: "Step skipped." },
  f: { type: "hand-floor", done: "The floor changed hands." },
};

const COMPOSE_KEYS: Record<string, ComposerMode> = { n: "nudge", m: "both", w: "note" };

/** Listens for the console's shortcuts on the whole document while `active`. */
export function useConsoleShortcuts(opts: {
  active: boolean;
  view: SessionView;
  send: Send;
  announce: (text: string) => void;
  compose: (mode: ComposerMode) => void;
}): void {
  // The listener is installed once; it reads the latest view and callbacks through this ref.
  const latest = useRef(opts);
  latest.current = opts;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const { active, view, send, announce, compose } = latest.current;
      if (!active || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "Escape" && e.target instanceof HTMLTextAreaElement) {
        e.target.blur();
        return;
      }
      if (typingIn(e.target) || e.repeat) return;
      const key = e.key.toLowerCase();
      const mode = COMPOSE_KEYS[key];
      if (mode) {
        e.preventDefault();
        compose(mode);
        return;
      }
      const action = COMMAND_KEYS[key];
      if (!action) return;
      e.preventDefault();
      let command: Command;
      let done: string;
      if (action === "pause-resume") {
        command = view.paused ? { type: "resume" } : { type: "pause" };
        done = view.paused ? "Resumed." : "Paused.";
      } else {
        command = { type: action.type } as Command;
        done = action.done;
      }
      const p = permission(view, command.type);
      if (!p.allowed) {
        announce(p.reason ?? "Not available right now.");
        return;
      }
      void send(command).then((ack) => announce(ack.ok ? done : ack.error.message));
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}

/** The shortcuts, documented in the console itself. */
export function ShortcutHelp({ view }: { view: SessionView }) {
  return (
    <details class="shortcut-help">
      <summary>Keyboard shortcuts</summary>
      <p class="hint">Single keys, whenever you are not typing in a box.</p>
      <dl>
        {shortcutList(view).map((s) => (
          <div key={s.key}>
            <dt>
              <kbd>{s.key}</kbd>
            </dt>
            <dd>{s.does}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
