/** After the session ends: a short, calm summary of what the couple did together. */
import type { Ref } from "preact";
import type { SessionView } from "../../../shared/protocol.ts";
import { SessionStory } from "./SummaryStory.tsx";
import { Transcript } from "./Transcript.tsx";
import type { Send } from "./Controls.tsx";
import { ClosingReflection } from "../space/Reflection.tsx";
import { exerciseTitle } from "./words.ts";

/** The exercises the session completed, in order, or a line saying there were none. */
export function CompletedList({ view, earlyNote, none }: { view: SessionView; earlyNote: string; none: string }) {
  if (view.completed.length === 0) return <p>{none}</p>;
  return (
    <ol class="done-list">
      {view.completed.map((c) => (
        <li key={`${c.exerciseId}-${c.at}`}>
          {exerciseTitle(view, c.exerciseId)}
          {c.endedEarly ? earlyNote : ""}
        </li>
      ))}
    </ol>
  );
}

/** The end-of-session summary. */
export function Summary({
  view,
  headingRef,
  send,
}: {
  view: SessionView;
  headingRef: Ref<HTMLHeadingElement>;
  send?: Send;
}) {
  return (
    <section class="summary" aria-labelledby="summary-heading" data-testid="summary" data-version={view.version}>
      <h2 id="summary-heading" tabIndex={-1} ref={headingRef}>
        Session complete
      </h2>
      <p>Thank you both for making the time. Here is what you did together.</p>
      {/* issue 11: the summary as a reflection (SummaryStory.tsx), never a count of turns */}
      <SessionStory view={view} />
      {view.channel === "typed" && view.transcript.length > 0 && (
        <details class="intro">
          <summary>Read everything you wrote</summary>
          <Transcript view={view} exerciseId={null} title="Everything you wrote" />
        </details>
      )}
      {send && <ClosingReflection view={view} send={send} />}
      <p class="hint">
        The links to this session stop working when it expires. <a href="/">Start a new session</a>
      </p>
    </section>
  );
}
