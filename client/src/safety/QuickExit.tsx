/**
 * Quick exit (issue 13): a partner who is afraid can leave Attune at once, from any page, by the always-visible
 * button or by pressing Escape (or Shift) three times in a row. The page goes blank synchronously, this tab's
 * Attune data is wiped, and the tab's current history entry is replaced by a neutral page, so Back does not
 * return to the room. What it cannot do is in docs/safety.md.
 */
import "./safety.css";
import { useEffect, useId } from "preact/hooks";
import { loadClientConfig, quickExitUrl } from "./config.ts";
import { exitGesture, isAttuneKey } from "./gesture.ts";

function wipe(storage: () => Storage): void {
  try {
    const s = storage();
    const keys: string[] = [];
    for (let i = 0; i < s.length; i++) {
      const key = s.key(i);
      if (key !== null && isAttuneKey(key)) keys.push(key);
    }
    for (const key of keys) s.removeItem(key);
  } catch {
    // Storage blocked by the browser: there is nothing of ours in it to wipe.
  }
}

let exited = false;

/** Blanks the page now, wipes this tab's Attune data and replaces the history entry with the neutral page. */
export function quickExit(): void {
  exited = true;
  // Blank first, synchronously: nothing of the room may stay on screen while the neutral page loads.
  const blank = document.createElement("body");
  document.body.replaceWith(blank);
  document.title = "";
  wipe(() => window.sessionStorage);
  wipe(() => window.localStorage);
  // replace(), not assign(): the room's history entry becomes the neutral page, so Back cannot return to it.
  location.replace(quickExitUrl());
}

function installGesture(): () => void {
  const gesture = exitGesture();
  const onKey = (event: KeyboardEvent) => {
    if (gesture.press(event.key, event.repeat, event.timeStamp || performance.now())) {
      event.preventDefault();
      quickExit();
    }
  };
  // A page brought back from the back/forward cache after an exit leaves again at once.
  const onShow = (event: PageTransitionEvent) => {
    if (event.persisted && exited) quickExit();
  };
  // Capture phase: no control on the page can swallow the gesture.
  window.addEventListener("keydown", onKey, true);
  window.addEventListener("pageshow", onShow);
  return () => {
    window.removeEventListener("keydown", onKey, true);
    window.removeEventListener("pageshow", onShow);
  };
}

/** The quick-exit button, in its own sticky band across the top of every page, and the keyboard gesture. Mount once. */
export function QuickExit() {
  const hintId = useId();
  useEffect(() => {
    void loadClientConfig();
    return installGesture();
  }, []);
  return (
    <div class="quick-exit">
      <button type="button" class="quick-exit-button" aria-describedby={hintId} onClick={quickExit}>
        Quick exit
      </button>
      <span id={hintId} class="sr-only">
        Leaves this page at once for a neutral website. Shortcut: press Escape three times.
      </span>
    </div>
  );
}
