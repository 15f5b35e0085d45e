// Private threads in the room (docs/protocol.md, "Private threads"): a
// facilitator checks in with one member; only that member and the group's
// facilitators see it, and the member can close it any time.
//
// room.js hands every frame to `onFrame` first and draws "Reach out
// privately" buttons with `reachOutButton`; everything else is here.
// Server strings go in with textContent only.

const MAX_CHARS = 2000;
const ROLE_WORDS = { facilitator: "Facilitator", cofacilitator: "Co-facilitator" };
const INVITE =
  "A facilitator would like to check in with you privately. Only you and the group's facilitators can see this. You can close it any time.";
const NOTE_SHOW = "This message may be hard to read — show it";
// As in the room's composer: on phones Enter starts a new line, Send sends.
const touchFirst = window.matchMedia("(pointer: coarse)").matches;

import { el } from "./dom.js";

export function createThreads({ boot, send, newId, nameOf, announce }) {
  const byId = (id) => document.getElementById(id);
  const container = byId("threads");
  let facilitates = Boolean(boot.facilitates);
  const threads = new Map(); // id -> {id, memberId, memberName, open, seen: Set, nodes}
  const sending = new Map(); // client id -> thread id, until acked
  const opening = new Set(); // member ids a "Reach out" here asked for
  const sentClose = new Set(); // threads this tab asked to close

  const str = (value) => (typeof value === "string" ? value : "");
  const who = (t) => str(t.memberName) || nameOf(t.memberId);
  const clock = (iso) => {
    const at = new Date(iso);
    return Number.isNaN(at.getTime()) ? "" : at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  };

  // ------------------------------------------------------------ drawing ---

  function panel(t) {
    const id = `thread-${t.id}`;
    const mine = t.memberId === boot.user_id;
    const heading = el("h2", { id: `${id}-h`, className: "eyebrow", tabindex: "-1", text: mine ? "A private check-in" : `Private thread with ${who(t)}` });
    const intro = el("p", { className: "thread-intro", text: mine ? INVITE : `Only ${who(t)} and the group's facilitators can see this. ${who(t)} can close it any time.` });
    // Focusable, so a long conversation scrolls with the keyboard (as the chat log).
    const log = el("div", { className: "thread-log", role: "log", "aria-live": "polite", "aria-labelledby": `${id}-h`, tabindex: "0" });
    const box = el("textarea", { id: `${id}-text`, name: "text", rows: "2", maxlength: String(MAX_CHARS), "aria-describedby": `${id}-hint ${id}-error` });
    const form = el(
      "form",
      { className: "thread-form", dataset: { threadForm: String(t.id) } },
      el("label", { for: `${id}-text`, text: mine ? "Your reply (only the facilitators see it)" : `Message to ${who(t)}, privately` }),
      el("div", { className: "composer-row" }, box, el("button", { type: "submit" }, "Send", el("span", { className: "sr-only", text: " privately" }))),
      el("p", { id: `${id}-hint`, className: "helptext", text: touchFirst ? "Press Send to send it." : "Enter sends, Shift+Enter starts a new line." }),
      el("p", { id: `${id}-error`, className: "inline-error", "aria-live": "assertive" }),
      el("p", { className: "composer-notice", role: "status" }),
    );
    const close = el(
      "button",
      { type: "button", className: "secondary", dataset: { threadClose: String(t.id) } },
      mine ? "Close this conversation" : "Close the thread",
      mine ? null : el("span", { className: "sr-only", text: ` with ${who(t)}` }),
    );
    const closedNote = el("p", { className: "muted thread-closed", hidden: true });
    const dismiss = el("button", { type: "button", className: "secondary small", hidden: true, dataset: { threadDismiss: String(t.id) } }, "Dismiss");
    const node = el(
      "section",
      { className: "card thread", id, "aria-labelledby": `${id}-h` },
      heading,
      intro,
      log,
      form,
      closedNote,
      el("div", { className: "actions" }, close, dismiss),
    );
    return { node, heading, log, box, form, close, closedNote, dismiss };
  }

  function lineNode(m) {
    const mine = m.user_id === boot.user_id;
    const name = mine ? "You" : str(m.name) || nameOf(m.user_id);
    const role = ROLE_WORDS[m.role];
    const text = str(m.text);
    return el(
      "div",
      { className: `thread-line${mine ? " is-mine" : ""}` },
      el("p", { className: "thread-meta" }, el("strong", { text: name }), role ? " " : null, role ? el("span", { className: "badge", text: role }) : null, " ", el("time", { className: "muted", datetime: str(m.at), text: clock(m.at) })),
      m.note ? el("details", {}, el("summary", { text: NOTE_SHOW }), el("p", { text })) : el("p", { className: "thread-text", text }),
    );
  }

  function addLine(t, m, live) {
    if (!m || t.seen.has(m.id)) return;
    t.seen.add(m.id);
    t.nodes.log.append(lineNode(m));
    if (live && m.user_id !== boot.user_id) announce(`Private message from ${str(m.name) || nameOf(m.user_id)}.`);
  }

  function upsert(data, live) {
    const id = Number(data.id);
    let t = threads.get(id);
    if (!t) {
      t = { id, memberId: data.member_id, memberName: data.member_name, open: true, seen: new Set() };
      t.nodes = panel(t);
      threads.set(id, t);
      container.append(t.nodes.node);
      container.hidden = false;
      if (live && t.memberId === boot.user_id) announce(INVITE);
    }
    for (const m of Array.isArray(data.messages) ? data.messages : []) addLine(t, m, false);
    if (data.open === false) markClosed(t, "");
    if (opening.delete(t.memberId)) t.nodes.box.focus();
    return t;
  }

  function markClosed(t, by) {
    if (!t.open) return;
    t.open = false;
    const mine = t.memberId === boot.user_id;
    const closedByMe = (by === "member" && mine) || (by === "facilitator" && !mine && sentClose.has(t.id));
    if (closedByMe) {
      remove(t, mine ? "You closed the private conversation. You're welcome back in the group whenever you're ready." : `You closed the thread with ${who(t)}.`);
      return;
    }
    t.nodes.form.hidden = true;
    t.nodes.close.hidden = true;
    t.nodes.dismiss.hidden = false;
    t.nodes.closedNote.hidden = false;
    let words = mine ? "This private conversation was closed." : "This thread was closed.";
    if (mine && by === "facilitator") words = "The facilitator closed this private conversation. Thank you for talking with them.";
    if (!mine && by === "member") words = `${who(t)} closed this thread.`;
    t.nodes.closedNote.textContent = words;
    announce(words);
  }

  function remove(t, words) {
    const hadFocus = t.nodes.node.contains(document.activeElement);
    t.nodes.node.remove();
    threads.delete(t.id);
    container.hidden = threads.size === 0;
    if (words) announce(words);
    if (hadFocus) {
      const next = container.querySelector(".thread h2") || byId("chat-heading");
      if (next) {
        next.setAttribute("tabindex", "-1");
        next.focus();
      }
    }
  }

  // -------------------------------------------------------------- frames ---

  function onAck(frame) {
    if (frame.for === "thread.send") {
      const threadId = sending.get(frame.client_msg_id);
      sending.delete(frame.client_msg_id);
      const t = threads.get(threadId ?? frame.thread_id);
      if (!t) return;
      const notice = t.nodes.form.querySelector(".composer-notice");
      notice.textContent = str(frame.notice);
      if (frame.status !== "blocked") t.nodes.box.value = "";
      setError(t, "");
    }
  }

  function setError(t, words) {
    const node = t && t.nodes.form.querySelector(".inline-error");
    if (node) node.textContent = words;
  }

  function onError(frame) {
    let words = str(frame.detail) || "Something went wrong.";
    if (frame.code === "rate_limited" && frame.retry_after) words += ` You can send again in ${Math.ceil(frame.retry_after)} seconds.`;
    const threadId = sending.get(frame.client_msg_id);
    sending.delete(frame.client_msg_id);
    const t = threads.get(threadId);
    if (t) {
      setError(t, words);
    } else {
      const target = byId("fac-error") || byId("action-error");
      if (target) target.textContent = words;
    }
  }

  // Every open thread this person may see (after a join or a resume; none
  // when left out): one closed meanwhile is shown as closed.
  function restore(list) {
    const found = Array.isArray(list) ? list : [];
    const open = new Set(found.map((data) => upsert(data, false).id));
    for (const t of [...threads.values()]) if (!open.has(t.id)) markClosed(t, "");
  }

  // Returns true when the frame was a thread frame (room.js then skips it).
  function onFrame(frame) {
    const of = str(frame.for);
    switch (frame.type) {
      case "snapshot":
        // A role change (a co-facilitator demoted): keep only what this
        // person may still see. The server sends nothing more of the rest.
        if (frame.you && typeof frame.you.role === "string") {
          facilitates = Boolean(ROLE_WORDS[frame.you.role]);
          for (const t of [...threads.values()]) if (!facilitates && t.memberId !== boot.user_id) remove(t, "");
        }
        restore(frame.threads);
        return false; // room.js draws the rest
      case "resumed":
        restore(frame.threads);
        return false;
      case "thread":
        if (frame.thread) upsert(frame.thread, true);
        return true;
      case "thread.message": {
        const t = threads.get(Number(frame.thread_id));
        if (t) addLine(t, frame.message, true);
        return true;
      }
      case "thread.closed": {
        const t = threads.get(Number(frame.thread_id));
        if (t) markClosed(t, str(frame.by));
        return true;
      }
      case "ack":
        if (!of.startsWith("thread.")) return false;
        onAck(frame);
        return true;
      case "error":
        if (!of.startsWith("thread.")) return false;
        onError(frame);
        return true;
      default:
        return false;
    }
  }

  // ------------------------------------------------------------- actions ---

  function sendLine(t) {
    const text = t.nodes.box.value.trim();
    if (!text) {
      setError(t, "Write something first.");
      return;
    }
    const ref = newId("thread");
    if (!send({ type: "thread.send", thread_id: t.id, text, client_msg_id: ref })) {
      setError(t, "Not connected right now. Try again in a moment.");
      return;
    }
    sending.set(ref, t.id);
  }

  function reachOut(memberId) {
    const open = [...threads.values()].find((t) => t.open && t.memberId === memberId);
    if (open) {
      open.nodes.box.focus();
      return;
    }
    opening.add(memberId);
    if (!send({ type: "thread.open", user_id: memberId, client_msg_id: newId("thread.open") })) {
      opening.delete(memberId);
      const target = byId("fac-error");
      if (target) target.textContent = "Not connected right now. Try again in a moment.";
    }
  }

  // A button for room.js to place beside a member (the people list, a
  // safety alert); null for anyone who does not facilitate.
  function reachOutButton(memberId) {
    if (!facilitates || memberId === boot.user_id) return null;
    return el(
      "button",
      { type: "button", className: "secondary small", dataset: { reachOut: String(memberId), focusKey: `reach-${memberId}` } },
      "Reach out privately",
      el("span", { className: "sr-only", text: ` to ${nameOf(memberId)}` }),
    );
  }

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button") : null;
    if (!button) return;
    const d = button.dataset;
    if (d.reachOut) {
      reachOut(Number(d.reachOut));
    } else if (d.threadClose) {
      const t = threads.get(Number(d.threadClose));
      if (!t) return;
      sentClose.add(t.id);
      if (!send({ type: "thread.close", thread_id: t.id, client_msg_id: newId("thread.close") })) setError(t, "Not connected right now. Try again in a moment.");
    } else if (d.threadDismiss) {
      const t = threads.get(Number(d.threadDismiss));
      if (t) remove(t, "");
    }
  });
  container.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-thread-form]");
    if (!form) return;
    event.preventDefault();
    const t = threads.get(Number(form.dataset.threadForm));
    if (t) sendLine(t);
  });
  container.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || touchFirst) return;
    const form = event.target.closest("[data-thread-form]");
    if (!form || event.target.tagName !== "TEXTAREA") return;
    event.preventDefault();
    const t = threads.get(Number(form.dataset.threadForm));
    if (t) sendLine(t);
  });

  // The page stopped (signed out, no access): take every thread off it.
  function clear() {
    for (const t of [...threads.values()]) remove(t, "");
  }

  return { onFrame, reachOutButton, clear };
}
