// Pending safety hooks: executions waiting for a person's approval, with the reason.

import { auth, get, post, query } from "../api.js";
import { h, field, shortId, table, when } from "../dom.js";

/** Approves or refuses the hook an execution waits on. */
export async function decide(executionId, hookId, approved, reason) {
  return post(`/api/execution/${encodeURIComponent(executionId)}/approval`, {
    hook_id: hookId,
    approved,
    reason: reason || undefined,
  });
}

export function render(main, _params, app) {
  const who = auth.load();
  const box = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, "Loading…"));
  main.append(h("h1", {}, "Approvals"), box);

  let drawn = null;
  const load = async () => {
    try {
      const scope = who.kind === "anonymous" ? { session_id: who.session_id } : {};
      const page = await get(`/api/executions${query({ ...scope, status: "awaiting_approval", limit: 100 })}`);
      const pending = page.executions;
      // Redrawn only when something changed: a button must not be replaced under the pointer.
      const seen = JSON.stringify(pending.map((x) => [x.execution_id, x.hook && x.hook.hook_id]));
      if (seen === drawn) return;
      drawn = seen;
      box.replaceChildren(
        table(
          [
            [(x) => h("a", { href: `#/execution/${x.execution_id}` }, x.intent_type, " ", h("code", {}, shortId(x.execution_id))), "Execution"],
            [(x) => h("a", { href: `#/session/${x.session_id}` }, h("code", {}, shortId(x.session_id))), "Session"],
            [(x) => (x.hook ? x.hook.reason : ""), "Reason"],
            [(x) => when(x.created_at), "Asked"],
            [(x) => (x.hook ? buttons(x, app, load) : "—"), "Decision"],
          ],
          pending,
          { caption: "Waiting for approval", empty: "Nothing is waiting for approval." },
        ),
      );
    } catch (err) {
      app.error(err);
    }
  };
  // Others decide too, and a decision takes effect a moment after it is answered: read again
  // two seconds after each read ends (never two at once).
  let timer = null;
  let left = false;
  const again = async () => {
    await load();
    if (!left) timer = setTimeout(again, 2000);
  };
  again();
  return () => {
    left = true;
    clearTimeout(timer);
  };
}

/** Approve and refuse buttons (with an optional reason) for one execution's hook. */
export function buttons(x, app, then) {
  const reason = h("input", { type: "text", placeholder: "reason (optional)", class: "reason" });
  const act = (approved) => async () => {
    try {
      await decide(x.execution_id, x.hook.hook_id, approved, reason.value);
      app.notice(approved ? "Approved." : "Refused.");
      then();
    } catch (err) {
      app.error(err);
    }
  };
  return h(
    "div",
    { class: "decide" },
    field(`Reason for ${x.intent_type} ${shortId(x.execution_id)}`, reason),
    h("button", { type: "button", class: "primary", onclick: act(true) }, "Approve"),
    h("button", { type: "button", class: "danger", onclick: act(false) }, "Refuse"),
  );
}
