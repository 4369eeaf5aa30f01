/**
 * What the room says when an encrypted session's link came without its key: nothing can be read or sent in words,
 * so the room itself is not shown (no composer to type into). Some apps cut a link at its `#` when they open it;
 * pasting the whole link here opens it again, keys and all.
 */
import { useId, useState } from "preact/hooks";
import { keyFragmentOf, MISSING_KEY_TEXT } from "../../../shared/session-crypto.ts";
import { tokenFromPath } from "../seats.ts";

/**
 * Where a pasted link may take the page: its address when it is a seat link of this site that carries a
 * conversation key, or a sentence saying what is wrong with it.
 */
export function pastedLinkTarget(
  pasted: string,
  origin: string,
): { ok: true; href: string } | { ok: false; problem: string } {
  const text = pasted.trim();
  if (!text) return { ok: false, problem: "Paste the whole link you were sent." };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return {
      ok: false,
      problem: "That doesn't look like a link. Copy the whole link you were sent and paste it here.",
    };
  }
  if (url.origin !== origin || !tokenFromPath(url.pathname)) {
    return {
      ok: false,
      problem: "That isn't a link to a session here. Paste the link you were sent for this session.",
    };
  }
  if (!new URLSearchParams(keyFragmentOf(url.href)).get("k")) {
    return {
      ok: false,
      problem: "This link stops before its key too. The full link goes on after a “#” sign: copy all of it.",
    };
  }
  return { ok: true, href: url.href };
}

export function KeyMissingNotice() {
  const id = useId();
  const headingId = useId();
  const [pasted, setPasted] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const open = (e: Event) => {
    e.preventDefault();
    const target = pastedLinkTarget(pasted, location.origin);
    if (!target.ok) {
      setProblem(target.problem);
      return;
    }
    // A seat link is another page than this one: the browser loads it, and the page takes its token and keys.
    location.assign(target.href);
  };
  return (
    <section class="notice-panel key-missing" aria-labelledby={headingId} data-testid="key-missing">
      <h2 id={headingId}>{MISSING_KEY_TEXT}</h2>
      <p>
        What you write in this session is locked with a key that travels only at the end of the link itself. The link
        opened here came without it, so nothing can be read or written on this page yet.
      </p>
      <form class="key-paste" onSubmit={open} noValidate>
        <label for={id}>If you still have the message with the link, paste all of it here</label>
        <input
          id={id}
          type="url"
          inputMode="url"
          autocomplete="off"
          spellcheck={false}
          value={pasted}
          onInput={(e) => {
            setPasted((e.currentTarget as HTMLInputElement).value);
            setProblem(null);
          }}
        />
        {problem && (
          <p class="action-error" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" class="btn primary">
          Open the whole link
        </button>
      </form>
      <p class="hint">Otherwise ask whoever sent it for a fresh link, and open it without shortening it.</p>
    </section>
  );
}
