// The live room: one WebSocket (docs/protocol.md), room state kept by
// sequence number, and the page drawn from that state.
//
// Safety rules for this file: names, chat and every other server string go
// in with textContent. The single exception is a plan item's `html`, which
// the server renders and sanitises; it is inserted from `item.html` only.

const boot = JSON.parse(document.getElementById("room-bootstrap").textContent);
const byId = (id) => document.getElementById(id);

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const RETRY_BASE_MS = 1_000;
const RETRY_CAP_MS = 30_000;
const LOG_LIMIT = 400;
const OPEN_STATUSES = ["open", "live", "paused"];
const FACILITATOR_FRAMES = /^(room\.|lobby\.|queue\.|prompt\.|timer\.|pin\.|alert\.)/;
const STATUS_WORDS = {
  scheduled: "Not open yet",
  open: "Lobby open",
  live: "Live",
  paused: "Paused",
  ended: "Ended",
};
const ROLE_WORDS = { facilitator: "Facilitator", cofacilitator: "Co-facilitator" };
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
  // Facilitators only.
  lobby: [],
  autoAdmit: false,
  alerts: [],
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

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

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
  switch (frame.type) {
    case "snapshot":
      applySnapshot(frame);
      break;
    case "event":
      onEvent(frame);
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
      } else if (boot.facilitates && room.plan.length === 0) {
        // The plan is frozen when the room opens; fetch it with a snapshot.
        send({ type: "join" });
      }
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
        const box = byId("composer-text");
        box.value = "";
        setText("composer-error", "");
        updateCount();
      }
      break;
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
    words += ` You can write again at ${clock(frame.until)}.`;
  }
  const of = frame.for || "";
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

// ------------------------------------------------------------------ log ---

function clearLog(withGapNote) {
  const log = byId("chat-log");
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
    default:
      break;
  }
  if (!node) return;
  appendToLog(node, live);
}

function note(text, glyph = "", extra = "") {
  const node = el("p", { className: `log-note ${extra}`.trim() });
  if (glyph) node.append(el("span", { "aria-hidden": "true", className: "log-glyph", text: glyph }), " ");
  node.append(text);
  return node;
}

function chatNode(frame, d) {
  const own = isMe(d.user_id);
  const name = d.name || nameOf(d.user_id);
  const meta = el(
    "p",
    { className: "msg-meta" },
    el("span", { className: "msg-name", text: own ? `${name} (you)` : name }),
    ROLE_WORDS[d.role] ? el("span", { className: "badge", text: ROLE_WORDS[d.role] }) : null,
    el("time", { className: "msg-time", datetime: frame.at, text: clock(frame.at) }),
  );
  const body = d.hidden
    ? el("p", { className: "msg-text msg-hidden", text: "A facilitator removed this message." })
    : el("p", { className: "msg-text", text: d.text || "" });
  return el("div", { className: own ? "msg msg-own" : "msg", dataset: { seq: String(frame.seq) } }, meta, body);
}

function appendToLog(node, live) {
  const log = byId("chat-log");
  byId("chat-empty")?.remove();
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  log.append(node);
  while (log.childElementCount > LOG_LIMIT) log.firstElementChild.remove();
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
  const canWrite = isOpen() && (!room.locked || boot.facilitates);
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
  const items = ids.map((uid) => {
    const role = room.people.get(uid)?.role;
    return el(
      "li",
      {},
      el("span", { className: "person-name", text: isMe(uid) ? `${nameOf(uid)} (you)` : nameOf(uid) }),
      ROLE_WORDS[role] ? el("span", { className: "badge", text: ROLE_WORDS[role] }) : null,
      room.speaking === uid ? el("span", { className: "badge ok", text: "Has the floor" }) : null,
      room.queue.includes(uid) ? el("span", { className: "badge warn", text: "Hand up" }) : null,
    );
  });
  byId("people-list").replaceChildren(...items);
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

  // Alerts.
  setText("fac-alerts-count", room.alerts.length ? `(${room.alerts.length})` : "");
  const jump = byId("fac-jump-alerts");
  show(jump, room.alerts.length > 0);
  setText("fac-jump-alerts", room.alerts.length === 1 ? "1 alert" : `${room.alerts.length} alerts`);
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
  wireFacilitator();
  // The countdown: the deadline is the server's; only the display ticks here.
  window.setInterval(() => {
    if (room.admitted && !room.stopStage) renderTimer();
  }, 500);
}

wire();
render();
connect();
