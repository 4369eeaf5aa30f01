/**
 * Guided sessions (issue 13): before the first exercise, a short note that these exercises are for couples who
 * feel safe with each other, how to stop at any moment, and a support service when the deployment names one.
 * Once put away it stays away for this session in this tab.
 */
import { useEffect, useState } from "preact/hooks";
import type { SessionView } from "../../../shared/protocol.ts";
import { type ClientConfig, clientConfig, loadClientConfig, onClientConfig } from "./config.ts";

const noteKey = (sessionId: string) => `attune.safety-note.${sessionId}`;

function dismissedBefore(sessionId: string): boolean {
  try {
    return window.sessionStorage.getItem(noteKey(sessionId)) === "dismissed";
  } catch {
    return false;
  }
}

function rememberDismissed(sessionId: string): void {
  try {
    window.sessionStorage.setItem(noteKey(sessionId), "dismissed");
  } catch {
    // Storage blocked: the note stays away until this page is reloaded.
  }
}

/** The server's page settings, re-rendering once they arrive. */
export function useClientConfig(): ClientConfig | null {
  const [config, setConfig] = useState(clientConfig);
  useEffect(() => {
    const stop = onClientConfig(setConfig);
    void loadClientConfig().then((c) => c && setConfig(c));
    return stop;
  }, []);
  return config;
}

/** The note, shown in a guided session's lobby until the first exercise starts or it is put away. */
export function GuidedSafetyNote({ view }: { view: SessionView }) {
  const config = useClientConfig();
  const [dismissed, setDismissed] = useState(() => dismissedBefore(view.id));
  const show =
    view.mode === "guided" &&
    view.you.seat !== "therapist" &&
    view.phase === "lobby" &&
    view.exercise === null &&
    view.completed.length === 0 &&
    !dismissed;
  if (!show) return null;
  return (
    <section class="safety-note" aria-labelledby="safety-note-heading" data-testid="safety-note">
      <h3 id="safety-note-heading">Before you start</h3>
      <p>
        These exercises are for couples who feel safe with each other. If you are afraid of your partner, or an argument
        between you can turn into threats or harm, please don't do them together.
        {config?.supportUrl ? " You can talk to someone first, in confidence." : ""}
      </p>
      {config?.supportUrl && (
        <p>
          <a href={config.supportUrl} target="_blank" rel="noopener noreferrer" data-testid="support-link">
            Find support you can talk to (opens in a new tab)
          </a>
        </p>
      )}
      <p>You can stop at any moment:</p>
      <ul>
        <li>
          <strong>Time-out</strong>, at the bottom of the screen, stops the exercise for you both and sets a time to
          come back.
        </li>
        <li>
          <strong>Quick exit</strong>, in the top corner (or pressing Esc three times), leaves this page at once for a
          neutral website.
        </li>
      </ul>
      <button
        type="button"
        class="btn secondary small"
        onClick={() => {
          rememberDismissed(view.id);
          setDismissed(true);
        }}
      >
        Got it
      </button>
    </section>
  );
}
