// The live room: one WebSocket (docs/protocol.md), room state kept by
// sequence number, and the page drawn from that state.
//
// Safety rules for this file: names, chat and every other server string go
// in with textContent. The single exception is a plan item's `html`, which
// the server renders and sanitises; it is inserted from `item.html` only.
// Links that come in frames (the crisis card's) are used only after
// checking their scheme (tel:, sms:, https:, or a path on this site).

import { alertArrived, reportVisibility, startAttention } from "./attention.js";
import { el } from "./dom.js";
import { createThreads } from "./thread.js";

const boot = JSON.parse(document.getElementById("room-bootstrap").textContent);
const byId = (id) => document.getElementById(id);
// Private threads (thread.js) see every frame first.
const threads = createThreads({ boot, send, newId, nameOf, announce });

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const RETRY_BASE_MS = 1_000;
const RETRY_CAP_MS = 30_000;
const LOG_LIMIT = 400;
const OPEN_STATUSES = ["open", "live", "paused"];
const FACILITATOR_FRAMES = /^(room\.|lobby\.|queue\.|prompt\.|timer\.|pin\.|alert\.|message\.|member\.|held\.|safety\.)/;
const STATUS_WORDS = {
  scheduled: "Not open yet",
  open: "Lobby open",
  live: "Live",
  paused: "Paused",
  ended: "Ended",
};
const ROLE_WORDS = { facilitator: "Facilitator", cofacilitator: "Co-facilitator" };
const HIDDEN_WORDS = "This message was hidden by a facilitator";
const NOTE_SHOW = "This message may be hard to read — show it";
const NOTE_HIDE = "Hide it again";
const HELD_WORDS = "Your message is waiting for a facilitator. Thank you for your patience.";
const REPORT_THANKS = "Thank you. A facilitator will look at it. The author won't know who reported.";
// Safety alerts, most urgent first (safety.models.SEVERITY; a worry about
// someone else with a time or a plan ranks just below imminent). Plain
// words only: never what the message said, never how.
const SEVERITY = { not_safe: 50, imminent: 50, third_party_urgent: 45, method: 40, third_party: 30, asked_support: 20, concern: 20, flag: 10 };
const TIER_WORDS = {
  // What members asked for themselves (docs/safety.md, "Asking for help").
  not_safe: { label: "Urgent", says: (who) => `${who} said they're not safe right now.`, todo: "Reach out to them privately now. If they may be in immediate danger, follow your group's safety plan and contact emergency services." },
  asked_support: { label: "Asked for support", says: (who) => `${who} would like support.`, todo: "Check in with them privately and share the crisis resources." },
  imminent: { label: "Urgent", says: (who) => `${who} may be in danger right now.`, todo: "Reach out to them privately now. If they may be in immediate danger, follow your group's safety plan and contact emergency services." },
  third_party_urgent: { label: "Urgent", says: (who) => `${who} is worried that someone else may be in danger soon.`, todo: "Check in with them privately and share the help-someone-else resources." },
  method: { label: "Urgent", says: (who) => `${who} wrote something that isn't safe to share with the group. It was held.`, todo: "Reach out to them privately and share the crisis resources." },
  third_party: { label: "Someone else", says: (who) => `${who} is worried about someone else.`, todo: "Check in with them privately and share the help-someone-else resources." },
  concern: { label: "Concern", says: (who) => `${who} may be struggling.`, todo: "Check in with them privately and share the crisis resources." },
  flag: { label: "Word filter", says: (who) => `A word filter flagged a message from ${who}.`, todo: "Have a look when you can." },
};
const HELD_WHY = {
  imminent: "held for safety",
  method: "held for safety",
  third_party: "held for review: a worry about someone else",
  concern: "held for review: the group's policy",
  none: "held by a word filter",
};
const MUTE_CHOICES = [
  { minutes: 5, words: "5 min" },
  { minutes: 15, words: "15 min" },
  { minutes: 60, words: "60 min" },
  { minutes: 0, words: "this session" },
];
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
// Phones have no Shift+Enter: there Enter starts a new line and Send sends.
const touchFirst = window.matchMedia("(pointer: coarse)").matches;

// ---------------------------------------------------------------- state ---

const room = {
  seq: null, // highest applied sequence number; null until admitted
  status: "unknown",
  admitted: false,
  waiting: false,
  you: { user_id: boot.user_id, name: "", role: boot.role },
  people: new Map(), // user id -> {name, role}
  present: new Set(),
  queue: [],
  speaking: null,
  spoken: [],
  planIndex: -1,
  plan: [],
  item: null, // the prompt on screen
  timer: { deadline: null, seconds: 0, remaining: null },
  pinned: "",
  locked: false,
  checkins: { in: null, out: null },
  clockOffset: 0, // server time minus local time, in ms
  mutedUntil: null, // ms (server clock) while a facilitator has muted this person
  // Facilitators only.
  lobby: [],
  autoAdmit: false,
  alerts: [],
  safetyAlerts: [],
  held: [],
  mutes: new Map(), // user id -> ISO time their mute ends, as far as this page knows
};

const conn = {
  ws: null,
  everConnected: false,
  opened: false,
  stopped: false,
  attempt: 0,
  failedHandshakes: 0,
  resuming: false,
  retryTimer: 0,
  pingTimer: 0,
  pongTimer: 0,
  nextId: 1,
};

// What this person has done in this room, kept for the tab's lifetime so
// a reload doesn't ask for a check-in twice.
const memoryKey = `hearth-room-${boot.meeting_id}-${boot.user_id}`;
const mine = loadMemory();
let pendingChat = null; // {id, text} until the server acks it
let wantCheckout = false;
let timeUpAnnounced = false;

// Chat messages on screen, by seq: enough to redraw one when it is hidden
// or shown again. Per viewer: which content-noted messages are open, what
// this person reported.
const shownMessages = new Map(); // seq -> {at, data}
const openNotes = new Set();
const reported = new Set();
let reporting = null; // {seq, ref} while the report form is open or sending
let muteTimer = 0;
// Facilitators: the person whose moderation controls are open, a pending
// "are you sure?", and mutes sent but not yet acknowledged (by client id).
let openPerson = null;
let facConfirm = null;
const pendingMutes = new Map();

function loadMemory() {
  try {
    return { in: false, out: false, skipped: {}, ...JSON.parse(sessionStorage.getItem(memoryKey) || "{}") };
  } catch {
    return { in: false, out: false, skipped: {} };
  }
}

function saveMemory() {
  try {
    sessionStorage.setItem(memoryKey, JSON.stringify(mine));
  } catch {
    // Private browsing without storage: the form simply shows again.
  }
}

// -------------------------------------------------------------- helpers ---


function show(node, visible) {
  if (node) node.hidden = !visible;
}

function setText(id, text) {
  const node = byId(id);
  if (node && node.textContent !== text) node.textContent = text;
}

// Replace a list's items without losing keyboard focus: the focused
// control is found again by its data-focus-key after the redraw.
function replaceKeepingFocus(container, nodes) {
  if (!container) return;
  // Unchanged: leave the DOM (and a screen reader's place) alone.
  if (nodes.map((node) => node.outerHTML).join("") === container.innerHTML) return;
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focusKey : null;
  container.replaceChildren(...nodes);
  if (key) {
    const again = container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again && !again.disabled) {
      again.focus();
    } else {
      // The control went away (admitted, acknowledged): keep the keyboard
      // nearby, on the block's heading, instead of losing it to <body>.
      const heading = container.closest(".fac-block, section")?.querySelector("h2, h3");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    }
  }
}

function focusHeading(heading) {
  if (!heading) return;
  heading.setAttribute("tabindex", "-1");
  heading.focus();
}

function nameOf(userId) {
  if (userId === room.you.user_id && room.you.name) return room.you.name;
  return room.people.get(userId)?.name || "Someone";
}

function isMe(userId) {
  return userId === boot.user_id;
}

function serverNow() {
  return Date.now() + room.clockOffset;
}

function clock(iso) {
  const when = iso ? new Date(iso) : new Date();
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function minutesSeconds(total) {
  const s = Math.max(0, Math.round(total));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function ordinal(n) {
  return ["first", "second", "third", "fourth", "fifth"][n - 1] || `number ${n}`;
}

function isOpen() {
  return OPEN_STATUSES.includes(room.status);
}

function announce(text) {
  const region = byId("announcer");
  // Clear first so the same words twice in a row are read twice.
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 60);
}

// ----------------------------------------------------------- connection ---

function wsUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${boot.ws_path}`;
}

function connect() {
  window.clearTimeout(conn.retryTimer);
  if (conn.stopped) return;
  showConnection(conn.everConnected ? "reconnecting" : "connecting");
  let ws;
  try {
    ws = new WebSocket(wsUrl());
  } catch {
    scheduleReconnect();
    return;
  }
  conn.ws = ws;
  conn.opened = false;
  ws.addEventListener("open", () => {
    if (ws !== conn.ws) return;
    conn.opened = true;
    conn.failedHandshakes = 0;
    hello();
    startPing();
  });
  ws.addEventListener("message", (message) => {
    if (ws !== conn.ws) return;
    window.clearTimeout(conn.pongTimer);
    onFrame(message.data);
  });
  ws.addEventListener("close", (event) => {
    if (ws !== conn.ws) return;
    onClose(event);
  });
}

function hello() {
  if (room.admitted && room.seq !== null) {
    conn.resuming = true;
    send({ type: "resume", after_seq: room.seq });
  } else {
    send({ type: "join" });
  }
}

function onClose(event) {
  conn.ws = null;
  stopPing();
  if (event.code === 4401) return stop("signed-out", "Signed out");
  if (event.code === 4403) return stop("no-access", "No access");
  if (event.code === 4429) return stop("too-many", "Not connected");
  if (!conn.opened) {
    conn.failedHandshakes += 1;
    // A refusal at the handshake reaches the browser as a bare 1006; ask
    // the page itself whether we are still signed in and still a member.
    if (conn.failedHandshakes >= 2) checkAccess();
  }
  scheduleReconnect();
}

function scheduleReconnect() {
  if (conn.stopped) return;
  // Exponential backoff with full jitter: a whole group reconnecting after
  // a server restart spreads out instead of arriving at once.
  const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** conn.attempt);
  const delay = Math.random() * ceiling;
  conn.attempt += 1;
  showConnection(conn.everConnected ? "reconnecting" : "connecting");
  conn.retryTimer = window.setTimeout(connect, delay);
}

async function checkAccess() {
  try {
    const response = await fetch(window.location.href, {
      credentials: "same-origin",
      redirect: "manual",
      cache: "no-store",
    });
    if (response.type === "opaqueredirect") stop("signed-out", "Signed out");
    else if (response.status === 403 || response.status === 404) stop("no-access", "No access");
  } catch {
    // Offline: keep retrying quietly.
  }
}

function stop(stage, statusText) {
  conn.stopped = true;
  window.clearTimeout(conn.retryTimer);
  stopPing();
  if (conn.ws) {
    const ws = conn.ws;
    conn.ws = null;
    ws.close();
  }
  showConnection("stopped", statusText);
  threads.clear(); // signed out or no access: no private words left on screen
  room.stopStage = stage;
  render();
}

function drop() {
  // A socket that stopped answering: give up on it at once and reconnect.
  const ws = conn.ws;
  if (!ws) return;
  conn.ws = null;
  stopPing();
  ws.close();
  scheduleReconnect();
}

function startPing() {
  stopPing();
  conn.pingTimer = window.setInterval(() => {
    if (!send({ type: "ping" })) return;
    window.clearTimeout(conn.pongTimer);
    conn.pongTimer = window.setTimeout(drop, PONG_WITHIN_MS);
  }, PING_EVERY_MS);
}

function stopPing() {
  window.clearInterval(conn.pingTimer);
  window.clearTimeout(conn.pongTimer);
}

function send(frame) {
  const ws = conn.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(frame));
  return true;
}

function newId(prefix) {
  conn.nextId += 1;
  return `${prefix}-${Date.now().toString(36)}-${conn.nextId}`;
}

// Send an action; say so next to the control if the socket is down.
function act(type, fields = {}, errorId = null) {
  const sent = send({ type, client_msg_id: newId(type), ...fields });
  if (!sent) {
    const target = errorId || (FACILITATOR_FRAMES.test(type) ? "fac-error" : "action-error");
    setText(target, "Not connected right now. Try again in a moment.");
  }
  return sent;
}

function showConnection(state, text) {
  const node = byId("connection");
  const words = { connecting: "Connecting…", connected: "Connected", reconnecting: "Reconnecting…" };
  node.dataset.state = state;
  setText("connection", text || words[state]);
}

function connected() {
  conn.everConnected = true;
  conn.attempt = 0;
  showConnection("connected");
  if (boot.facilitates) reportVisibility(conn.ws);
  if (pendingChat) {
    // Same client id: if the first try was stored, the server acks it
    // again instead of storing it twice.
    send({ type: "chat.send", text: pendingChat.text, client_msg_id: pendingChat.id });
  }
}

// --------------------------------------------------------------- frames ---

function onFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    return;
  }
  if (threads.onFrame(frame)) return;
  switch (frame.type) {
    case "snapshot":
      applySnapshot(frame);
      break;
    case "event":
      onEvent(frame);
      break;
    case "events":
      // Several events in one frame (sent in bursts): each as if alone.
      for (const event of frame.events || []) onEvent(event);
      break;
    case "pong":
      // The server's latest seq: a lost last broadcast shows up here.
      if (
        typeof frame.seq === "number" &&
        room.admitted &&
        room.seq !== null &&
        frame.seq > room.seq &&
        !conn.resuming
      ) {
        conn.resuming = true;
        send({ type: "resume", after_seq: room.seq });
      }
      break;
    case "resumed":
      conn.resuming = false;
      connected();
      // Lobby and alerts are private frames outside the sequence: after a
      // gap a facilitator needs a fresh snapshot to see them.
      if (boot.facilitates) send({ type: "join" });
      render();
      break;
    case "resync_required":
      conn.resuming = true; // a snapshot follows
      break;
    case "ack":
      onAck(frame);
      break;
    case "error":
      onError(frame);
      break;
    case "lobby":
      onLobby(frame.lobby || []);
      break;
    case "alert":
      onAlert(frame);
      break;
    case "crisis_card":
      showCrisisCard(frame.card);
      break;
    case "gentle_checkin":
      showGentleCheckin();
      break;
    case "notice":
      showNotice(frame.text);
      break;
    case "muted":
      setMuted(frame.until);
      break;
    case "unmuted":
      setMuted(null);
      break;
    case "plan":
      onPlan(frame.plan);
      break;
    case "safety_alert":
      onSafetyAlert(frame);
      break;
    case "safety_alerts": // the open ones, again, after a resume
      onOpenSafetyAlerts(frame.alerts);
      break;
    case "safety_alert_cleared": // acknowledged, here or by someone else
      if (!isMe(frame.by) && room.safetyAlerts.some((a) => a.id === frame.id)) {
        announce(`${nameOf(frame.by)} acknowledged a safety alert and is following up.`);
      }
      room.safetyAlerts = room.safetyAlerts.filter((a) => a.id !== frame.id);
      render();
      break;
    case "held":
      onHeld(frame);
      break;
    case "held_decided":
      room.held = room.held.filter((h) => h.id !== frame.id);
      if (facConfirm && facConfirm.heldId === frame.id) facConfirm = null;
      render();
      break;
    default:
      break; // pong, and anything newer than this page
  }
}

function applySnapshot(s) {
  conn.resuming = false;
  if (s.server_time) room.clockOffset = Date.parse(s.server_time) - Date.now();
  room.status = s.status;
  room.admitted = Boolean(s.admitted);
  room.waiting = Boolean(s.waiting);
  if (s.you) room.you = s.you;
  if (room.admitted && s.state) {
    const st = s.state;
    room.status = st.status;
    room.queue = st.queue || [];
    room.speaking = st.speaking ?? null;
    room.spoken = st.spoken || [];
    room.planIndex = st.plan_index ?? -1;
    room.timer = st.timer || { deadline: null, seconds: 0, remaining: null };
    room.pinned = st.pinned || "";
    room.locked = Boolean(st.locked);
    room.people = new Map(Object.entries(s.people || {}).map(([id, p]) => [Number(id), p]));
    room.present = new Set(s.present || []);
    room.plan = s.plan || [];
    room.item = room.planIndex >= 0 ? room.plan[room.planIndex] || room.item : null;
    room.checkins = { in: null, out: null, ...(s.checkins || {}) };
    if (boot.facilitates) {
      room.lobby = s.lobby || [];
      room.autoAdmit = Boolean(s.auto_admit);
      room.alerts = (s.alerts || []).map((a) => ({ ...a, name: a.name || nameOf(a.user_id) }));
      const seen = new Set(room.safetyAlerts.map((a) => a.id));
      room.safetyAlerts = Array.isArray(s.safety_alerts) ? s.safety_alerts : [];
      if (room.safetyAlerts.some((a) => !seen.has(a.id))) alertArrived();
      room.held = Array.isArray(s.held) ? s.held : [];
    }
    const history = s.history || [];
    const continues =
      room.seq !== null &&
      (history.length ? history[0].seq <= room.seq + 1 : s.seq <= room.seq);
    if (!continues) {
      clearLog(room.seq !== null);
      history.forEach((event) => logEvent(event, false));
    } else {
      history.filter((event) => event.seq > room.seq).forEach((event) => logEvent(event, false));
    }
    room.seq = s.seq;
  } else {
    room.seq = null;
  }
  connected();
  render();
}

function onEvent(frame) {
  if (room.seq === null || !room.admitted) return;
  if (frame.seq <= room.seq) return; // already applied
  if (frame.seq > room.seq + 1) {
    // A gap: ask for what is missing; the events arrive again in order.
    if (!conn.resuming) {
      conn.resuming = true;
      send({ type: "resume", after_seq: room.seq });
    }
    return;
  }
  room.seq = frame.seq;
  applyEvent(frame);
  logEvent(frame, true);
  render();
}

function setQueue(data) {
  if (Array.isArray(data.queue)) room.queue = data.queue;
  if ("speaking" in data) room.speaking = data.speaking;
}

function applyEvent(frame) {
  const d = frame.data || {};
  switch (frame.kind) {
    case "room.status": {
      room.status = d.status;
      if (d.timer) room.timer = d.timer;
      if (d.status === "ended") {
        room.queue = [];
        room.speaking = null;
        room.lobby = [];
        room.timer = { deadline: null, seconds: 0, remaining: null };
      }
      // (The plan, frozen when the room opens, reaches facilitators in a
      // `plan` frame.)
      break;
    }
    case "room.locked":
      room.locked = Boolean(d.on);
      break;
    case "room.auto_admit":
      room.autoAdmit = Boolean(d.on);
      room.lobby = room.lobby.filter((p) => !(d.admitted || []).includes(p.user_id));
      break;
    case "member.admitted":
      room.lobby = room.lobby.filter((p) => p.user_id !== d.user_id);
      break;
    case "member.removed":
      room.present.delete(d.user_id);
      room.mutes.delete(d.user_id);
      if (openPerson === d.user_id) openPerson = null;
      setQueue(d);
      break;
    case "presence.joined":
      room.people.set(d.user_id, { name: d.name, role: d.role });
      room.present.add(d.user_id);
      break;
    case "presence.left":
      room.present.delete(d.user_id);
      break;
    case "hand.raised":
      setQueue(d);
      if (isMe(d.user_id)) {
        const place = room.queue.indexOf(boot.user_id) + 1;
        announce(`Your hand is up. You're ${ordinal(place)} in the queue.`);
      }
      break;
    case "hand.lowered":
      setQueue(d);
      if (isMe(d.user_id)) announce("Your hand is down.");
      break;
    case "member.passed":
      setQueue(d);
      if (isMe(d.user_id)) announce("You passed. That's always okay.");
      break;
    case "speaker.called":
      if (room.speaking !== null && !room.spoken.includes(room.speaking)) room.spoken.push(room.speaking);
      setQueue(d);
      break;
    case "queue.updated":
      if (room.speaking !== null && d.speaking === null && !d.skipped && !room.spoken.includes(room.speaking)) {
        room.spoken.push(room.speaking);
      }
      setQueue(d);
      if (d.skipped !== undefined && isMe(d.skipped)) announce("The facilitator lowered your hand.");
      break;
    case "prompt.shown":
      room.planIndex = d.index;
      room.item = d.item || room.plan[d.index] || null;
      if (d.timer) room.timer = d.timer;
      timeUpAnnounced = false;
      break;
    case "timer.set":
      room.timer = d.timer;
      timeUpAnnounced = false;
      break;
    case "pin.set":
      room.pinned = d.text || "";
      break;
    case "checkin.summary":
      room.checkins[d.phase] = d;
      break;
    default:
      break; // kinds this page doesn't draw still advance the sequence
  }
}

function onAck(frame) {
  switch (frame.for) {
    case "chat.send":
      if (pendingChat && frame.client_msg_id === pendingChat.id) {
        pendingChat = null;
        setText("composer-error", "");
        if (frame.status === "blocked") {
          // Not sent: the words stay, so nothing is lost. The `notice`
          // that follows says why.
          showNotice("This message wasn't sent.");
        } else {
          byId("composer-text").value = "";
          updateCount();
          if (frame.status === "held") showNotice(HELD_WORDS);
        }
      }
      break;
    case "report":
      if (reporting && frame.client_msg_id === reporting.ref) reportDone();
      break;
    case "safety.ack":
      room.safetyAlerts = room.safetyAlerts.filter((a) => `safety.ack-${a.id}` !== frame.client_msg_id);
      break;
    case "member.mute": {
      // This ack carries no client id: mutes are answered in order.
      const [ref, userId] = pendingMutes.entries().next().value || [];
      if (ref) pendingMutes.delete(ref);
      if (userId !== undefined && frame.until) {
        room.mutes.set(userId, frame.until);
        announce(`${nameOf(userId)} can write again at ${clock(frame.until)}.`);
      }
      break;
    }
    case "member.unmute": {
      const userId = Number(String(frame.client_msg_id || "").split("-")[1]);
      if (room.mutes.delete(userId)) announce(`${nameOf(userId)} can write again now.`);
      break;
    }
    case "checkin": {
      const phase = checkinPhaseSent;
      if (phase) {
        mine[phase] = true;
        saveMemory();
        if (phase === "out") wantCheckout = false;
        setText("checkin-thanks", phase === "in" ? "Thank you for checking in." : "Thank you for checking out. Take care of yourself after the session.");
        byId("checkin-form").reset();
      }
      break;
    }
    case "moment":
      show(byId("moment-note"), true);
      announce("Only the facilitators were told. Take the time you need.");
      break;
    case "alert.ack":
      room.alerts = room.alerts.filter((a) => `alert.ack-${a.id}` !== frame.client_msg_id);
      break;
    case "support.request":
    case "support.not_safe":
      announce("Your facilitators have been told privately.");
      break;
    default:
      break;
  }
  render();
}

function onError(frame) {
  let words = frame.detail || "Something went wrong.";
  if (frame.code === "rate_limited" && frame.retry_after) {
    words += ` You can send again in ${Math.ceil(frame.retry_after)} seconds.`;
  }
  if (frame.code === "muted" && frame.until) {
    // (The composer stays usable: the text is kept and the words say when.
    // Only a facilitator's `muted` frame rests it.)
    words += ` You can write again at ${clock(frame.until)}.`;
  }
  const of = frame.for || "";
  if (of === "support.not_safe") {
    notSafeByPost(); // the help page shows the card and tells the facilitators
    return;
  }
  if (frame.client_msg_id) pendingMutes.delete(frame.client_msg_id);
  if (of === "report" && reporting && frame.client_msg_id === reporting.ref) {
    reporting.ref = null;
    byId("report-send").disabled = false;
    setText("report-error", words);
    return;
  }
  if (of === "chat.send") {
    // Keep the text so nothing is lost; the person can try again.
    pendingChat = null;
    setText("composer-error", words);
  } else if (of === "checkin") {
    setText("checkin-error", words);
  } else if (FACILITATOR_FRAMES.test(of)) {
    setText("fac-error", words);
  } else if (of === "join" || of === "resume" || of === "ping" || !of) {
    return; // protocol housekeeping; the connection logic recovers
  } else {
    setText("action-error", words);
  }
  render();
}

function onLobby(lobby) {
  const before = new Set(room.lobby.map((p) => p.user_id));
  room.lobby = lobby;
  const arrived = lobby.filter((p) => !before.has(p.user_id));
  if (arrived.length) announce(`${arrived.map((p) => p.name).join(", ")} is waiting in the lobby.`);
  render();
}

function onAlert(frame) {
  const alert = { ...frame, name: frame.name || nameOf(frame.user_id), at: frame.at || new Date().toISOString() };
  if (alert.id !== undefined && room.alerts.some((a) => a.id === alert.id)) return;
  if (alert.id === undefined) alert.localId = newId("alert");
  room.alerts = [...room.alerts, alert];
  announce(alertWords(alert));
  render();
}

function alertWords(alert) {
  if (alert.kind === "moment") return `${alert.name} needs a moment.`;
  if (alert.kind === "flood") return `${alert.name} is sending messages too fast and has been paused for a few minutes.`;
  return `${alert.name}: ${alert.kind}`;
}

function onPlan(plan) {
  if (!boot.facilitates || !Array.isArray(plan)) return;
  room.plan = plan;
  if (room.planIndex >= 0 && !room.item) room.item = room.plan[room.planIndex] || null;
  render();
}

function onSafetyAlert(frame) {
  // A repeat of an open alert comes again with the same id and a new count.
  const known = room.safetyAlerts.some((a) => a.id === frame.id);
  room.safetyAlerts = [...room.safetyAlerts.filter((a) => a.id !== frame.id), frame];
  if (!known) {
    const words = safetyWords(frame);
    announce(`Safety alert. ${words.says}`);
    alertArrived();
  }
  render();
}

function onOpenSafetyAlerts(alerts) {
  if (!Array.isArray(alerts)) return;
  const known = new Set(room.safetyAlerts.map((a) => a.id));
  room.safetyAlerts = alerts;
  if (alerts.some((a) => !known.has(a.id))) alertArrived();
  render();
}

function onHeld(frame) {
  if (room.held.some((h) => h.id === frame.id)) return;
  room.held = [...room.held, frame];
  announce(`A message from ${frame.name || nameOf(frame.user_id)} is waiting for review.`);
  render();
}

function tierKey(alert) {
  const reasons = Array.isArray(alert.reasons) ? alert.reasons : [];
  if (reasons.includes("member.not_safe")) return "not_safe";
  if (reasons.includes("member.asked_support")) return "asked_support";
  if (alert.tier === "third_party" && reasons.includes("third_party.urgent")) return "third_party_urgent";
  return TIER_WORDS[alert.tier] ? alert.tier : "flag";
}

function safetyWords(alert) {
  const key = tierKey(alert);
  const words = TIER_WORDS[key];
  return { key, label: words.label, says: words.says(nameOf(alert.user_id)), todo: words.todo };
}

function sortedSafetyAlerts() {
  return [...room.safetyAlerts].sort(
    (a, b) => SEVERITY[tierKey(b)] - SEVERITY[tierKey(a)] || Date.parse(a.at) - Date.parse(b.at) || a.id - b.id,
  );
}

// ---------------------------------------------------------------- care ---

// A link from a frame, only if it is what it claims to be.
function safeHref(value, scheme) {
  if (typeof value !== "string" || !value) return null;
  if (!value.toLowerCase().startsWith(scheme)) return null;
  if (/[\s"'<>\\`]/.test(value) || /[\u0000-\u001f\u007f]/.test(value)) return null;
  if (scheme === "https:") {
    try {
      if (new URL(value).protocol !== "https:") return null;
    } catch {
      return null;
    }
  }
  return value;
}

// A page on this site ("/support/?country=US"), never another origin.
function sitePath(value) {
  if (typeof value !== "string" || !/^\/(?![/\\])/.test(value)) return null;
  if (/[\s"'<>\\`]/.test(value) || /[\u0000-\u001f\u007f]/.test(value)) return null;
  return value;
}

function str(value) {
  return typeof value === "string" ? value : "";
}

// One resource, as templates/safety/_resource.html draws it.
function resourceNode(r) {
  const name = str(r.name);
  const call = safeHref(r.phone_href, "tel:");
  const text = safeHref(r.sms_href, "sms:");
  const site = safeHref(r.url, "https:");
  const about = [str(r.kind_label), str(r.hours)].filter(Boolean).join(" · ");
  const actions = el(
    "p",
    { className: "actions" },
    call && str(r.phone) ? el("a", { className: "button", href: call }, `Call ${r.phone}`) : null,
    text && str(r.sms)
      ? el("a", { className: "button secondary", href: text }, r.sms_keyword ? `Text ${r.sms_keyword} to ${r.sms}` : `Text ${r.sms}`)
      : null,
    site
      ? el("a", { href: site, rel: "noopener noreferrer", target: "_blank" }, "Website", el("span", { className: "sr-only", text: ` of ${name} (opens in a new tab)` }))
      : null,
  );
  const languages = str(r.languages) ? `Languages: ${r.languages}. ` : "";
  return el(
    "li",
    { className: "resource" },
    el(
      "p",
      {},
      el("strong", { text: name }),
      r.is_example ? " " : null,
      r.is_example ? el("span", { className: "badge", text: "Example" }) : null,
      about ? " " : null,
      about ? el("span", { className: "muted", text: about }) : null,
    ),
    str(r.what_to_expect) ? el("p", { text: r.what_to_expect }) : null,
    actions.childElementCount ? actions : null,
    el("p", {
      className: "muted",
      // Unconfirmed entries say so, as on the support page (docs/safety.md).
      text: r.verified
        ? `${languages}Last checked ${str(r.last_verified)}.`
        : `${languages}Not yet checked by Hearth with the service itself: please confirm on its website.`,
    }),
  );
}

// The crisis card, drawn from the frame alone: it works on a page loaded
// long before. Focus goes to its heading; nothing else is blocked.
function showCrisisCard(card) {
  if (!card || typeof card !== "object") return;
  const region = byId("crisis");
  const resources = Array.isArray(card.resources) ? card.resources : [];
  const pinned = Array.isArray(card.pinned) ? card.pinned : [];
  region.dataset.variant = card.variant === "someone_else" ? "someone_else" : "self";
  setText("crisis-title", str(card.title) || "You don't have to carry this alone");
  setText("crisis-hope", str(card.hope) || "Feelings like these can ease, and support is available right now.");
  const notice = str(card.notice);
  show(byId("crisis-notice"), Boolean(notice));
  setText("crisis-notice", notice);
  setText("crisis-body", str(card.body));
  show(byId("crisis-body"), Boolean(str(card.body)));
  byId("crisis-resources").replaceChildren(...resources.map(resourceNode));
  show(byId("crisis-pinned"), pinned.length > 0);
  byId("crisis-pinned-list").replaceChildren(...pinned.map(resourceNode));
  const emergency = card.emergency && typeof card.emergency === "object" ? card.emergency : {};
  const words = str(emergency.text) || "In immediate danger? Call your local emergency number.";
  const call = safeHref(emergency.href, "tel:");
  byId("crisis-emergency").replaceChildren(call ? el("a", { href: call, text: words }) : words);
  byId("crisis-more").href = sitePath(card.more_url) || region.dataset.supportUrl;
  region.hidden = false;
  const heading = byId("crisis-title");
  heading.focus({ preventScroll: true });
  region.scrollIntoView({ block: "nearest", behavior: reducedMotion.matches ? "auto" : "smooth" });
}

function closeCrisisCard() {
  const region = byId("crisis");
  if (region.hidden) return;
  const hadFocus = region.contains(document.activeElement);
  region.hidden = true;
  if (hadFocus) {
    const box = byId("composer-text");
    if (!box.disabled) box.focus();
    else focusHeading(byId("chat-heading"));
  }
}

// A private line beside the composer (held, blocked, muted). The support
// page's address in it becomes a link.
function showNotice(text) {
  const node = byId("composer-notice");
  const words = str(text).trim();
  if (!words) {
    node.replaceChildren();
    return;
  }
  const support = byId("crisis").dataset.supportUrl;
  const at = support ? words.indexOf(support) : -1;
  if (at < 0) {
    node.replaceChildren(words);
  } else {
    node.replaceChildren(
      words.slice(0, at),
      el("a", { href: support, text: "Get support" }),
      words.slice(at + support.length),
    );
  }
}

// Muted by a facilitator until `until` (ISO), or no longer (null). Only the
// server decides; the page rests the composer and wakes it at the time.
function setMuted(until) {
  window.clearTimeout(muteTimer);
  const end = until ? Date.parse(until) : NaN;
  if (Number.isNaN(end) || end <= serverNow()) {
    const was = room.mutedUntil !== null;
    room.mutedUntil = null;
    if (was) announce("You can write again.");
    render();
    return;
  }
  const fresh = room.mutedUntil !== end;
  room.mutedUntil = end;
  // Timers are capped near 24.8 days; a longer mute is simply checked again.
  const wait = Math.min(end - serverNow() + 250, 2_000_000_000);
  muteTimer = window.setTimeout(() => setMuted(new Date(end).toISOString()), wait);
  if (fresh) announce(`A facilitator has paused your messages for now. You can write again at ${clock(until)}.`);
  render();
}

function mutedNow() {
  return room.mutedUntil !== null && room.mutedUntil > serverNow();
}

// ------------------------------------------------------------------ log ---

function clearLog(withGapNote) {
  const log = byId("chat-log");
  shownMessages.clear();
  log.replaceChildren(
    withGapNote
      ? el("p", { className: "log-note", text: "Earlier messages are not shown." })
      : el("p", { className: "log-note log-empty", id: "chat-empty", text: "Messages from the group appear here." }),
  );
}

function logEvent(frame, live) {
  const d = frame.data || {};
  let node = null;
  switch (frame.kind) {
    case "chat.message":
      node = chatNode(frame, d);
      break;
    case "reaction": {
      const button = document.querySelector(`.reaction[data-emoji="${CSS.escape(String(d.emoji))}"]`);
      const glyph = button ? button.dataset.glyph : "";
      const label = button ? button.dataset.label : String(d.emoji);
      node = note(`${nameOf(d.user_id)} sent ${label}`, glyph, "log-reaction");
      break;
    }
    case "member.passed":
      node = note(isMe(d.user_id) ? "You passed." : `${nameOf(d.user_id)} passed.`);
      break;
    case "speaker.called":
      node = note(isMe(d.user_id) ? "It's your turn." : `${nameOf(d.user_id)} has the floor.`, "", "log-turn");
      break;
    case "prompt.shown": {
      const title = (d.item && d.item.title) || room.plan[d.index]?.title || "a new prompt";
      node = note(`New prompt: ${title}`, "", "log-prompt");
      break;
    }
    case "room.status": {
      const words = {
        open: "The lobby is open.",
        live: "The session is live.",
        paused: "The facilitator paused the session.",
        ended: "The session has ended. Thank you for being here.",
      };
      if (words[d.status]) node = note(words[d.status], "", "log-status");
      break;
    }
    case "room.locked":
      node = note(d.on ? "The facilitator paused the chat for now." : "The chat is open again.");
      break;
    case "pin.set":
      node = note(d.text ? "The facilitator pinned a note." : "The facilitator unpinned the note.");
      break;
    case "message.hidden": {
      // A tombstone in place, for everyone; the text is gone from here too.
      const known = shownMessages.get(d.seq);
      if (known) redrawMessage(d.seq, { ...known.data, text: undefined, hidden: true });
      if (reporting && reporting.seq === d.seq && !reporting.ref) closeReport();
      break;
    }
    case "message.unhidden":
      // An "unhidden" from before a later hide comes back hidden itself,
      // without the text: the tombstone stays.
      if (shownMessages.has(d.seq) && !d.hidden && typeof d.text === "string") {
        redrawMessage(d.seq, { ...d, hidden: false });
      }
      break;
    default:
      break;
  }
  if (!node) return;
  appendToLog(node, live);
}

function messageNode(seq) {
  return byId("chat-log").querySelector(`.msg[data-seq="${CSS.escape(String(seq))}"]`);
}

// Redraw one message in place; a control inside it keeps the keyboard.
function redrawMessage(seq, data) {
  const known = shownMessages.get(seq);
  const old = messageNode(seq);
  if (!known || !old) return;
  const focusKey = old.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
  const fresh = chatNode({ seq, at: known.at }, data);
  old.replaceWith(fresh);
  if (focusKey) {
    const again = fresh.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
    (again || fresh.querySelector("button") || byId("chat-log")).focus();
  }
}

function redrawAllMessages() {
  for (const [seq, known] of shownMessages) redrawMessage(seq, known.data);
}

function note(text, glyph = "", extra = "") {
  const node = el("p", { className: `log-note ${extra}`.trim() });
  if (glyph) node.append(el("span", { "aria-hidden": "true", className: "log-glyph", text: glyph }), " ");
  node.append(text);
  return node;
}

function chatNode(frame, d) {
  const seq = frame.seq;
  shownMessages.set(seq, { at: frame.at, data: d });
  const own = isMe(d.user_id);
  const name = d.name || nameOf(d.user_id);
  const when = clock(frame.at);
  const which = ` the message from ${own ? "you" : name} at ${when}`;
  let action = null;
  if (boot.facilitates) {
    const hide = !d.hidden;
    action = el(
      "button",
      { type: "button", className: "msg-action", dataset: { focusKey: `mod-${seq}`, [hide ? "hide" : "unhide"]: String(seq) } },
      hide ? "Hide" : "Unhide",
      el("span", { className: "sr-only", text: which }),
    );
  } else if (!own && !d.hidden) {
    action = reported.has(seq)
      ? el("span", { className: "msg-reported muted", text: "Reported" })
      : el(
          "button",
          { type: "button", className: "msg-action", dataset: { focusKey: `report-${seq}`, report: String(seq) } },
          "Report",
          el("span", { className: "sr-only", text: which }),
        );
  }
  const meta = el(
    "p",
    { className: "msg-meta" },
    el("span", { className: "msg-name", text: own ? `${name} (you)` : name }),
    ROLE_WORDS[d.role] ? el("span", { className: "badge", text: ROLE_WORDS[d.role] }) : null,
    el("time", { className: "msg-time", datetime: frame.at, text: when }),
    action,
  );
  let body;
  let aside = null;
  if (d.hidden) {
    body = el("p", { className: "msg-text msg-hidden", text: HIDDEN_WORDS });
  } else if (d.note && !own) {
    // The group chose a content note for messages like this one: each
    // person decides for themselves whether to read it.
    const open = openNotes.has(seq);
    const id = `msg-text-${seq}`;
    body = el(
      "div",
      { className: "msg-noted" },
      el(
        "button",
        { type: "button", className: "msg-note-toggle", "aria-expanded": open ? "true" : "false", "aria-controls": id, dataset: { focusKey: `note-${seq}`, note: String(seq) } },
        open ? NOTE_HIDE : NOTE_SHOW,
      ),
      el("p", { className: "msg-text", id, hidden: !open, text: d.text || "" }),
    );
  } else {
    body = el("p", { className: "msg-text", text: d.text || "" });
    if (d.note) aside = el("p", { className: "msg-note-own", text: "Others see this behind a content note." });
  }
  return el(
    "div",
    { className: `msg${own ? " msg-own" : ""}${d.hidden ? " msg-is-hidden" : ""}`, dataset: { seq: String(seq) } },
    meta,
    body,
    aside,
  );
}

function appendToLog(node, live) {
  const log = byId("chat-log");
  byId("chat-empty")?.remove();
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  log.append(node);
  while (log.childElementCount > LOG_LIMIT) {
    const gone = log.firstElementChild;
    if (gone.dataset.seq) shownMessages.delete(Number(gone.dataset.seq));
    gone.remove();
  }
  if (nearBottom || !live) {
    log.scrollTo({ top: log.scrollHeight, behavior: live && !reducedMotion.matches ? "smooth" : "auto" });
  }
}

// --------------------------------------------------------------- render ---

function render() {
  const stopped = Boolean(room.stopStage);
  const inRoom = !stopped && room.admitted;
  document.getElementById("room").dataset.status = room.status;
  show(byId("stage-signed-out"), room.stopStage === "signed-out");
  show(byId("stage-no-access"), room.stopStage === "no-access");
  show(byId("stage-too-many"), room.stopStage === "too-many");
  show(byId("stage-not-open"), !stopped && !room.admitted && room.status === "scheduled");
  show(byId("stage-lobby"), !stopped && !room.admitted && room.status !== "scheduled" && room.status !== "ended" && room.status !== "unknown");
  show(byId("stage-ended"), !stopped && room.status === "ended");
  show(byId("room-body"), inRoom);
  if (!inRoom) return;
  renderPinned();
  renderPrompt();
  renderTimer();
  renderFloor();
  renderCheckin();
  renderComposer();
  renderActions();
  renderPeople();
  if (boot.facilitates) renderFacilitator();
}

function renderPinned() {
  show(byId("pinned"), Boolean(room.pinned));
  setText("pinned-text", room.pinned);
}

let shownItemKey = null;

function renderPrompt() {
  const item = room.item;
  show(byId("prompt-empty"), !item);
  show(byId("prompt-body"), Boolean(item));
  if (!item) {
    shownItemKey = null;
    return;
  }
  const key = `${room.planIndex}:${item.version_id}`;
  if (key === shownItemKey) return; // unchanged: don't disturb reading or selection
  shownItemKey = key;
  setText("prompt-title", item.title || "");
  const noteText = item.content_note || "";
  show(byId("prompt-note"), Boolean(noteText));
  setText("prompt-note-text", noteText);
  // Server-rendered and sanitised (prompts.markdown.to_html).
  byId("prompt-html").innerHTML = item.html || "";
  const follow = Array.isArray(item.follow_up) ? item.follow_up : [];
  show(byId("prompt-followup"), follow.length > 0);
  byId("prompt-followup-list").replaceChildren(...follow.map((q) => el("li", { text: q })));
}

function timerState() {
  const t = room.timer || {};
  if (t.deadline) {
    const left = (Date.parse(t.deadline) - serverNow()) / 1000;
    return { running: true, left: Math.max(0, left), total: t.seconds || 0 };
  }
  if (t.remaining !== null && t.remaining !== undefined) {
    return { running: false, paused: true, left: t.remaining, total: t.seconds || 0 };
  }
  return null;
}

function renderTimer() {
  const state = room.status === "ended" ? null : timerState();
  show(byId("timer-box"), Boolean(state));
  let words = "No timer running.";
  if (state) {
    if (state.paused) words = `Paused with ${minutesSeconds(state.left)} left`;
    else if (state.left <= 0) words = "Time's up for this round";
    else words = `${minutesSeconds(state.left)} left`;
    setText("timer", words);
    const bar = byId("timer-bar");
    bar.max = Math.max(1, state.total);
    bar.value = Math.min(bar.max, state.left);
    byId("timer-box").classList.toggle("timer-done", state.running && state.left <= 0);
    if (state.running && state.left <= 0 && !timeUpAnnounced) {
      timeUpAnnounced = true;
      announce("Time's up for this round.");
    }
  }
  if (boot.facilitates) setText("fac-timer", words);
}

function renderFloor() {
  const speaking = room.speaking;
  const mineNow = speaking !== null && isMe(speaking);
  setText("floor-now", speaking === null ? "Nobody has the floor right now." : mineNow ? "You have the floor." : `${nameOf(speaking)} has the floor.`);
  show(byId("floor-mine"), mineNow);
  byId("floor").classList.toggle("floor-yours", mineNow);
  show(byId("queue-box"), room.queue.length > 0);
  replaceKeepingFocus(
    byId("queue-list"),
    room.queue.map((uid) => el("li", { text: isMe(uid) ? `${nameOf(uid)} (you)` : nameOf(uid) })),
  );
  const place = room.queue.indexOf(boot.user_id) + 1;
  show(byId("queue-mine"), place > 0);
  setText("queue-mine", place > 0 ? `Your hand is up: you're ${ordinal(place)} in the queue.` : "");
}

let checkinPhaseSent = null;

function checkinPhase() {
  if (!isOpen()) return null;
  const lastItem = room.plan.length - 1;
  const nearEnd = lastItem >= 0 && room.planIndex === lastItem;
  if (!mine.in && !mine.skipped.in && !nearEnd && !wantCheckout) return "in";
  if (!mine.out && !mine.skipped.out && (nearEnd || wantCheckout)) return "out";
  return null;
}

function renderCheckin() {
  const phase = checkinPhase();
  const summaries = ["in", "out"].filter((p) => room.checkins[p] && room.checkins[p].count > 0);
  show(byId("checkin"), isOpen() || summaries.length > 0);
  const form = byId("checkin-form");
  show(form, Boolean(phase));
  if (phase) {
    form.dataset.phase = phase;
    setText("checkin-title", phase === "in" ? "Check-in" : "Check-out");
    setText("checkin-legend", phase === "in" ? "How are you arriving today?" : "How are you leaving today?");
    setText("checkin-submit", phase === "in" ? "Check in" : "Check out");
  } else {
    setText("checkin-title", "Check-in and check-out");
  }
  const thanks = byId("checkin-thanks");
  show(thanks, !phase && Boolean(thanks.textContent));
  const canCheckOut = !phase && !mine.out && (room.status === "live" || room.status === "paused");
  show(byId("checkout-offer"), canCheckOut);
  byId("checkin-summaries").replaceChildren(...summaries.map((p) => summaryNode(room.checkins[p])));
  const ended = room.checkins.out;
  const endedNote = byId("ended-checkout");
  show(endedNote, room.status === "ended" && Boolean(ended && ended.count));
  if (ended && ended.count) endedNote.textContent = summaryWords(ended);
}

function summaryWords(summary) {
  const label = summary.phase === "in" ? "Check-in" : "Check-out";
  if (!summary.distribution) {
    return `${label}: ${summary.count} ${summary.count === 1 ? "answer" : "answers"} so far. The spread shows once 3 people have answered.`;
  }
  const parts = [1, 2, 3, 4, 5].map((n) => `${summary.distribution[String(n)] || 0} chose ${n}`);
  return `${label}, ${summary.count} answers: ${parts.join(", ")}.`;
}

function summaryNode(summary) {
  const label = summary.phase === "in" ? "Check-in" : "Check-out";
  if (!summary.distribution) {
    return el("p", { className: "summary muted", text: summaryWords(summary) });
  }
  const rows = [1, 2, 3, 4, 5].map((n) => {
    const count = summary.distribution[String(n)] || 0;
    return el(
      "li",
      {},
      el("span", { className: "dist-score", text: String(n) }),
      el("meter", { min: "0", max: String(summary.count), value: String(count), "aria-hidden": "true" }),
      el("span", { className: "dist-count", text: `${count}` }),
    );
  });
  return el(
    "figure",
    { className: "summary" },
    el("figcaption", { text: `${label}: how the group is doing (${summary.count} answers, anonymous)` }),
    el("p", { className: "sr-only", text: summaryWords(summary) }),
    el("ul", { className: "dist", "aria-hidden": "true" }, ...rows),
  );
}

function renderComposer() {
  const muted = mutedNow();
  const canWrite = isOpen() && (!room.locked || boot.facilitates) && !muted;
  const mutedNote = byId("composer-muted");
  show(mutedNote, muted);
  if (muted) {
    setText(
      "composer-muted",
      `A facilitator has paused your messages for now. You can write again at ${clock(new Date(room.mutedUntil).toISOString())}. You can still read along, react and raise your hand.`,
    );
  }
  const box = byId("composer-text");
  box.disabled = !canWrite;
  box.readOnly = Boolean(pendingChat);
  byId("composer-send").disabled = !canWrite || Boolean(pendingChat);
  setText("composer-send", pendingChat ? "Sending…" : "Send");
  show(byId("chat-locked"), room.locked && !boot.facilitates && isOpen());
  document.querySelectorAll(".reaction").forEach((button) => {
    button.disabled = !isOpen();
  });
}

function renderActions() {
  const open = isOpen();
  const queued = room.queue.includes(boot.user_id);
  const speaking = room.speaking !== null && isMe(room.speaking);
  const hand = byId("hand-btn");
  if (speaking) {
    hand.textContent = "You have the floor";
    hand.disabled = true;
  } else if (queued) {
    hand.textContent = "Lower hand";
    hand.disabled = false;
  } else {
    hand.textContent = "Raise hand";
    hand.disabled = room.status !== "live";
  }
  byId("pass-btn").disabled = !open;
  byId("moment-btn").disabled = !open;
  document.querySelector(".action-bar").hidden = !open;
  if (!open) show(byId("moment-note"), false);
}

// Who is in the room: connected and past the lobby. (A facilitator's
// snapshot counts everyone connected, including those still waiting.)
function presentIds() {
  const waiting = new Set(room.lobby.map((p) => p.user_id));
  return [...room.present].filter((uid) => !waiting.has(uid));
}

function renderPeople() {
  const ids = presentIds().sort((a, b) => {
    const fa = ROLE_WORDS[room.people.get(a)?.role] ? 0 : 1;
    const fb = ROLE_WORDS[room.people.get(b)?.role] ? 0 : 1;
    return fa - fb || nameOf(a).localeCompare(nameOf(b));
  });
  setText("people-count", `(${ids.length})`);
  if (openPerson !== null && !ids.includes(openPerson)) openPerson = null;
  const items = ids.map((uid) => {
    const role = room.people.get(uid)?.role;
    const until = boot.facilitates ? room.mutes.get(uid) : null;
    const mutedUntil = until && Date.parse(until) > serverNow() ? until : null;
    const moderated = boot.facilitates && !isMe(uid) && role === "member";
    return el(
      "li",
      {},
      el(
        "span",
        { className: "person-line" },
        el("span", { className: "person-name", text: isMe(uid) ? `${nameOf(uid)} (you)` : nameOf(uid) }),
        ROLE_WORDS[role] ? el("span", { className: "badge", text: ROLE_WORDS[role] }) : null,
        room.speaking === uid ? el("span", { className: "badge ok", text: "Has the floor" }) : null,
        room.queue.includes(uid) ? el("span", { className: "badge warn", text: "Hand up" }) : null,
        mutedUntil ? el("span", { className: "badge", text: `Muted until ${clock(mutedUntil)}` }) : null,
        moderated
          ? el(
              "button",
              {
                type: "button",
                className: "secondary small person-more",
                "aria-expanded": openPerson === uid ? "true" : "false",
                "aria-controls": `person-mod-${uid}`,
                dataset: { focusKey: `person-${uid}`, person: String(uid) },
              },
              "Moderate",
              el("span", { className: "sr-only", text: ` ${nameOf(uid)}` }),
            )
          : null,
      ),
      moderated && openPerson === uid ? personControls(uid) : null,
    );
  });
  if (boot.facilitates) replaceKeepingFocus(byId("people-list"), items);
  else byId("people-list").replaceChildren(...items);
}

// A facilitator's moderation controls for one member: mute, unmute, remove
// (removal asks first).
function personControls(uid) {
  const who = nameOf(uid);
  const button = (label, data, hidden, extra = "secondary small") =>
    el("button", { type: "button", className: extra, dataset: { focusKey: `${Object.keys(data).join("-")}-${Object.values(data).join("-")}`, ...data } }, ...label);
  const asking = facConfirm && facConfirm.kind === "remove" && facConfirm.userId === uid ? facConfirm : null;
  if (asking) {
    const question =
      asking.scope === "group"
        ? `Remove ${who} from the group? They leave the group and this room at once.`
        : `Remove ${who} from this session? They leave the room and can't come back to this session.`;
    return el(
      "div",
      { className: "person-mod person-confirm", id: `person-mod-${uid}` },
      el("p", { text: question }),
      el(
        "div",
        { className: "actions" },
        button(["Yes, remove ", el("span", { className: "sr-only", text: `${who} ` }), asking.scope === "group" ? "from the group" : "from this session"], { removeYes: String(uid), scope: asking.scope }, false, "danger small"),
        button(["Cancel"], { removeNo: String(uid) }),
      ),
    );
  }
  return el(
    "div",
    { className: "person-mod", id: `person-mod-${uid}` },
    el(
      "div",
      { className: "person-mod-row", role: "group", "aria-label": `Mute ${who}` },
      el("span", { className: "person-mod-label", "aria-hidden": "true", text: "Mute for" }),
      ...MUTE_CHOICES.map((choice) =>
        button([el("span", { className: "sr-only", text: `Mute ${who} for ` }), choice.words], { mute: String(uid), minutes: String(choice.minutes) }),
      ),
    ),
    el(
      "div",
      { className: "person-mod-row" },
      threads.reachOutButton(uid),
      button(["Unmute", el("span", { className: "sr-only", text: ` ${who}` })], { unmute: String(uid) }),
      button(["Remove from session…", el("span", { className: "sr-only", text: ` ${who}` })], { remove: String(uid), scope: "session" }),
      boot.role === "facilitator"
        ? button(["Remove from group…", el("span", { className: "sr-only", text: ` ${who}` })], { remove: String(uid), scope: "group" })
        : null,
    ),
  );
}

// ------------------------------------------------------ facilitator view ---

function renderFacilitator() {
  const s = room.status;
  setText("fac-status", STATUS_WORDS[s] || s);
  const visible = {
    "room.open": s === "scheduled",
    "room.start": s === "scheduled" || s === "open",
    "room.pause": s === "live",
    "room.resume": s === "paused",
  };
  document.querySelectorAll("#fac-lifecycle [data-action]").forEach((button) => {
    button.hidden = !visible[button.dataset.action];
  });
  const confirming = !byId("end-confirm").hidden;
  byId("end-ask").hidden = !isOpen() || confirming;
  if (s === "ended") show(byId("end-confirm"), false);

  renderSafety();
  renderHeld();

  // Alerts.
  setText("fac-alerts-count", room.alerts.length ? `(${room.alerts.length})` : "");
  const waiting = room.alerts.length + room.safetyAlerts.length + room.held.length;
  const jump = byId("fac-jump-alerts");
  show(jump, waiting > 0);
  setText("fac-jump-alerts", waiting === 1 ? "1 needs you" : `${waiting} need you`);
  show(byId("fac-alerts-empty"), room.alerts.length === 0);
  byId("fac-alerts-block").classList.toggle("has-alerts", room.alerts.length > 0);
  replaceKeepingFocus(
    byId("fac-alerts"),
    room.alerts.map((alert) => {
      const key = alert.id !== undefined ? `alert-${alert.id}` : alert.localId;
      const button = el(
        "button",
        { type: "button", className: "secondary small", dataset: { focusKey: key, alertKey: key } },
        alert.id !== undefined ? "Acknowledge" : "Dismiss",
        el("span", { className: "sr-only", text: `: ${alertWords(alert)}` }),
      );
      return el(
        "li",
        { className: `fac-alert alert-${alert.kind}` },
        el("span", { text: alertWords(alert) }),
        el("time", { className: "muted", datetime: alert.at, text: ` ${clock(alert.at)}` }),
        threads.reachOutButton(alert.user_id),
        button,
      );
    }),
  );

  // Lobby.
  setText("fac-lobby-count", room.lobby.length ? `(${room.lobby.length})` : "");
  show(byId("fac-lobby-empty"), room.lobby.length === 0);
  replaceKeepingFocus(
    byId("fac-lobby"),
    room.lobby.map((person) =>
      el(
        "li",
        {},
        el("span", { text: person.name || nameOf(person.user_id) }),
        el(
          "button",
          { type: "button", className: "small", dataset: { focusKey: `admit-${person.user_id}`, admit: String(person.user_id) }, disabled: !isOpen() },
          "Admit",
          el("span", { className: "sr-only", text: ` ${person.name || nameOf(person.user_id)}` }),
        ),
      ),
    ),
  );
  const auto = byId("fac-auto-admit");
  auto.checked = room.autoAdmit;
  auto.disabled = s === "ended";

  // Queue.
  setText("fac-speaking", room.speaking === null ? "Nobody has the floor." : `${nameOf(room.speaking)} has the floor.`);
  show(byId("fac-queue-empty"), room.queue.length === 0);
  const live = s === "live";
  replaceKeepingFocus(
    byId("fac-queue"),
    room.queue.map((uid, index) => {
      const who = nameOf(uid);
      const control = (label, data, disabled) =>
        el("button", { type: "button", className: "secondary small", dataset: { focusKey: `${data.move || "skip"}-${uid}`, ...data }, disabled }, label, el("span", { className: "sr-only", text: ` ${who}` }));
      return el(
        "li",
        {},
        el("span", { className: "fac-queue-name", text: who }),
        el(
          "span",
          { className: "fac-queue-controls" },
          control("Up", { move: "up", user: String(uid) }, index === 0),
          control("Down", { move: "down", user: String(uid) }, index === room.queue.length - 1),
          control("Skip", { skip: String(uid) }, false),
        ),
      );
    }),
  );
  document.querySelector('[data-action="queue.next"]').disabled = !live;
  document.querySelector('[data-action="queue.clear"]').disabled = room.queue.length === 0 && room.speaking === null;

  // Not spoken yet: members here now who haven't had the floor.
  const unspoken = presentIds().filter(
    (uid) => room.people.get(uid)?.role === "member" && !room.spoken.includes(uid) && room.speaking !== uid,
  );
  show(byId("fac-unspoken-empty"), unspoken.length === 0);
  byId("fac-unspoken").replaceChildren(...unspoken.map((uid) => el("li", { text: nameOf(uid) })));

  // Plan.
  show(byId("fac-plan-empty"), room.plan.length === 0);
  setText(
    "fac-plan-empty",
    s === "scheduled"
      ? "The session plan appears here when you open the room."
      : "This session has no plan attached. Attach one from the prompt library to show prompts here.",
  );
  replaceKeepingFocus(
    byId("fac-plan"),
    room.plan.map((item) => {
      const current = item.index === room.planIndex;
      return el(
        "li",
        { className: current ? "current" : "", "aria-current": current ? "step" : null },
        el(
          "span",
          { className: "fac-plan-text" },
          el("span", { className: "fac-plan-title", text: item.title }),
          el("span", { className: "muted", text: ` · ${item.minutes} min${current ? " · showing now" : ""}` }),
        ),
        el(
          "button",
          { type: "button", className: "secondary small", dataset: { focusKey: `show-${item.index}`, show: String(item.index) }, disabled: !isOpen() },
          current ? "Show again" : "Show",
          el("span", { className: "sr-only", text: `: ${item.title}` }),
        ),
      );
    }),
  );

  // Timer, pin, lock.
  byId("fac-timer-add").disabled = !live;
  byId("fac-timer-stop").disabled = !live || !timerState();
  const pinBox = byId("fac-pin-text");
  if (document.activeElement !== pinBox && pinBox.dataset.synced !== room.pinned) {
    pinBox.value = room.pinned;
    pinBox.dataset.synced = room.pinned;
  }
  byId("fac-unpin").disabled = !room.pinned;
  const lock = byId("fac-lock");
  lock.checked = room.locked;
  lock.disabled = s === "ended";
}

function renderSafety() {
  const alerts = sortedSafetyAlerts();
  setText("fac-safety-count", alerts.length ? `(${alerts.length})` : "");
  show(byId("fac-safety-empty"), alerts.length === 0);
  byId("fac-safety-block").classList.toggle("has-alerts", alerts.length > 0);
  replaceKeepingFocus(
    byId("fac-safety"),
    alerts.map((alert) => {
      const words = safetyWords(alert);
      const urgent = SEVERITY[words.key] >= SEVERITY.method;
      const count = Number(alert.count) > 1 ? ` · ${alert.count} messages` : "";
      return el(
        "li",
        { className: `fac-safety-alert safety-${words.key}${urgent ? " is-urgent" : ""}` },
        el(
          "p",
          { className: "fac-safety-head" },
          el("span", { className: `badge ${urgent ? "danger" : "warn"}`, text: words.label }),
          " ",
          el("strong", { text: words.says }),
        ),
        el(
          "p",
          { className: "muted" },
          el("time", { datetime: alert.at, text: clock(alert.at) }),
          count,
          alert.held_id ? " · Their message is under Held messages." : "",
        ),
        el("p", { className: "fac-safety-todo", text: words.todo }),
        el(
          "div",
          { className: "actions" },
          threads.reachOutButton(alert.user_id),
          el(
            "button",
            { type: "button", className: "small", dataset: { focusKey: `safety-${alert.id}`, safetyAck: String(alert.id) } },
            "Acknowledge",
            el("span", { className: "sr-only", text: `: ${words.says}` }),
          ),
        ),
      );
    }),
  );
}

function renderHeld() {
  const held = [...room.held].sort(
    (a, b) => (SEVERITY[tierKey({ tier: b.tier, reasons: b.reasons })] || 0) - (SEVERITY[tierKey({ tier: a.tier, reasons: a.reasons })] || 0) || Date.parse(a.at) - Date.parse(b.at),
  );
  setText("fac-held-count", held.length ? `(${held.length})` : "");
  show(byId("fac-held-empty"), held.length === 0);
  byId("fac-held-block").classList.toggle("has-alerts", held.length > 0);
  replaceKeepingFocus(
    byId("fac-held"),
    held.map((item) => {
      const who = item.name || nameOf(item.user_id);
      const unsafe = item.tier === "method" || item.tier === "imminent";
      const asking = facConfirm && facConfirm.kind === "approve" && facConfirm.heldId === item.id;
      const control = (label, data, className = "secondary small") =>
        el("button", { type: "button", className, dataset: { focusKey: `held-${Object.keys(data)[0]}-${item.id}`, ...data } }, label, el("span", { className: "sr-only", text: ` the message from ${who}` }));
      const actions = asking
        ? el(
            "div",
            { className: "fac-held-confirm" },
            el("p", { text: "This message may not be safe for the group to read. Show it to everyone anyway?" }),
            el(
              "div",
              { className: "actions" },
              control("Yes, show", { approveYes: String(item.id) }, "danger small"),
              control("Cancel", { approveNo: String(item.id) }),
            ),
          )
        : el(
            "div",
            { className: "actions" },
            control("Approve", { approve: String(item.id) }),
            control("Reject", { reject: String(item.id) }, "small"),
          );
      return el(
        "li",
        { className: "fac-held-item" },
        el(
          "p",
          { className: "fac-held-head" },
          el("strong", { text: who }),
          el("span", { className: "muted", text: ` · ${clock(item.at)} · ${HELD_WHY[item.tier] || HELD_WHY.none}` }),
        ),
        el("blockquote", { className: "fac-held-text", text: str(item.text) }),
        unsafe ? el("p", { className: "muted", text: "Messages like this are best not shown to the group; reach out to the member instead." }) : null,
        actions,
      );
    }),
  );
}

function wireFacilitator() {
  const panel = byId("fac");
  if (!panel) return;
  panel.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !panel.contains(button)) return;
    setText("fac-error", "");
    const d = button.dataset;
    if (d.action) {
      act(d.action);
      if (d.action === "room.end") show(byId("end-confirm"), false);
    } else if (d.admit) {
      act("lobby.admit", { user_id: Number(d.admit) });
    } else if (d.move) {
      const uid = Number(d.user);
      const order = [...room.queue];
      const from = order.indexOf(uid);
      const to = d.move === "up" ? from - 1 : from + 1;
      if (from < 0 || to < 0 || to >= order.length) return;
      [order[from], order[to]] = [order[to], order[from]];
      act("queue.reorder", { order });
    } else if (d.skip) {
      act("queue.skip", { user_id: Number(d.skip) });
    } else if (d.show) {
      const item = room.plan[Number(d.show)];
      const seconds = Math.min(3600, Math.max(0, Math.round((item?.minutes || 0) * 60)));
      act("prompt.show", { index: Number(d.show), seconds });
    } else if (d.alertKey) {
      const alert = room.alerts.find((a) => (a.id !== undefined ? `alert-${a.id}` : a.localId) === d.alertKey);
      if (!alert) return;
      if (alert.id === undefined) {
        room.alerts = room.alerts.filter((a) => a !== alert);
        render();
      } else {
        send({ type: "alert.ack", alert_id: alert.id, client_msg_id: `alert.ack-${alert.id}` });
      }
    } else if (d.safetyAck) {
      act("safety.ack", { alert_id: Number(d.safetyAck), client_msg_id: `safety.ack-${d.safetyAck}` });
    } else if (d.approve) {
      const item = room.held.find((h) => h.id === Number(d.approve));
      if (item && (item.tier === "method" || item.tier === "imminent")) {
        facConfirm = { kind: "approve", heldId: item.id };
        render();
        byId("fac-held").querySelector(`[data-approve-no="${CSS.escape(d.approve)}"]`)?.focus();
        return;
      }
      act("held.decide", { held_id: Number(d.approve), approve: true });
    } else if (d.approveYes) {
      facConfirm = null;
      act("held.decide", { held_id: Number(d.approveYes), approve: true });
    } else if (d.approveNo) {
      facConfirm = null;
      render();
      byId("fac-held").querySelector(`[data-approve="${CSS.escape(d.approveNo)}"]`)?.focus();
      return;
    } else if (d.reject) {
      act("held.decide", { held_id: Number(d.reject), approve: false });
    }
    render();
  });
  byId("end-ask").addEventListener("click", () => {
    show(byId("end-confirm"), true);
    render();
    byId("end-yes").focus();
  });
  byId("end-cancel").addEventListener("click", () => {
    show(byId("end-confirm"), false);
    render();
    byId("end-ask").focus();
  });
  // The box shows the wish at once; the next render shows the server's
  // answer (the event, or the state unchanged after an error).
  byId("fac-auto-admit").addEventListener("change", (event) => {
    act("room.auto_admit", { on: event.target.checked });
  });
  byId("fac-lock").addEventListener("change", (event) => {
    act("room.lock", { on: event.target.checked });
  });
  byId("fac-timer-add").addEventListener("click", () => {
    const state = timerState();
    const left = state ? Math.ceil(state.left) : 0;
    act("timer.set", { seconds: Math.min(3600, left + 60) });
  });
  byId("fac-timer-stop").addEventListener("click", () => act("timer.set", { seconds: 0 }));
  byId("fac-pin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act("pin.set", { text: byId("fac-pin-text").value.trim() });
  });
  byId("fac-unpin").addEventListener("click", () => act("pin.set", { text: "" }));
  wireModeration();
}

// Facilitators: the controls beside each member in "Here now".
function wireModeration() {
  const list = byId("people-list");
  const focusIn = (selector) => list.querySelector(selector)?.focus();
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !list.contains(button)) return;
    setText("fac-error", "");
    const d = button.dataset;
    if (d.person) {
      const uid = Number(d.person);
      openPerson = openPerson === uid ? null : uid;
      facConfirm = null;
      render();
      focusIn(`[data-person="${uid}"]`);
    } else if (d.mute) {
      const uid = Number(d.mute);
      const ref = newId("mute");
      pendingMutes.set(ref, uid);
      if (!act("member.mute", { user_id: uid, minutes: Number(d.minutes), client_msg_id: ref })) pendingMutes.delete(ref);
    } else if (d.unmute) {
      act("member.unmute", { user_id: Number(d.unmute), client_msg_id: `unmute-${d.unmute}-${Date.now().toString(36)}` });
    } else if (d.remove) {
      facConfirm = { kind: "remove", userId: Number(d.remove), scope: d.scope };
      render();
      focusIn(`[data-remove-no="${CSS.escape(d.remove)}"]`);
    } else if (d.removeNo) {
      facConfirm = null;
      render();
      focusIn(`[data-person="${CSS.escape(d.removeNo)}"]`);
    } else if (d.removeYes) {
      facConfirm = null;
      act("member.remove", { user_id: Number(d.removeYes), scope: d.scope });
      render();
      focusHeading(byId("people-heading"));
    }
  });
}

// --------------------------------------------------------------- wiring ---

function updateCount() {
  const length = byId("composer-text").value.length;
  setText("composer-count", length > 1800 ? `${length} of 2000 characters.` : "");
}

function sendChat() {
  const box = byId("composer-text");
  const text = box.value;
  if (pendingChat || box.disabled) return;
  if (!text.trim()) {
    setText("composer-error", "Write something first, or pass.");
    return;
  }
  setText("composer-error", "");
  showNotice("");
  pendingChat = { id: newId("chat"), text };
  if (!send({ type: "chat.send", text, client_msg_id: pendingChat.id })) {
    // Sent as soon as the connection is back (same id, never twice).
    setText("composer-error", "Not connected right now. Your message will be sent when the connection is back.");
  }
  render();
}

function toggleHand(fromKeyboard) {
  const button = byId("hand-btn");
  if (button.disabled) {
    if (fromKeyboard) {
      announce(room.speaking !== null && isMe(room.speaking) ? "You have the floor." : "You can raise your hand once the session is live.");
    }
    return;
  }
  setText("action-error", "");
  act(room.queue.includes(boot.user_id) ? "hand.lower" : "hand.raise");
}

function pass(fromKeyboard) {
  if (byId("pass-btn").disabled) {
    if (fromKeyboard) announce("Passing works while the room is open.");
    return;
  }
  setText("action-error", "");
  act("pass");
}

// ------------------------------------------------------------ reporting ---

function openReport(seq) {
  const known = shownMessages.get(seq);
  if (!known || known.data.hidden) return;
  const form = byId("report-form");
  reporting = { seq, ref: null };
  form.reset();
  setText("report-error", "");
  show(byId("report-thanks"), false);
  const name = known.data.name || nameOf(known.data.user_id);
  setText("report-who", name);
  const text = str(known.data.text);
  setText("report-text", text.length > 140 ? `${text.slice(0, 140)}…` : text);
  byId("report-send").disabled = false;
  form.hidden = false;
  focusHeading(byId("report-title"));
  form.scrollIntoView({ block: "nearest", behavior: reducedMotion.matches ? "auto" : "smooth" });
}

function closeReport(toSeq) {
  byId("report-form").hidden = true;
  reporting = null;
  const button = toSeq !== undefined ? messageNode(toSeq)?.querySelector("[data-report]") : null;
  if (button) button.focus();
}

function sendReport() {
  if (!reporting || reporting.ref) return;
  const picked = byId("report-form").querySelector("input[name=reason]:checked");
  if (!picked) {
    setText("report-error", "Choose what worries you about it.");
    byId("report-form").querySelector("input[name=reason]").focus();
    return;
  }
  setText("report-error", "");
  const note = byId("report-note").value.trim();
  const ref = newId("report");
  const frame = { seq: reporting.seq, reason: picked.value, client_msg_id: ref };
  if (note) frame.note = note.slice(0, 500);
  if (act("report", frame, "report-error")) {
    reporting.ref = ref;
    byId("report-send").disabled = true;
  }
}

function reportDone() {
  const seq = reporting.seq;
  reported.add(seq);
  byId("report-form").hidden = true;
  reporting = null;
  const known = shownMessages.get(seq);
  if (known) redrawMessage(seq, known.data);
  const thanks = byId("report-thanks");
  thanks.textContent = REPORT_THANKS;
  thanks.hidden = false;
  thanks.focus();
}

function wireChatLog() {
  const log = byId("chat-log");
  log.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !log.contains(button)) return;
    const d = button.dataset;
    if (d.note) {
      const seq = Number(d.note);
      if (openNotes.has(seq)) openNotes.delete(seq);
      else openNotes.add(seq);
      const known = shownMessages.get(seq);
      if (known) redrawMessage(seq, known.data);
    } else if (d.report) {
      openReport(Number(d.report));
    } else if (d.hide || d.unhide) {
      setText("fac-error", "");
      act(d.hide ? "message.hide" : "message.unhide", { seq: Number(d.hide || d.unhide) });
    }
  });
  const form = byId("report-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendReport();
  });
  byId("report-cancel").addEventListener("click", () => closeReport(reporting?.seq));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeReport(reporting?.seq);
    }
  });
  byId("crisis-close").addEventListener("click", closeCrisisCard);
  byId("crisis").addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeCrisisCard();
    }
  });
}

// ------------------------------------------------------ asking for help ---
// docs/safety.md, "Asking for help". The gentle check-in is offered to the
// sender alone when screening was unsure; "I'm okay" only closes it (nothing
// is sent or recorded). "I'd like support" and "I'm not safe right now" go
// over the socket, and the crisis card comes back in the same round trip.

function showGentleCheckin() {
  byId("gentle-checkin").hidden = false;
  announce("That sounded heavy. Are you okay?");
}

function closeGentleCheckin() {
  const card = byId("gentle-checkin");
  const hadFocus = card.contains(document.activeElement);
  card.hidden = true;
  if (hadFocus && !byId("composer-text").disabled) byId("composer-text").focus();
}

// Without the socket (or outside the room's body), the form posts to the
// help page instead, which names this session.
function notSafeByPost() {
  byId("not-safe-form").submit();
}

function wireSupport() {
  byId("gentle-okay").addEventListener("click", closeGentleCheckin);
  byId("gentle-support").addEventListener("click", () => {
    setText("action-error", "");
    if (act("support.request")) closeGentleCheckin();
  });
  byId("gentle-checkin").addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeGentleCheckin();
    }
  });
  byId("not-safe-form").addEventListener("submit", (event) => {
    // The card is drawn inside the room's body: outside it, post.
    if (!room.admitted || room.stopStage) return;
    if (send({ type: "support.not_safe", client_msg_id: newId("support.not_safe") })) {
      event.preventDefault();
    }
  });
}

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

function wire() {
  byId("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendChat();
  });
  byId("composer-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !touchFirst) {
      event.preventDefault();
      sendChat();
    }
  });
  byId("composer-text").addEventListener("input", updateCount);
  if (touchFirst) byId("composer-hint").firstChild.textContent = "Press Send to share your message. ";
  byId("hand-btn").addEventListener("click", () => toggleHand(false));
  byId("pass-btn").addEventListener("click", () => pass(false));
  byId("moment-btn").addEventListener("click", () => {
    setText("action-error", "");
    act("moment");
  });
  document.querySelector(".reactions").addEventListener("click", (event) => {
    const button = event.target.closest(".reaction");
    if (button && !button.disabled) act("reaction", { emoji: button.dataset.emoji });
  });
  byId("checkin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const phase = form.dataset.phase;
    const picked = form.querySelector("input[name=score]:checked");
    if (!picked) {
      setText("checkin-error", "Choose a number from 1 to 5, or skip.");
      return;
    }
    setText("checkin-error", "");
    const word = byId("checkin-word").value.trim();
    checkinPhaseSent = phase;
    const frame = { phase, score: Number(picked.value) };
    if (word) frame.word = word;
    act("checkin", frame, "checkin-error");
  });
  byId("checkin-skip").addEventListener("click", () => {
    const phase = byId("checkin-form").dataset.phase;
    mine.skipped[phase] = true;
    if (phase === "out") wantCheckout = false;
    saveMemory();
    setText("checkin-error", "");
    render();
  });
  byId("checkout-open").addEventListener("click", () => {
    wantCheckout = true;
    mine.skipped.out = false;
    render();
    byId("checkin-form").querySelector("input[name=score]")?.focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || !room.admitted || room.stopStage) return;
    const key = event.key.toLowerCase();
    if (key === "h") {
      event.preventDefault();
      toggleHand(true);
    } else if (key === "p") {
      event.preventDefault();
      pass(true);
    }
  });
  window.addEventListener("online", () => {
    if (!conn.ws && !conn.stopped) {
      conn.attempt = 0;
      connect();
    }
  });
  wireChatLog();
  wireFacilitator();
  wireSupport();
  // The countdown: the deadline is the server's; only the display ticks here.
  window.setInterval(() => {
    if (room.admitted && !room.stopStage) renderTimer();
  }, 500);
}

wire();
if (boot.facilitates) startAttention((visible) => send({ type: "visibility", visible }), () => conn.ws);
render();
connect();
