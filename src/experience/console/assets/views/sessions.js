// The caller's sessions, newest first, a page at a time.

import { auth, get, post, query } from "../api.js";
import { h, pill, shortId, table, when } from "../dom.js";

export function render(main, _params, app) {
  const who = auth.load();
  const list = h("div", { "aria-live": "polite" });
  const more = h("button", { type: "button", hidden: true }, "Load more");
  let cursor = null;
  let rows = [];

  const draw = () =>
    list.replaceChildren(
      table(
        [
          [(s) => h("a", { href: `#/session/${s.session_id}` }, h("code", {}, shortId(s.session_id))), "Session"],
          [(s) => pill(s.status), "Status"],
          [(s) => (s.user_id ? "signed in" : "anonymous"), "Owner"],
          [(s) => when(s.created_at), "Created"],
          [(s) => when(s.updated_at), "Last active"],
        ],
        rows,
        { caption: "Sessions, newest first", empty: "No sessions yet." },
      ),
    );

  const load = async () => {
    try {
      const own = who.kind === "anonymous" ? { session_id: who.session_id } : {};
      const page = await get(`/api/sessions${query({ ...own, limit: 25, cursor })}`);
      rows = rows.concat(page.sessions);
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
      draw();
    } catch (err) {
      app.error(err);
    }
  };
  more.addEventListener("click", load);

  const create =
    who.kind === "user"
      ? h(
          "button",
          {
            type: "button",
            class: "primary",
            onclick: async () => {
              try {
                const s = await post("/api/session/create", {});
                location.hash = `#/session/${s.session_id}`;
              } catch (err) {
                app.error(err);
              }
            },
          },
          "New session",
        )
      : null;

  main.append(h("div", { class: "page-head" }, h("h1", {}, "Sessions"), create), list, more);
  load();
}
