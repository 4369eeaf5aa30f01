/** The pure parts of the quick exit: the keyboard gesture and which storage keys are Attune's. */

/** How close together the three presses must be. */
export const GESTURE_WINDOW_MS = 1500;
const GESTURE_PRESSES = 3;
const GESTURE_KEYS = new Set(["Escape", "Shift"]);

/**
 * Counts the quick-exit gesture: three presses of the same key (Escape, or Shift) within GESTURE_WINDOW_MS, with
 * no other key in between (so capital letters typed with Shift never add up) and auto-repeat ignored (holding
 * the key down is one press). `press` returns true on the press that completes the gesture.
 */
export function exitGesture(): { press: (key: string, repeat: boolean, now: number) => boolean } {
  let key: string | null = null;
  let times: number[] = [];
  return {
    press(pressed, repeat, now) {
      if (repeat) return false;
      if (!GESTURE_KEYS.has(pressed)) {
        key = null;
        times = [];
        return false;
      }
      if (pressed !== key) {
        key = pressed;
        times = [];
      }
      times = [...times.filter((t) => now - t <= GESTURE_WINDOW_MS), now];
      if (times.length < GESTURE_PRESSES) return false;
      key = null;
      times = [];
      return true;
    },
  };
}

/** Whether a storage key is one Attune wrote (seat tokens, drafts, dismissed notes: all start with "attune"). */
export function isAttuneKey(key: string): boolean {
  return /^attune[.:_-]/i.test(key);
}
