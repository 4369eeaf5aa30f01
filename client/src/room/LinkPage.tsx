/** The page for a `/join/...` link that cannot open a seat: cut short, or not a session link at all. */
export function LinkProblemPage({ problem }: { problem: "incomplete" | "garbage" }) {
  return (
    <main class="room" id="main">
      <section class="notice-panel" data-testid="link-problem" data-problem={problem}>
        {problem === "incomplete" ? (
          <>
            <h2>This link is incomplete</h2>
            <p>
              Part of the link seems to be missing, often the end of it when it was copied. Open the message it came in
              and copy the whole link, or ask the person who sent it to send it again.
            </p>
          </>
        ) : (
          <>
            <h2>This isn't a session link</h2>
            <p>
              The address doesn't look like an Attune session link. Check where it came from, or start a new session of
              your own.
            </p>
          </>
        )}
        <a class="btn secondary" href="/">
          Start a new session
        </a>
      </section>
    </main>
  );
}
