// The console's shell: who is signed in, the navigation, messages, and the page for the
// address (`#/sessions`, `#/session/<id>/<tab>`, `#/execution/<id>`, `#/approvals`).

import { auth, SessionSocket, whenExpired } from "./api.js";
import { h, fill } from "./dom.js";
import * as signin from "./views/signin.js";
import * as sessions from "./views/sessions.js";
import * as session from "./views/session.js";
import * as execution from "./views/execution.js";
import * as approvals from "./views/approvals.js";

const ROUTES = { sessions, session, execution, approvals };

const main = document.getElementById("main");
const banner = document.getElementById("banner");
const nav = document.getElementById("nav");
const whoBox = document.getElementById("who");
let cleanup = null;
let socket = null;
let shown = "#/";
// A message for the next page shown (why the person was signed out).
let told = null;

const app = {
  /** The session's agent socket, kept while the console stays on that session. */
  socket(sessionId) {
    if (!socket || socket.sessionId !== sessionId) {
      if (socket) socket.close();
      socket = new SessionSocket(sessionId);
    }
    return socket;
  },
  error(err) {
    const text = err && err.message ? err.message : String(err);
    fill(banner, h("p", { class: "banner error" }, text, h("button", { type: "button", class: "link", onclick: () => fill(banner) }, "Dismiss")));
  },
  notice(text) {
    fill(banner, h("p", { class: "banner notice" }, text));
    setTimeout(() => banner.textContent === text && fill(banner), 4000);
  },
  afterSignIn() {
    const who = auth.load();
    go(who.kind === "anonymous" ? `#/session/${who.session_id}/files` : "#/sessions");
  },
};

/** Shows `hash`: through the router when it changes the address, at once when it does not. */
function go(hash) {
  if (location.hash === hash) show();
  else location.hash = hash;
}

function signOut(message) {
  auth.clear();
  if (socket) socket.close();
  socket = null;
  told = message || null;
  go("#/signin");
}

whenExpired(() => signOut("Your sign-in has expired: sign in again."));

function header(who) {
  if (!who) {
    fill(nav);
    fill(whoBox);
    return;
  }
  const here = location.hash.split("/")[1] || "sessions";
  const link = (href, label, key) => h("a", { href, "aria-current": here === key ? "page" : false }, label);
  fill(
    nav,
    link("#/sessions", "Sessions", "sessions"),
    who.kind === "anonymous" ? link(`#/session/${who.session_id}`, "My session", "session") : null,
    link("#/approvals", "Approvals", "approvals"),
    h("a", { href: "/docs/" }, "API reference"),
  );
  fill(
    whoBox,
    h("span", {}, who.kind === "user" ? who.user.name || who.user.email : "Anonymous"),
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: () => signOut(),
      },
      "Sign out",
    ),
  );
}

function show() {
  // The skip link: focus the page's content, leave the page as it is.
  if (location.hash === "#main") {
    main.focus();
    history.replaceState(null, "", shown);
    return;
  }
  shown = location.hash || "#/";
  if (cleanup) cleanup();
  cleanup = null;
  fill(banner);
  if (told) {
    app.notice(told);
    told = null;
  }
  main.replaceChildren();
  const who = auth.load();
  const [, name, ...params] = (location.hash || "#/").split("/");
  header(who);
  if (!who) {
    document.title = "Sign in · Symphainy console";
    signin.render(main, [], app);
    return;
  }
  const view = ROUTES[name] || sessions;
  document.title = `${name && ROUTES[name] ? name[0].toUpperCase() + name.slice(1) : "Sessions"} · Symphainy console`;
  if (name !== "session" && socket) {
    socket.close();
    socket = null;
  }
  let decoded;
  try {
    decoded = params.map(decodeURIComponent);
  } catch {
    decoded = [];
  }
  // A page about one thing needs its id.
  if ((name === "session" || name === "execution") && !decoded[0]) {
    go("#/sessions");
    return;
  }
  cleanup = view.render(main, decoded, app) || null;
  // After a move within the console, reading goes on from the new page's content (a fresh
  // load starts at the top, with the skip link).
  if (moved) main.focus({ preventScroll: true });
}

let moved = false;
window.addEventListener("hashchange", () => {
  moved = true;
  show();
});
show();
