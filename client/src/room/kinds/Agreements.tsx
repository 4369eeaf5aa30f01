/** What the couple agreed in this session: for the summary and the moment after an exercise. */
import "./kinds.css";
import type { Agreement, SessionView } from "../../../../shared/protocol.ts";
import { exerciseTitle, seatName } from "../words.ts";
import { formatWhen } from "./words.ts";

function who(view: SessionView, agreement: Agreement): string {
  const by = agreement.by === view.you.seat ? "you" : seatName(view, agreement.by);
  if (!agreement.acknowledgedBy) return `Noted by ${by}`;
  const ack = agreement.acknowledgedBy === view.you.seat ? "you" : seatName(view, agreement.acknowledgedBy);
  return `Suggested by ${by}, agreed by ${ack}`;
}

export function AgreementList({
  view,
  title = "What you agreed",
  exerciseId,
}: {
  view: SessionView;
  title?: string;
  /** Only the agreements of this exercise (e.g. the one just finished). */
  exerciseId?: string;
}) {
  const list = (view.agreements ?? []).filter((a) => exerciseId === undefined || a.exerciseId === exerciseId);
  if (list.length === 0) return null;
  return (
    <section class="agreements" aria-label={title} data-testid="agreements">
      <h3>{title}</h3>
      <ul>
        {list.map((a) => (
          <li key={a.v} class="agreement-item">
            {a.picked && <p class="agreement-what">{a.picked}</p>}
            {a.what && <p class={a.picked ? "agreement-detail" : "agreement-what"}>{a.what}</p>}
            {!a.picked && !a.what && <p class="agreement-what">Agreed aloud in {exerciseTitle(view, a.exerciseId)}</p>}
            {a.when && (
              <p class="agreement-when">
                <time dateTime={a.when}>{formatWhen(a.when)}</time>
              </p>
            )}
            <p class="agreement-who">{who(view, a)}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}
