/** Entry point: takes a seat token out of the address bar before anything renders, then routes home or room. */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Home } from "./home/Home.tsx";
import { Room } from "./room/Room.tsx";
import { LinkProblemPage } from "./room/LinkPage.tsx";
import { joinLinkProblem, storedTokens, storePending, tokenFromPath } from "./seats.ts";
import { QuickExit } from "./safety/QuickExit.tsx";
import { storeLinkKeys } from "./room/keys.ts";
import { isSpaceLinkPath, SPACE_PATH, storeSpaceLink } from "./space/link.ts";
import { SpacePage } from "./space/SpacePage.tsx";
import { PracticePage, StandingWaitPage, takePracticeLink } from "./console/Practice.tsx";

const ROOM_PATH = "/room";

// The link's token must not linger in the address bar, history or a shared screenshot: keep it in this tab only.
const linkProblem = joinLinkProblem(location.pathname);
const joinToken = linkProblem ? null : tokenFromPath(location.pathname);
if (joinToken) {
  storePending(joinToken);
  // An encrypted session's keys ride in the fragment: kept in this tab with the token, never sent anywhere.
  storeLinkKeys(joinToken, location.hash);
  history.replaceState(null, "", ROOM_PATH);
} else if (linkProblem) {
  // Even a broken link may hold part of a secret: it leaves the address bar too.
  history.replaceState(null, "", ROOM_PATH);
}
// A space link carries its key in the fragment: keep both in this tab only, out of the address bar and history.
if (isSpaceLinkPath(location.pathname)) {
  storeSpaceLink(location.href);
  history.replaceState(null, "", SPACE_PATH);
}

// A practice link or a standing room link (issue 14): its token is taken out of the address bar the same way.
const practiceRoute = joinToken ? null : takePracticeLink();

function App() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const openRoom = () => {
    history.pushState(null, "", ROOM_PATH);
    setPath(ROOM_PATH);
  };
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <QuickExit />
      {linkProblem && path === ROOM_PATH && !storedTokens().length ? (
        <>
          <header class="topbar">
            <h1>
              <a href="/">Attune</a>
            </h1>
          </header>
          <LinkProblemPage problem={linkProblem} />
        </>
      ) : path === SPACE_PATH ? (
        <>
          <header class="topbar">
            <p class="brand-line">
              <a href="/">Attune</a>
            </p>
          </header>
          <SpacePage />
        </>
      ) : practiceRoute && path !== ROOM_PATH ? (
        <>
          <header class="topbar">
            <h1>
              <a href="/">Attune</a>
            </h1>
          </header>
          <main id="main">{practiceRoute === "practice" ? <PracticePage /> : <StandingWaitPage />}</main>
        </>
      ) : path === ROOM_PATH ? (
        <>
          <header class="topbar">
            <h1>
              <a href="/">Attune</a>
            </h1>
          </header>
          <Room />
        </>
      ) : (
        <Home openRoom={openRoom} />
      )}
    </>
  );
}

render(<App />, document.getElementById("app")!);
