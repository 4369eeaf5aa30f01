/**
 * `npm run demo`: the first thing to run to see Attune work. Starts a server in this process on a free port,
 * creates a typed session for two partners, and lets two bots play a whole exercise through real sockets, printing
 * every turn. Without an argument it is an intentional dialogue (both cycles, one "not quite" loop and one "there's
 * more"); `npm run demo -- <exercise id>` plays any catalogue exercise (a therapist-only one with a third bot in
 * the therapist's seat), and `--seed <n>` fixes the order its questions are drawn in.
 */
import { playSeat, scriptedChoices, type TurnReport } from "../client/headless/bot.ts";
import { Participant } from "../client/headless/participant.ts";
import { CATALOGUE, findExercise } from "../shared/catalogue/index.ts";
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

/**
 * Which option the bots pick at each visit of a step (then the first option): a short walk through each
 * exercise's loops that always reaches its end.
 */
const CHOICES: Record<string, Record<string, string[]>> = {
  "intentional-dialogue": { check: ["not-quite", "more"] },
  "speaker-listener": { confirm: ["more", "hand-floor", "done"] },
  appreciation: { more: ["another", "done", "done"] },
  "love-maps": { again: ["swap", "swap", "stop"] },
  "deeper-questions": { "next-1": ["another", "next-set"], "next-2": ["next-set"], "next-3": ["another", "finish"] },
  "weekly-check-in": { "issue-check": ["more", "pass", "understood"] },
  "dreams-within-conflict": { heard: ["not-quite", "yes"] },
  "rebuilding-trust": { more: ["another", "enough"], next: ["close"] },
};

function lineFor(exerciseId: string): (step: StepView, view: SessionView) => string {
  const used = new Map<string, number>();
  return (step, view) => {
    const cycle = view.exercise?.cycle ?? 0;
    const key = `${cycle}:${step.id}`;
    const n = used.get(key) ?? 0;
    used.set(key, n + 1);
    const lines = exerciseId === "intentional-dialogue" ? (LINES[cycle]?.[step.id] ?? []) : [];
    const seat = view.you.seat;
    const name = seat === "therapist" ? "the therapist" : (view.names[seat] ?? seat);
    return lines[Math.min(n, lines.length - 1)] ?? `(${name}'s words for "${step.title}")`;
  };
}

/** What a move looks like in the log of the demo. */
function describeMove(r: TurnReport): string {
  const c = r.command;
  switch (c.type) {
    case "say":
      return c.text ?? "(said aloud)";
    case "choose":
      return `[${r.optionLabel ?? c.option}]`;
    case "answer":
      return c.answer.ideas ? `(lists ideas privately: ${c.answer.ideas.join("; ")})` : "(answers privately)";
    case "guess":
      return r.step.guess?.about === r.seat ? "(answers about themself, privately)" : "(guesses, privately)";
    case "mark": {
      const shown = r.step.guess?.revealed;
      const side = (e?: { text?: string; label?: string }) => e?.text ?? e?.label ?? "said aloud";
      return `[${c.mark === "close" ? "Close" : "Not quite"}] answer: ${side(shown?.answer)} / guess: ${side(shown?.guess)}`;
    }
    case "pick":
      return `[picks "${r.step.pick?.options.find((o) => o.id === c.option)?.label ?? c.option}"]`;
    case "agree": {
      const what = c.option ? r.step.agreement?.options?.find((o) => o.id === c.option)?.label : c.what;
      const when = c.when ? new Date(c.when).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "";
      return `[offers: ${[r.step.agreement?.picked, what, when].filter(Boolean).join(", ") || "agreed aloud"}]`;
    }
    case "acknowledge":
      return "[acknowledges it]";
    default:
      return `(${c.type})`;
  }
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
  if (r.seat === "therapist") {
    console.log(`  Therapist ▸ ${describeMove(r)}`);
    return;
  }
  const who = r.role === "speaker" ? "speaking" : `listening, ${DOING[r.step.id] ?? r.step.title.toLowerCase()}`;
  const question = r.step.question && r.command.type !== "mark" ? `  [${r.step.question.text}]` : "";
  const refused = r.ack.ok ? "" : `  (refused: ${r.ack.error.code})`;
  console.log(`  ${r.name} (${who}) ▸ ${describeMove(r)}${question}${refused}`);
}

function parseArgs(argv: string[]): { exerciseId: string; seed: number } {
  let exerciseId = "intentional-dialogue";
  let seed = Math.floor(Math.random() * 0xffffffff);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--seed") seed = Number(argv[++i]);
    else exerciseId = arg;
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error("--seed takes a whole number from 0 to 4294967295");
  if (!findExercise(exerciseId)) {
    throw new Error(`there is no exercise '${exerciseId}'; try one of: ${CATALOGUE.map((e) => e.id).join(", ")}`);
  }
  return { exerciseId, seed };
}

async function main(): Promise<void> {
  const { exerciseId, seed } = parseArgs(process.argv.slice(2));
  const def = findExercise(exerciseId)!;
  const mode = def.modes && !def.modes.includes("guided") ? "therapist" : "guided";
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
      // The bots print what they type: the session is explicitly unencrypted (docs/privacy.md).
      body: JSON.stringify({
        mode,
        channel: "typed",
        encrypted: false,
        agenda: [exerciseId],
        names: { a: "Sam", b: "Alex" },
      }),
    });
    if (res.status !== 201) throw new Error(`creating the session failed: ${res.status} ${await res.text()}`);
    const session = (await res.json()) as CreateSessionResponse;
    const led = mode === "therapist" ? ", therapist-led" : ", guided";
    console.log(`Attune is running at ${running.url}. A typed${led} session for Sam and Alex is open.`);
    console.log(`Each seat joins from its own link; bots now play ${def.title} (question order seed ${seed}).\n`);

    const sam = await Participant.join(session.links.a);
    const alex = await Participant.join(session.links.b);
    participants.push(sam, alex);
    const therapist = session.links.therapist ? await Participant.join(session.links.therapist) : null;
    if (therapist) {
      participants.push(therapist);
      const admitted = await therapist.send({ type: "admit", partners: ["a", "b"] });
      if (!admitted.ok) throw new Error(`admitting the partners failed: ${admitted.error.code}`);
      console.log("  (the therapist lets both partners in)");
    }

    // One script for the whole session, shared by the bots (see CHOICES).
    const choose = scriptedChoices(CHOICES[exerciseId] ?? {});
    const textFor = lineFor(exerciseId);
    const common = { choose, textFor, onTurn: printTurn, idleTimeoutMs: 10_000, seed };
    const plays = [
      playSeat(sam, { ...common, startExercises: !therapist }),
      playSeat(alex, common),
      ...(therapist ? [playSeat(therapist, { ...common, startExercises: true })] : []),
    ];
    await Promise.all(plays.map((p) => p.done));

    const final = sam.view;
    const done = final.completed.at(-1);
    if (done) console.log(`\n— ${def.title} is complete${done.endedEarly ? " (ended early)" : ""} —`);
    for (const agreement of final.agreements) {
      const by = agreement.by === "therapist" ? "the therapist" : (final.names[agreement.by] ?? agreement.by);
      const when = agreement.when
        ? new Date(agreement.when).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" })
        : "";
      console.log(
        `  Agreed (offered by ${by}): ${[agreement.picked, agreement.what, when].filter(Boolean).join(", ")}`,
      );
    }
    const moves = plays.reduce((n, p) => n + p.moves, 0);
    console.log(
      `\n${moves} turns applied; the session is at version ${final.version}, with ${final.transcript.length} lines in its transcript.`,
    );
    // Leave nothing behind (the store may be a shared Redis when REDIS_URL is set): erase the session.
    for (const p of participants) p.close();
    // In a therapist-led session only the therapist's link may erase it.
    const token = new URL(session.links.therapist ?? session.links.a).pathname.split("/").pop() ?? "";
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
