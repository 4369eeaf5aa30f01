/**
 * The room page (/room): opens one connection per seat link this tab holds. One seat renders as is; both partner
 * seats on one device take turns on the screen, with a hand-over screen whenever the seat whose move it is changes.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useReducer, useRef, useState } from "preact/hooks";
import type { Partner, SessionView } from "../../../shared/protocol.ts";
import { forgetToken, pendingToken, rememberSeat, storedTokens } from "../seats.ts";
import { type ConnectionState, explainProblem, FINAL_CODES, SeatConnection } from "./connection.ts";
import type { Send } from "./Controls.tsx";
import { SeatRoom } from "./SeatRoom.tsx";
import { SharedDeviceContext } from "./shared-device.ts";
import { TimeOutBar } from "./TimeOut.tsx";
import { OneDevice } from "../safety/device.ts";
import { seatName } from "./words.ts";
import { KeyMissingNotice } from "./KeyNotice.tsx";

const PROBLEM_HEADINGS: Record<string, string> = {
  TOKEN_REVOKED: "This link is switched off",
  SESSION_NOT_FOUND: "This session is gone",
  TOKEN_EXPIRED: "This session has expired",
  TOKEN_UNKNOWN: "This link doesn't open a session",
};

/** Whether `view`'s seat is expected to act now (a private answer counts only until it is given). */
export function needsMove(view: SessionView): boolean {
  // After the end, each partner still gives their closing reflection on their own screen.
  if (view.phase === "ended") return view.you.seat !== "therapist" && !!view.reflection && !view.reflection.yours;
  if (view.phase !== "exercise" || !view.exercise || view.paused || view.timeOut) return false;
  const step = view.exercise.step;
  if (!step.yourMove) return false;
  if (step.kind === "private-answer") {
    return !step.yourAnswer && !step.answered?.[view.you.seat as Partner];
  }
  return true;
}

/** The partner who should hold the shared device now, or null when nobody has to act. */
export function dueSeat(a: SessionView, b: SessionView, holder: Partner): Partner | null {
  const aMove = needsMove(a);
  const bMove = needsMove(b);
  if (aMove && bMove) return holder;
  if (aMove) return "a";
  if (bMove) return "b";
  return null;
}

/**
 * The tab's live seat connections. A link just opened (pending) is connected alone first: its session decides
 * whether the seats stored earlier in this tab belong with it (same session: a shared device) or are dropped.
 */
function useConnections(): SeatConnection[] {
  const [connections, setConnections] = useState<SeatConnection[]>([]);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const open = new Map<string, { connection: SeatConnection; unsubscribe: () => void }>();
    let stopped = false;
    const close = (token: string) => {
      const entry = open.get(token);
      if (!entry) return;
      entry.unsubscribe();
      entry.connection.close();
      open.delete(token);
    };
    const sync = () => {
      if (stopped) return;
      const pending = pendingToken();
      const wanted = pending ? [pending] : storedTokens();
      for (const token of wanted) {
        if (open.has(token)) continue;
        const connection = new SeatConnection(token);
        const unsubscribe = connection.subscribe((state) => onChange(connection, state));
        open.set(token, { connection, unsubscribe });
      }
      // Failed links stay listed (closed) so the page can say what went wrong.
      for (const [token, entry] of [...open]) {
        if (!wanted.includes(token) && entry.connection.state.status !== "closed") close(token);
      }
      setConnections([...open.values()].map((e) => e.connection));
    };
    const onChange = (connection: SeatConnection, state: ConnectionState) => {
      if (stopped) return;
      let changed = false;
      if (state.view) {
        const wasPending = pendingToken() === connection.token;
        const dropped = rememberSeat(state.view.id, state.view.you.seat, connection.token);
        for (const token of dropped) close(token);
        changed = wasPending || dropped.length > 0;
      }
      // A seat taken over by another tab keeps its link: this tab may take it back.
      const code = state.problem?.code;
      if (state.status === "closed" && code && FINAL_CODES.has(code) && code !== "SEAT_TAKEN_OVER") {
        changed = pendingToken() === connection.token;
        forgetToken(connection.token);
      }
      if (changed) sync();
      rerender(0);
    };
    sync();
    return () => {
      stopped = true;
      for (const token of [...open.keys()]) close(token);
    };
  }, []);
  return connections;
}

function sendVia(connection: SeatConnection): Send {
  return (command) => connection.send(command);
}

function HandOver({ to, view, onReady }: { to: Partner; view: SessionView; onReady: () => void }) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const name = seatName(view, to);
  const from = seatName(view, to === "a" ? "b" : "a");
  const next = view.exercise?.step.title;
  return (
    <section
      class="handover"
      aria-labelledby="handover-heading"
      data-testid="handover"
      data-to={to}
      data-version={view.version}
    >
      <h2 id="handover-heading" tabIndex={-1} ref={headingRef}>
        Pass the device to {name}
      </h2>
      <p>
        {from}, please hand the device to {name}. {name}, tap the button when you have it
        {next ? ` — next is “${next}”.` : "."}
      </p>
      <p class="hint">Your screen is hidden until then, so nothing private shows while you pass it over.</p>
      <button type="button" class="btn primary large" onClick={onReady}>
        I'm {name} — show my screen
      </button>
    </section>
  );
}

/** Whether the step now on `view` keeps something private until it is given (then the screen hides on hand-over). */
export function isPrivateStep(view: SessionView): boolean {
  // The closing reflection is answered alone: hand over behind the screen.
  if (view.phase === "ended") return needsMove(view);
  const step = view.exercise?.step;
  if (!step) return false;
  return step.kind === "private-answer" || (step.kind === "guess" && !step.guess?.revealed);
}

function SharedDevice({
  a,
  b,
  announce,
}: {
  a: { view: SessionView; connection: SeatConnection };
  b: { view: SessionView; connection: SeatConnection };
  announce: (text: string) => void;
}) {
  const [holder, setHolder] = useState<Partner>(() => dueSeat(a.view, b.view, "a") ?? "a");
  const [requested, setRequested] = useState<Partner | null>(null);
  const due = dueSeat(a.view, b.view, holder);
  const seats = { a, b };
  // The screen hides only before a private step (or when a partner asks): other turns just change hands.
  const handTo = due !== null && due !== holder && isPrivateStep(seats[due].view) ? due : requested;
  const switchTo = handTo === null && due !== null && due !== holder ? due : null;
  useEffect(() => {
    if (switchTo) setHolder(switchTo);
  }, [switchTo]);
  const current = seats[switchTo ?? holder];
  useEffect(() => {
    if (handTo) announce(`Pass the device to ${seatName(current.view, handTo)}.`);
  }, [handTo]);
  if (handTo) {
    const incoming = seats[handTo];
    return (
      <div class="shared-device">
        <HandOver
          to={handTo}
          view={incoming.view}
          onReady={() => {
            setHolder(handTo);
            setRequested(null);
          }}
        />
        <TimeOutBar view={incoming.view} send={sendVia(incoming.connection)} />
      </div>
    );
  }
  const shownSeat = switchTo ?? holder;
  const other: Partner = shownSeat === "a" ? "b" : "a";
  return (
    <SharedDeviceContext.Provider value={true}>
      <div class="shared-device">
        <div class="device-holder" data-testid="device-holder" data-seat={shownSeat}>
          <p>
            One device · <strong>{seatName(current.view, shownSeat)}'s turn</strong>
          </p>
          <button type="button" class="btn quiet small" onClick={() => setRequested(other)}>
            Hide my screen and hand to {seatName(current.view, other)}
          </button>
        </div>
        <SeatRoom
          key={shownSeat}
          token={current.connection.token}
          view={current.view}
          send={sendVia(current.connection)}
          announce={announce}
          offline={current.connection.state.status !== "online"}
        />
      </div>
    </SharedDeviceContext.Provider>
  );
}

/** The room page. */
export function Room() {
  const connections = useConnections();
  const [announcement, setAnnouncement] = useState("");
  const announce = (text: string) => setAnnouncement(text);
  const live = connections.filter((c) => c.state.view && c.state.status !== "closed");
  const bySeat = (seat: string) => live.find((c) => c.state.view?.you.seat === seat);
  const a = bySeat("a");
  const b = bySeat("b");
  const single = a ?? b ?? bySeat("therapist");
  const reconnecting = connections.some((c) => c.state.status === "reconnecting");
  const problems = connections.filter((c) => c.state.status === "closed" && c.state.problem);
  const tokensKnown = connections.length > 0 || storedTokens().length > 0;

  let body: ComponentChildren;
  if (!tokensKnown) {
    const erased = new URLSearchParams(location.search).has("erased");
    body = (
      <section class="notice-panel" data-testid={erased ? "erased" : "no-session"}>
        <h2>{erased ? "The session is erased" : "No session open here"}</h2>
        <p>
          {erased
            ? "Everything in it is deleted and both links have stopped working."
            : "Open the private link you were given, or start a new session."}
        </p>
        <a class="btn primary" href="/">
          Start a session
        </a>
      </section>
    );
  } else if (
    a?.state.view &&
    b?.state.view &&
    (a.state.view.phase !== "ended" || (a.state.view.reflection && !a.state.view.reflection.revealed))
  ) {
    body = (
      <OneDevice.Provider value={true}>
        <SharedDevice
          a={{ view: a.state.view, connection: a }}
          b={{ view: b.state.view, connection: b }}
          announce={announce}
        />
      </OneDevice.Provider>
    );
  } else if (single?.state.view) {
    body = (
      <SharedDeviceContext.Provider value={Boolean(a?.state.view && b?.state.view)}>
        <SeatRoom
          view={single.state.view}
          token={single.token}
          send={sendVia(single)}
          announce={announce}
          offline={single.state.status !== "online"}
        />
      </SharedDeviceContext.Provider>
    );
  } else if (problems.length > 0 && problems.length === connections.length) {
    const problem = problems[0]!.state.problem!;
    const elsewhere = problem.code === "SEAT_TAKEN_OVER";
    // A partner of a therapist-led session waits for their therapist's new link: a new session is not theirs to start.
    const mode = problems[0]!.state.view?.mode;
    body = (
      <section class="notice-panel" data-testid="link-problem">
        <h2>
          {elsewhere
            ? "Your seat is open somewhere else"
            : (PROBLEM_HEADINGS[problem.code] ?? "We couldn't open your seat")}
        </h2>
        <p>{explainProblem(problem, mode)}</p>
        {elsewhere ? (
          <button type="button" class="btn primary" onClick={() => location.reload()}>
            Continue here instead
          </button>
        ) : problem.code === "TOKEN_REVOKED" && mode === "therapist" ? null : (
          <a class="btn secondary" href="/">
            Start a new session
          </a>
        )}
      </section>
    );
  } else {
    body = (
      <p class="joining" role="status">
        Joining your session…
      </p>
    );
  }

  const keyMissing = live.some((c) => c.state.keyMissing);
  return (
    <main class="room" id="main">
      <p class="connection-banner" role="status" data-testid="connection-banner">
        {reconnecting ? "Reconnecting… your place is kept." : ""}
      </p>
      {/* Without its key a seat can read and write nothing: the notice takes the room's place. */}
      {keyMissing ? <KeyMissingNotice /> : body}
      <div class="sr-only" aria-live="polite" data-testid="announcer">
        {announcement}
      </div>
    </main>
  );
}
