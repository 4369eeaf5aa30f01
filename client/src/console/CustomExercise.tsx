/** Uploading a custom exercise definition (pasted or picked as a JSON file); each refusal is shown as path: message. */
import { useId, useState } from "preact/hooks";
import type { SessionView } from "../../../shared/protocol.ts";
import { Reason, type Send } from "../room/Controls.tsx";
import { permission } from "../room/words.ts";

/** Definitions bigger than this cannot travel in one socket message; refuse before sending. */
const MAX_DEFINITION_CHARS = 60_000;

export interface Problem {
  path: string;
  message: string;
}

/** Splits the engine's INVALID_DEFINITION message ("path: message" per line) into problems. */
export function splitProblems(message: string): Problem[] {
  return message
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      const at = line.indexOf(": ");
      return at > 0 ? { path: line.slice(0, at), message: line.slice(at + 2) } : { path: "(root)", message: line };
    });
}

/** Parses pasted text as JSON, or says where it stopped making sense. */
export function parseDefinition(text: string): { ok: true; value: unknown } | { ok: false; problem: Problem } {
  if (text.length > MAX_DEFINITION_CHARS) {
    return {
      ok: false,
      problem: { path: "(root)", message: `the definition is over ${MAX_DEFINITION_CHARS} characters` },
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, problem: { path: "(root)", message: `not valid JSON: ${(err as Error).message}` } };
  }
}

/** The upload form. */
export function CustomExercisePanel({ view, send }: { view: SessionView; send: Send }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [added, setAdded] = useState<string | null>(null);
  const textId = useId();
  const fileId = useId();
  const reasonId = useId();
  const p = permission(view, "add-exercise");

  const pickFile = async (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    if (file.size > MAX_DEFINITION_CHARS) {
      setProblems([{ path: "(root)", message: `the file is over ${MAX_DEFINITION_CHARS} bytes` }]);
      return;
    }
    setText(await file.text());
    setProblems([]);
    setAdded(null);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setAdded(null);
    const parsed = parseDefinition(text);
    if (!parsed.ok) {
      setProblems([parsed.problem]);
      return;
    }
    setBusy(true);
    const ack = await send({ type: "add-exercise", definition: parsed.value });
    setBusy(false);
    if (ack.ok) {
      const title = (parsed.value as { title?: unknown }).title;
      setProblems([]);
      setText("");
      setAdded(typeof title === "string" ? title : "The exercise");
    } else if (ack.error.code === "INVALID_DEFINITION") {
      setProblems(splitProblems(ack.error.message));
    } else {
      setProblems([{ path: "(root)", message: ack.error.message }]);
    }
  };

  return (
    <section class="console-panel custom" aria-labelledby="custom-heading">
      <h3 id="custom-heading">Add your own exercise</h3>
      <p class="hint">
        Paste a definition in the exercise format (JSON), or pick a file. It joins this session's agenda.
      </p>
      <form onSubmit={submit}>
        <label for={fileId}>JSON file</label>
        <input id={fileId} type="file" accept=".json,application/json" disabled={!p.allowed} onChange={pickFile} />
        <label for={textId}>Definition</label>
        <textarea
          id={textId}
          class="code"
          rows={8}
          spellcheck={false}
          value={text}
          disabled={!p.allowed}
          aria-describedby={problems.length > 0 ? `${textId}-problems` : p.allowed ? undefined : reasonId}
          aria-invalid={problems.length > 0}
          onInput={(e) => {
            setText((e.currentTarget as HTMLTextAreaElement).value);
            setAdded(null);
          }}
        />
        <button type="submit" class="btn secondary" disabled={!p.allowed || busy || !text.trim()}>
          Add exercise
        </button>
        {!p.allowed && <Reason id={reasonId} text={p.reason} />}
      </form>
      {problems.length > 0 && (
        <div class="problems" role="alert" id={`${textId}-problems`}>
          <p>
            The exercise was not added.{" "}
            {problems.length === 1 ? "One thing to fix:" : `${problems.length} things to fix:`}
          </p>
          <ul data-testid="definition-problems">
            {problems.map((problem, i) => (
              <li key={`${problem.path}-${i}`}>
                <code>{problem.path}</code>: {problem.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <p role="status" class="sent-status">
        {added ? `Added “${added}” to the agenda.` : ""}
      </p>
    </section>
  );
}
