/** The shared transcript of the typed channel: every entry rendered as plain text. */
import type { SessionView, TranscriptEntry } from "../../../shared/protocol.ts";
import { useContext } from "preact/hooks";
import { SharedDeviceContext } from "./shared-device.ts";
import { seatName } from "./words.ts";

function entryText(entry: TranscriptEntry): string {
  if (entry.kind === "choice") return `chose “${entry.label ?? entry.option ?? ""}”`;
  if (entry.text !== undefined) return entry.text;
  return "said it aloud";
}

/** Entries of one exercise (or all when exerciseId is null), oldest first. */
export function Transcript({
  view,
  exerciseId,
  title,
}: {
  view: SessionView;
  exerciseId: string | null;
  title: string;
}) {
  const shared = useContext(SharedDeviceContext);
  const entries = view.transcript.filter((e) => exerciseId === null || e.exerciseId === exerciseId);
  if (entries.length === 0) return null;
  return (
    <section class="transcript" aria-label={title}>
      <h3>{title}</h3>
      <ol>
        {entries.map((entry) => {
          const mine = entry.seat === view.you.seat && !shared;
          const who =
            entry.kind === "message" ? "Your therapist, to you both:" : mine ? "You" : seatName(view, entry.seat);
          return (
            <li key={`${entry.v}-${entry.seat}`} class={`entry ${entry.kind}${mine ? " mine" : ""}`}>
              <span class="who">{who}</span> <span class="what">{entryText(entry)}</span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
