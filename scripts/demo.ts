/**
 * `npm run demo`: the first thing to run to see Attune work. Starts a server in this process on a free port,
 * creates a typed, guided session for two partners, and lets two bots play a whole intentional dialogue through
 * real sockets (both cycles, one "not quite" loop and one "there's more"), printing every turn.
 */
import { playSeat, scriptedChoices, type TurnReport } from "../client/headless/bot.ts";
import { Participant } from "../client/headless/participant.ts";
import type { CreateSessionResponse, SessionView, StepView } from "../shared/protocol.ts";
import { startAttune } from "../server/app.ts";
import { loadConfig } from "../server/config.ts";

/** What the bots type, per cycle and step; each further visit to a step takes the next line. */
const LINES: Record<number, Record<string, string[]>> = {
  0: {
    invite: ["I'd like to talk about how our evenings have been going. Is now a good time?"],
    send: [
      "I feel lonely when we both end up on our phones after dinner.",
      "And I miss the walks we used to take after dinner. That's when I felt closest to you.",
    ],
    mirror: [
      "What I heard is that you feel lonely after dinner. Did I get that?",
      "You feel lonely when we sit side by side on our phones. Did I get it?",
      "You miss our walks, because that's when you felt closest to me. Did I get that right?",
    ],
    clarify: ["The part I most want you to hear is that it's when we're side by side, each on a phone."],
    summary: [
      "So, all together: evenings on our phones leave you lonely, and you miss the walks where you felt close to me. Did I sum it up?",
    ],
    validate: ["It makes sense to me that you feel lonely, because we're in the same room but not really together."],
    empathize: ["I imagine you might feel lonely, and maybe a little sad. Is that how it feels?"],
  },
  1: {
    invite: ["Can we talk about our Saturdays? Is now a good time for us?"],
    send: ["I feel rushed when the whole Saturday is planned before I'm even awake."],
    mirror: ["You feel rushed when Saturday is already planned before you're up. Did I get it?"],
    summary: ["So you're saying a Saturday planned without you leaves you rushed. Did I sum it up well?"],
    validate: ["It makes sense to me that you feel rushed, because the day is decided before you have a say."],
    empathize: ["I imagine you might feel hemmed in, and tired. Is that close?"],
  },
};

const DOING: Record<string, string> = {
  mirror: "mirroring",
  summary: "summing up",
  validate: "validating",
  empathize: "empathizing",
  ready: "checking the time",
};

function lineFor(): (step: StepView, view: SessionView) => string {
  const used = new Map<string, number>();
  return (step, view) => {
    const cycle = view.exercise?.cycle ?? 0;
    const key = `${cycle}:${step.id}`;
    const n = used.get(key) ?? 0;
    used.set(key, n + 1);
    const lines = LINES[cycle]?.[step.id] ?? [];
    return lines[Math.min(n, lines.length - 1)] ?? `(${step.title})`;
  };
}

let lastCycle = -1;

function printTurn(r: TurnReport): void {
  const view = r.view;
  // Reports arrive after their ack, so the cycle header is printed from the view the move was made in.
  if (r.cycle !== lastCycle && view.exercise) {
    if (lastCycle < 0) console.log(`— ${view.exercise.title} —`);
    lastCycle = r.cycle;
    const ex = view.exercise;
    const speaker = view.names[ex.speaker] ?? ex.speaker;
    const listener = view.names[ex.listener] ?? ex.listener;
    console.log(
      `\n  Cycle ${ex.cycle + 1}${ex.cycles ? ` of ${ex.cycles}` : ""}: ${speaker} speaks, ${listener} listens.`,
    );
  }
  const who = r.role === "speaker" ? "speaking" : `listening, ${DOING[r.step.id] ?? r.step.title.toLowerCase()}`;
  let said: string;
  if (r.command.type === "say") said = r.command.text ?? "(said aloud)";
  else if (r.command.type === "choose") said = `[${r.optionLabel ?? r.command.option}]`;
  else said = `(${r.command.type})`;
  const refused = r.ack.ok ? "" : `  (refused: ${r.ack.error.code})`;
  console.log(`  ${r.name} (${who}) ▸ ${said}${refused}`);
}

async function main(): Promise<void> {
  const env = { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" };
  const running = await startAttune({ config: loadConfig(env) });
  const participants: Participant[] = [];
  const guard = setTimeout(() => {
    console.error("The demo did not finish within 60 s.");
    process.exit(1);
  }, 60_000);
  try {
    const res = await fetch(`${running.url}/api/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        mode: "guided",
        channel: "typed",
        agenda: ["intentional-dialogue"],
        names: { a: "Sam", b: "Alex" },
      }),
    });
    if (res.status !== 201) throw new Error(`creating the session failed: ${res.status} ${await res.text()}`);
    const session = (await res.json()) as CreateSessionResponse;
    console.log(`Attune is running at ${running.url}. A typed, guided session for Sam and Alex is open.`);
    console.log("Each partner joins from their own link; two bots now play an intentional dialogue.\n");

    const sam = await Participant.join(session.links.a);
    const alex = await Participant.join(session.links.b);
    participants.push(sam, alex);

    // One script for the whole session: the first speaker says "not quite" once and "there's more" once.
    const choose = scriptedChoices({ check: ["not-quite", "more"] });
    const textFor = lineFor();
    const common = { choose, textFor, onTurn: printTurn, idleTimeoutMs: 10_000 };
    const plays = [playSeat(sam, { ...common, startExercises: true }), playSeat(alex, common)];
    await Promise.all(plays.map((p) => p.done));

    const final = sam.view;
    const done = final.completed.at(-1);
    if (done) console.log(`\n— the dialogue is complete${done.endedEarly ? " (ended early)" : ""} —`);
    const moves = plays.reduce((n, p) => n + p.moves, 0);
    console.log(
      `\n${moves} turns applied; the session is at version ${final.version}, with ${final.transcript.length} lines in its transcript.`,
    );
    // Leave nothing behind (the store may be a shared Redis when REDIS_URL is set): erase the session.
    for (const p of participants) p.close();
    const token = new URL(session.links.a).pathname.split("/").pop() ?? "";
    const erased = await fetch(`${running.url}/api/sessions/${encodeURIComponent(session.id)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    });
    if (!erased.ok) throw new Error(`erasing the session failed: ${erased.status}`);
    console.log("The session and its links are erased.");
    console.log("Run `npm start` and open a link in two browsers to try it yourselves.");
  } finally {
    clearTimeout(guard);
    for (const p of participants) p.close();
    await running.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
