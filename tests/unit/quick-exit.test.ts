/** The quick exit's keyboard gesture and the storage keys it wipes (issue 13). */
import { describe, expect, it } from "vitest";
import { exitGesture, GESTURE_WINDOW_MS, isAttuneKey } from "../../client/src/safety/gesture.ts";

function presses(keys: [string, number, boolean?][]): boolean[] {
  const g = exitGesture();
  return keys.map(([key, at, repeat]) => g.press(key, repeat ?? false, at));
}

describe("quick-exit gesture", () => {
  it("fires on the third Escape or the third Shift within the window", () => {
    expect(
      presses([
        ["Escape", 0],
        ["Escape", 300],
        ["Escape", 600],
      ]),
    ).toEqual([false, false, true]);
    expect(
      presses([
        ["Shift", 0],
        ["Shift", 200],
        ["Shift", 1400],
      ]),
    ).toEqual([false, false, true]);
  });

  it("needs the three presses within about a second and a half", () => {
    const late = GESTURE_WINDOW_MS + 1;
    expect(
      presses([
        ["Escape", 0],
        ["Escape", 500],
        ["Escape", late],
      ]),
    ).toEqual([false, false, false]);
    // The oldest press falls out of the window; a fourth press close to the last two completes it.
    expect(
      presses([
        ["Escape", 0],
        ["Escape", 1000],
        ["Escape", 1600],
        ["Escape", 1700],
      ]),
    ).toEqual([false, false, false, true]);
  });

  it("never adds up Shift presses used for capital letters, nor a held key", () => {
    // "I Am OK": each Shift is followed by a letter.
    expect(
      presses([
        ["Shift", 0],
        ["I", 50],
        [" ", 100],
        ["Shift", 150],
        ["A", 200],
        ["m", 250],
        [" ", 300],
        ["Shift", 350],
        ["O", 400],
        ["K", 450],
      ]),
    ).not.toContain(true);
    // Holding Shift repeats its keydown: one press.
    expect(
      presses([
        ["Shift", 0],
        ["Shift", 30, true],
        ["Shift", 60, true],
        ["Shift", 90, true],
      ]),
    ).not.toContain(true);
    // Mixed keys do not count together.
    expect(
      presses([
        ["Escape", 0],
        ["Shift", 100],
        ["Escape", 200],
      ]),
    ).not.toContain(true);
  });

  it("starts again after firing", () => {
    expect(
      presses([
        ["Escape", 0],
        ["Escape", 100],
        ["Escape", 200],
        ["Escape", 300],
        ["Escape", 400],
      ]),
    ).toEqual([false, false, true, false, false]);
  });
});

describe("Attune's storage keys", () => {
  it("are the attune-prefixed keys and nothing else", () => {
    for (const key of ["attune.session", "attune.pending", "attune.seat.a", "attune.draft.x", "attune:space"]) {
      expect(isAttuneKey(key), key).toBe(true);
    }
    for (const key of ["theme", "attuned", "other.attune.seat", ""]) expect(isAttuneKey(key), key).toBe(false);
  });
});
