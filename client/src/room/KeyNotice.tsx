/** What the room says when an encrypted session's link came without its key: nothing can be read or sent in words. */
import { MISSING_KEY_TEXT } from "../../../shared/session-crypto.ts";

export function KeyMissingNotice() {
  return (
    <section class="notice-panel key-missing" role="alert" data-testid="key-missing">
      <h2>{MISSING_KEY_TEXT}</h2>
      <p>
        What is typed in this session is locked with a key that travels only in the link itself. The link opened here
        came without it, so the words show as “could not be opened” and nothing you type can be sent.
      </p>
      <p class="hint">Ask whoever sent you the link for a fresh one, and open all of it.</p>
    </section>
  );
}
