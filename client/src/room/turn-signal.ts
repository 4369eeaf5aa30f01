/**
 * Your turn, noticed when the page is not in front of you: the tab title says so, and (only if this person opted in)
 * the phone vibrates and a system notification appears while the page is hidden. Preferences stay on this device.
 */
import { useEffect, useRef } from "preact/hooks";
import type { SessionView } from "../../../shared/protocol.ts";

const BASE_TITLE = "Attune";
const PREFS_KEY = "attune.turn-signal";

export interface TurnSignalPrefs {
  vibrate: boolean;
  notify: boolean;
}

export function readPrefs(): TurnSignalPrefs {
  try {
    const raw = localStorage.getItem(PREFS_KEY);
    const parsed = raw ? (JSON.parse(raw) as Partial<TurnSignalPrefs>) : {};
    return { vibrate: parsed.vibrate === true, notify: parsed.notify === true };
  } catch {
    return { vibrate: false, notify: false };
  }
}

export function writePrefs(prefs: TurnSignalPrefs): void {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // Not kept: the choice lasts for this page only.
  }
}

/** Whether this seat is expected to act now (a private answer counts only until it is given). */
export function isMyTurn(view: SessionView): boolean {
  if (view.phase !== "exercise" || !view.exercise || view.paused || view.timeOut || view.you.seat === "therapist") {
    return false;
  }
  const step = view.exercise.step;
  if (!step.yourMove) return false;
  if (step.kind === "private-answer") return !step.yourAnswer && !step.answered?.[view.you.seat];
  return true;
}

/**
 * The tab title for this view: "Your turn: Invite · Attune", or the step's own title when it is already written to
 * the one who acts ("Your time to talk · Attune"), never "Your turn: Your time to talk".
 */
export function turnTitle(view: SessionView): string {
  if (!isMyTurn(view)) return BASE_TITLE;
  const title = view.exercise?.step.title ?? "";
  if (title.startsWith("Your ")) return `${title} · ${BASE_TITLE}`;
  return title ? `Your turn: ${title} · ${BASE_TITLE}` : `Your turn · ${BASE_TITLE}`;
}

/** Keeps the tab title in step with the turn and signals a new turn to a person who opted in. */
export function useTurnSignal(view: SessionView): void {
  const mine = isMyTurn(view);
  const key = `${view.exercise?.id}:${view.exercise?.cycle}:${view.exercise?.stepIndex}:${view.exercise?.step.id}`;
  const last = useRef<string | null>(null);
  useEffect(() => {
    document.title = turnTitle(view);
  });
  useEffect(
    () => () => {
      document.title = BASE_TITLE;
    },
    [],
  );
  useEffect(() => {
    if (!mine) {
      last.current = null;
      return;
    }
    if (last.current === key) return;
    const first = last.current === null && performance.now() < 3_000;
    last.current = key;
    if (first || !document.hidden) return;
    const prefs = readPrefs();
    if (prefs.vibrate && "vibrate" in navigator) navigator.vibrate?.([120, 80, 120]);
    if (prefs.notify && typeof Notification !== "undefined" && Notification.permission === "granted") {
      // Only the step's title: never anyone's words on a lock screen.
      new Notification("Your turn in Attune", { body: view.exercise?.step.title ?? "", tag: "attune-turn" });
    }
  }, [mine, key]);
}
