/**
 * A bot that plays one seat through whatever exercise the session is on: it reads its view, and whenever the
 * step is its move (and the matching command is allowed), it sends that command. Built only on the participant
 * and the shared protocol, so it knows nothing of any particular exercise beyond what the view says.
 */
import type {
  CheckInAnswer,
  Command,
  CommandAck,
  ErrorCode,
  GuessMark,
  Seat,
  SessionView,
  StepView,
} from "../../shared/protocol.ts";
import type { Participant } from "./participant.ts";

/** Picks an option id for a "choose" step. */
export type ChoosePolicy = (step: StepView, view: SessionView) => string;

/** One move the bot made, with the server's answer. */
export interface TurnReport {
  seat: Seat;
  /** The seat's display name, or its seat letter when the session has none ("Therapist" for the therapist). */
  name: string;
  role: StepView["role"];
  exerciseId: string;
  cycle: number;
  step: StepView;
  /** The view the move was made from. */
  view: SessionView;
  command: Command;
  ack: CommandAck;
  /** For a choose step: the label of the picked option. */
  optionLabel?: string;
}

export interface PlayOptions {
  /** What to say (typed channel) at a say step; ignored in the spoken channel. */
  textFor?(step: StepView, view: SessionView): string;
  /** Which option to pick at a choose step (default: the first, which moves the exercise forward). */
  choose?: ChoosePolicy;
  /** The private answer at a private-answer step (default: the middle of the rating, the first feeling). */
  answerFor?(step: StepView, view: SessionView): CheckInAnswer;
  /** This seat's side of a guess step (default: the first choice, a short typed line, or nothing when spoken). */
  guessFor?(step: StepView, view: SessionView): { text?: string; choice?: string };
  /** The mark for a revealed guess, or null to leave it to the partner (default: the answerer marks "close"). */
  markFor?(step: StepView, view: SessionView): GuessMark | null;
  /** The idea to pick (default: the partner's pick when there is one, else the first option). */
  pickFor?(step: StepView, view: SessionView): string;
  /** The agreement to offer or record (default: what each part asks for, a time a few hours ahead). */
  agreementFor?(step: StepView, view: SessionView): { what?: string; option?: string; when?: string };
  /** Whether to acknowledge the partner's offer (default: yes). */
  acknowledge?(step: StepView, view: SessionView): boolean;
  /** Seed for the order questions are drawn in when this bot starts an exercise (default: none, the deck's order). */
  seed?: number;
  /** Whether this bot starts the next exercise on the agenda when the session is in the lobby. */
  startExercises?: boolean;
  /** Called after each acknowledged move (applied or refused). */
  onTurn?(report: TurnReport): void;
  /** When play is over (default: the session ended, or the agenda is done and no exercise runs). */
  until?(view: SessionView): boolean;
  /** Fail if nothing changes for this long (ms; default 30 s; 0 waits forever). */
  idleTimeoutMs?: number;
  /** Per-command ack time-out before a retry with the same id (ms). */
  ackTimeoutMs?: number;
}

export interface SeatPlay {
  /** Resolves when `until` holds; rejects on a refusal that shows a bug, on a lost connection or on idleness. */
  done: Promise<void>;
  /** Stops playing (done resolves). */
  stop(): void;
  /** Moves applied so far. */
  readonly moves: number;
}

/** Refusals that mean the bot itself sent something wrong: retrying cannot help, so play stops with an error. */
const BOT_FAULTS = new Set<ErrorCode>([
  "INVALID_COMMAND",
  "TEXT_TOO_LONG",
  "TEXT_REQUIRED",
  "TEXT_NOT_ALLOWED",
  "UNKNOWN_OPTION",
  "INVALID_ANSWER",
  "THERAPIST_ONLY",
  "PARTNER_ONLY",
  "UNKNOWN_EXERCISE",
]);

/** Always the first option: in the catalogue that is the one that moves the exercise forward. */
export const firstOption: ChoosePolicy = (step) => {
  const first = step.options?.[0];
  if (!first) throw new Error(`step ${step.id} has no options`);
  return first.id;
};

/**
 * Picks from a per-step script: the n-th time this policy is asked about a step id (over the whole session)
 * it takes the n-th option id listed for it, when the step offers it; later visits and unscripted steps take
 * `fallback`. One policy shared by both seats' bots scripts the session as a whole.
 */
export function scriptedChoices(script: Record<string, string[]>, fallback: ChoosePolicy = firstOption): ChoosePolicy {
  const visits = new Map<string, number>();
  return (step, view) => {
    const key = `${view.exercise?.id ?? ""}:${step.id}`;
    const n = visits.get(key) ?? 0;
    visits.set(key, n + 1);
    const wanted = script[step.id]?.[n];
    if (wanted && step.options?.some((o) => o.id === wanted)) return wanted;
    return fallback(step, view);
  };
}

/** Says "not quite" (or the given option) the first time a step offers it in each cycle, then moves on. */
export function notQuiteOnce(optionId = "not-quite", fallback: ChoosePolicy = firstOption): ChoosePolicy {
  const used = new Set<string>();
  return (step, view) => {
    const key = `${view.exercise?.id ?? ""}:${view.exercise?.cycle ?? 0}:${step.id}`;
    if (!used.has(key) && step.options?.some((o) => o.id === optionId)) {
      used.add(key);
      return optionId;
    }
    return fallback(step, view);
  };
}

function defaultText(step: StepView, view: SessionView): string {
  const me = view.you.seat;
  const name = (me === "a" || me === "b" ? view.names[me] : undefined) ?? me;
  return `${name}: ${step.title} (${view.exercise?.cycle ?? 0}).`;
}

/** A few ideas per seat, so two bots do not write the same list. */
const IDEAS: Record<string, string[]> = {
  a: ["A walk after dinner", "Cook something new", "Breakfast out"],
  b: ["A film at home", "Visit the market", "An afternoon swim"],
};

function defaultAnswer(step: StepView, view: SessionView): CheckInAnswer {
  const fields = step.answerFields;
  const answer: CheckInAnswer = {};
  if (fields?.rating) answer.rating = Math.round((fields.rating.min + fields.rating.max) / 2);
  if (fields?.feelings?.[0]) answer.feeling = fields.feelings[0];
  if (fields?.ideas) answer.ideas = (IDEAS[view.you.seat] ?? IDEAS.a!).slice(0, fields.ideas.max);
  if (fields?.note && !fields.rating && !fields.feelings && !fields.ideas) answer.note = "Doing all right.";
  return answer;
}

function defaultGuess(step: StepView, view: SessionView): { text?: string; choice?: string } {
  const choices = step.guess?.choices;
  if (choices && choices.length > 0) return { choice: choices[0]!.id };
  if (view.channel === "spoken") return {};
  const guessing = step.guess?.about !== view.you.seat;
  const seat = view.you.seat;
  const name = seat === "therapist" ? seat : (view.names[seat] ?? seat);
  return { text: guessing ? `${name}'s guess (${view.version})` : `${name}'s own answer (${view.version})` };
}

function defaultMark(step: StepView, view: SessionView): GuessMark | null {
  return step.guess?.about === view.you.seat ? "close" : null;
}

function defaultPick(step: StepView, view: SessionView): string {
  const pick = step.pick;
  const me = view.you.seat;
  const theirs = me === "a" || me === "b" ? pick?.picks?.[me === "a" ? "b" : "a"] : undefined;
  const first = pick?.options[0]?.id;
  if (theirs) return theirs;
  if (!first) throw new Error(`step ${step.id} has nothing to pick`);
  return first;
}

function defaultAgreement(step: StepView, view: SessionView): { what?: string; option?: string; when?: string } {
  const fields = step.agreement;
  const out: { what?: string; option?: string; when?: string } = {};
  // An optional "what" is left out when a time is asked for: the time is the agreement.
  if (fields?.what === "required" || (fields?.what && !fields.when)) {
    if (fields.options?.[0]) out.option = fields.options[0].id;
    else if (view.channel === "typed") out.what = `${step.title} (agreed at version ${view.version})`;
  }
  if (fields?.when) {
    // Half the allowed window ahead (at most a day), on the minute: always in the future, always within bounds.
    const hours = Math.min(fields.withinHours ?? 48, 48) / 2;
    const at = new Date(Math.ceil((Date.now() + hours * 3_600_000) / 60_000) * 60_000);
    out.when = at.toISOString();
  }
  return out;
}

/** The command that completes this seat's part of a step of each kind. */
const MOVE_FOR: Record<StepView["kind"], Command["type"]> = {
  say: "say",
  choose: "choose",
  "private-answer": "answer",
  talk: "end-turn",
  guess: "guess",
  pick: "pick",
  agreement: "agree",
};

function isAllowed(view: SessionView, type: Command["type"]): boolean {
  return view.allowed.some((a) => a.type === type && a.allowed);
}

function defaultUntil(view: SessionView): boolean {
  if (view.phase === "ended") return true;
  return view.exercise === null && view.completed.length > 0 && view.agendaNext >= view.agenda.length;
}

/** The command this seat should send now, or null when it is not its move. */
export function nextMove(view: SessionView, opts: PlayOptions = {}): Command | null {
  if (view.waiting || view.phase === "ended") return null;
  const exercise = view.exercise;
  if (!exercise) {
    if (opts.startExercises && view.agendaNext < view.agenda.length && isAllowed(view, "start-exercise")) {
      return { type: "start-exercise", ...(opts.seed !== undefined ? { seed: opts.seed } : {}) };
    }
    return null;
  }
  const step = exercise.step;
  if (!step.yourMove) return null;
  // Check first, build after: policies and text sources count their calls, so none may be spent on a no-move.
  if (step.kind === "guess" && step.guess?.revealed) {
    if (!isAllowed(view, "mark")) return null;
    const mark = (opts.markFor ?? defaultMark)(step, view);
    return mark ? { type: "mark", mark } : null;
  }
  if (step.kind === "agreement" && step.agreement?.offer) {
    if (!isAllowed(view, "acknowledge")) return null;
    if (opts.acknowledge?.(step, view) === false) {
      return { type: "agree", ...(opts.agreementFor ?? defaultAgreement)(step, view) };
    }
    return { type: "acknowledge" };
  }
  const type = MOVE_FOR[step.kind];
  if (!type || !isAllowed(view, type) || (step.kind === "private-answer" && step.yourAnswer)) return null;
  let command: Command;
  switch (step.kind) {
    case "say":
      command =
        view.channel === "typed" ? { type: "say", text: (opts.textFor ?? defaultText)(step, view) } : { type: "say" };
      break;
    case "choose":
      command = { type: "choose", option: (opts.choose ?? firstOption)(step, view) };
      break;
    case "private-answer":
      command = { type: "answer", answer: (opts.answerFor ?? defaultAnswer)(step, view) };
      break;
    case "talk":
      command = { type: "end-turn" };
      break;
    case "guess":
      command = { type: "guess", ...(opts.guessFor ?? defaultGuess)(step, view) };
      break;
    case "pick":
      command = { type: "pick", option: (opts.pickFor ?? defaultPick)(step, view) };
      break;
    case "agreement":
      command = { type: "agree", ...(opts.agreementFor ?? defaultAgreement)(step, view) };
      break;
    default:
      return null;
  }
  return command;
}

/** Plays `participant`'s seat until `opts.until` holds for its view. */
export function playSeat(participant: Participant, opts: PlayOptions = {}): SeatPlay {
  const until = opts.until ?? defaultUntil;
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  let moves = 0;
  let busy = false;
  let finished = false;
  // The version at which we last moved: the same view must not trigger the same move twice.
  let movedAt = -1;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let resolveDone!: () => void;
  let rejectDone!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });

  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    clearTimeout(idleTimer);
    offView();
    offDisconnect();
    if (err) rejectDone(err);
    else resolveDone();
  };

  const armIdle = () => {
    if (idleMs <= 0) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      const v = participant.view;
      finish(
        new Error(
          `${participant.seat}: no progress for ${idleMs} ms (v${v.version}, ${v.exercise?.step.id ?? v.phase})`,
        ),
      );
    }, idleMs);
  };

  const act = async (): Promise<void> => {
    if (busy || finished) return;
    busy = true;
    try {
      for (;;) {
        const view = participant.view;
        if (until(view)) return finish();
        if (view.version === movedAt) return;
        const command = nextMove(view, opts);
        if (!command) return;
        movedAt = view.version;
        const sendOpts = opts.ackTimeoutMs === undefined ? {} : { timeoutMs: opts.ackTimeoutMs };
        const ack = await participant.send(command, sendOpts);
        if (finished) return;
        const step = view.exercise?.step;
        const seat = view.you.seat;
        if (step && view.exercise) {
          const report: TurnReport = {
            seat,
            name: seat === "therapist" ? "Therapist" : (view.names[seat] ?? seat),
            role: step.role,
            exerciseId: view.exercise.id,
            cycle: view.exercise.cycle,
            step,
            view,
            command,
            ack,
          };
          if (command.type === "choose") {
            const label = step.options?.find((o) => o.id === command.option)?.label;
            if (label) report.optionLabel = label;
          }
          opts.onTurn?.(report);
        }
        if (ack.ok) {
          moves++;
          // Our own update may not have arrived yet; acting on the old view would repeat the move.
          if (participant.version < ack.version) return;
        } else if (BOT_FAULTS.has(ack.error.code)) {
          return finish(new Error(`${seat}: ${command.type} refused with ${ack.error.code}: ${ack.error.message}`));
        } else if (ack.error.code === "RATE_LIMITED") {
          movedAt = -1;
          setTimeout(() => void act(), 500);
          return;
        } else {
          // A race with the partner or the server (stale, not your turn): wait for the next view.
          return;
        }
      }
    } catch (err) {
      finish(err instanceof Error ? err : new Error(String(err)));
    } finally {
      busy = false;
    }
  };

  const offView = participant.on("view", () => {
    armIdle();
    void act().then(() => {
      // A view may have arrived while we were sending; look again so it is not missed.
      if (!finished && !busy && participant.view.version !== movedAt) void act();
    });
  });
  const offDisconnect = participant.on("disconnect", (reason) => {
    if (reason === "io server disconnect" || reason === "io client disconnect") {
      finish(new Error(`${participant.seat}: disconnected (${participant.lastNotice?.code ?? reason})`));
    }
  });

  armIdle();
  void act();
  return {
    done,
    stop: () => finish(),
    get moves() {
      return moves;
    },
  };
}
