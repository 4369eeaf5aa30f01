/**
 * Notices a partner has dismissed ("Got it") stay dismissed after a reload: this tab remembers, per session and
 * seat, the ids of the dismissed entries (their versions), never their words. Quick exit wipes it with the rest.
 */
import { useState } from "preact/hooks";
import type { SessionView } from "../../../shared/protocol.ts";

/** At most this many ids are kept per list; older ones belong to notices long folded away by the room itself. */
const KEPT = 50;

function storageKey(view: Pick<SessionView, "id" | "you">, list: string): string {
  return `attune:dismissed:${view.id}:${view.you.seat}:${list}`;
}

function read(key: string): ReadonlySet<number> {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(key) ?? "[]");
    return new Set(Array.isArray(parsed) ? parsed.filter((v): v is number => Number.isInteger(v)) : []);
  } catch {
    // Storage blocked or an unreadable value: nothing is remembered, every notice shows again.
    return new Set();
  }
}

/** The dismissed entry ids of one list of notices (e.g. "nudges"), and a way to dismiss one more. */
export function useDismissed(
  view: Pick<SessionView, "id" | "you">,
  list: string,
): [ReadonlySet<number>, (id: number) => void] {
  const key = storageKey(view, list);
  const [state, setState] = useState<{ key: string; ids: ReadonlySet<number> }>(() => ({ key, ids: read(key) }));
  // A different session or seat on the same screen reads its own list.
  const ids = state.key === key ? state.ids : read(key);
  const dismiss = (id: number) => {
    const next = [...ids, id].slice(-KEPT);
    try {
      sessionStorage.setItem(key, JSON.stringify(next));
    } catch {
      // Storage blocked: the notice still folds away until the page is reloaded.
    }
    setState({ key, ids: new Set(next) });
  };
  return [ids, dismiss];
}
