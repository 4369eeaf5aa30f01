/** After the session ends: a short, calm summary of what the couple did together. */
import type { Ref } from "preact";
import type { Partner, SessionView } from "../../../shared/protocol.ts";
import { AgreementList } from "./kinds/Agreements.tsx";
import { isCheckIn } from "./kinds/Ideas.tsx";
import { CheckInReveal } from "./Lobby.tsx";
import { Transcript } from "./Transcript.tsx";
import type { Send } from "./Controls.tsx";
import { ClosingReflection } from "../space/Reflection.tsx";
import { exerciseTitle, seatName } from "./words.ts";

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
  const turns = (p: Partner) => view.transcript.filter((e) => e.seat === p).length;
  const checkIns = view.checkIns.filter(isCheckIn);
  const first = checkIns[0];
  const lastCheckIn = checkIns.length > 1 ? checkIns.at(-1) : undefined;
  return (
    <section class="summary" aria-labelledby="summary-heading" data-testid="summary" data-version={view.version}>
      <h2 id="summary-heading" tabIndex={-1} ref={headingRef}>
        Session complete
      </h2>
      <p>Thank you both for making the time. Here is what you did together.</p>
      <CompletedList
        view={view}
        earlyNote=" (stopped early)"
        none="You didn't finish an exercise this time, and that's all right."
      />
      {view.you.seat !== "therapist" || view.transcript.length > 0 ? (
        <p>
          Turns taken: {seatName(view, "a")} {turns("a")}, {seatName(view, "b")} {turns("b")}.
        </p>
      ) : null}
      <AgreementList view={view} />
      {first && <CheckInReveal view={view} checkIn={first} />}
      {lastCheckIn && (
        <>
          <p class="hint">And at the end:</p>
          <CheckInReveal view={view} checkIn={lastCheckIn} />
        </>
      )}
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
