// Sign in with the platform's own accounts, create one, or continue anonymously.

import { auth, post } from "../api.js";
import { h, field } from "../dom.js";

export function render(main, _params, app) {
  const loginEmail = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const loginPassword = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const name = h("input", { type: "text", name: "name", autocomplete: "name", required: true });
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", minlength: 8, required: true });

  const signedIn = (body) => {
    // The access token only: when it expires the console asks to sign in again.
    auth.save({ kind: "user", access_token: body.access_token, user: body.user, session_id: body.session_id });
    app.afterSignIn();
  };
  const guard = (fn) => async (e) => {
    e.preventDefault();
    const button = e.target.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await fn();
    } catch (err) {
      app.error(err);
    } finally {
      button.disabled = false;
    }
  };

  main.append(
    h("h1", {}, "Sign in to the Symphainy console"),
    h(
      "div",
      { class: "cards two" },
      h(
        "form",
        {
          class: "card",
          "aria-labelledby": "signin-title",
          onsubmit: guard(async () =>
            signedIn(await post("/api/auth/login", { email: loginEmail.value, password: loginPassword.value })),
          ),
        },
        h("h2", { id: "signin-title" }, "Sign in"),
        field("Email", loginEmail),
        field("Password", loginPassword),
        h("button", { type: "submit", class: "primary" }, "Sign in"),
      ),
      h(
        "form",
        {
          class: "card",
          "aria-labelledby": "signup-title",
          onsubmit: guard(async () =>
            signedIn(
              await post("/api/auth/register", { name: name.value, email: email.value, password: password.value }),
            ),
          ),
        },
        h("h2", { id: "signup-title" }, "Create an account"),
        field("Name", name),
        field("Email", email),
        field("Password (8 characters or more)", password),
        h("button", { type: "submit", class: "primary" }, "Create account"),
      ),
    ),
    h(
      "p",
      { class: "anon" },
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            try {
              const s = await post("/api/session/create-anonymous", {});
              auth.save({ kind: "anonymous", session_id: s.session_id });
              app.afterSignIn();
            } catch (err) {
              app.error(err);
            }
          },
        },
        "Continue without an account",
      ),
      " — one anonymous session; its id is its key.",
    ),
  );
  loginEmail.focus();
}
