/**
 * Applying an update to a view: the one function every client uses (the browser, the headless participant, the
 * bench), so all of them arrive at exactly the view a fresh snapshot gives. Imports only protocol types.
 */
import type { AllowedCommand, ConversationKey, SessionView, ViewUpdate } from "./protocol.ts";

const LISTS: readonly ConversationKey[] = ["transcript", "checkIns", "nudges", "notes", "privateMessages", "guesses"];

/** True when `update` applies to `view` as it is (it was built from exactly this version). */
export function updateFits(view: SessionView, update: ViewUpdate): boolean {
  return update.from === view.version && update.version === view.version + 1;
}

/**
 * The view `update` leads to from `view` (which must be at `update.from`; check with updateFits). Returns a new
 * object and never changes `view`; unchanged parts are shared.
 */
export function applyUpdate(view: SessionView, update: ViewUpdate): SessionView {
  if (update.view) return update.view;
  const next = { ...view, ...(update.set ?? {}), version: update.version } as SessionView;
  if (update.exercise && view.exercise) next.exercise = { ...view.exercise, ...update.exercise };
  const append = update.append;
  if (append) {
    for (const key of LISTS) {
      const added = append[key];
      if (added && added.length > 0) {
        (next as unknown as Record<ConversationKey, unknown[]>)[key] = [
          ...(view[key] as unknown[]),
          ...(added as unknown[]),
        ];
      }
    }
  }
  if (update.allowed && update.allowed.length > 0) {
    const changed = new Map<string, AllowedCommand>(update.allowed.map((entry) => [entry.type, entry]));
    next.allowed = view.allowed.map((entry) => changed.get(entry.type) ?? entry);
  }
  return next;
}

/** Structural equality of plain JSON values (views are small apart from their lists, which are never compared). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
