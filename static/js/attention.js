// Reaching a facilitator whose room tab is in the background when a safety
// alert arrives (docs/safety.md, "The hidden-tab rule"): a count in the
// tab's title until they look, a short tone they can turn off, and a
// browser notification once they have allowed it. Permission is asked only
// from the "Allow notifications" button, never on load.
//
// It also reports the tab's visibility to the server, which counts a
// facilitator as watching only while their tab is visible or was within
// the last minute; otherwise urgent alerts are emailed at once.

const SOUND_KEY = "hearth.alertSound"; // "on" (the default) or "off"
// No name, no words from the chat: notifications can show on a lock screen.
const NOTICE_TITLE = "Hearth: a safety alert is waiting";
const NOTICE_BODY = "Someone in your room may need support. Open the room to see it.";

let unseen = 0;
const baseTitle = document.title;
let audio = null;
let report = null; // sends {"type": "visibility", ...}
let lastReported = null;

export const tabHidden = () => document.visibilityState === "hidden";

export function soundOn() {
  try {
    return localStorage.getItem(SOUND_KEY) !== "off";
  } catch {
    return true;
  }
}

export function setSound(on) {
  try {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    // Private browsing may refuse storage: the choice lasts this page only.
  }
  if (on) unlockAudio();
}

export const notificationsSupported = () => "Notification" in window;
export const notificationPermission = () => (notificationsSupported() ? Notification.permission : "unsupported");

// Only ever called from a click on the "Allow notifications" button.
export async function askForNotifications() {
  if (!notificationsSupported()) return "unsupported";
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

function showBadge() {
  document.title = unseen ? `(${unseen}) ${baseTitle}` : baseTitle;
}

// Browsers start audio only after a gesture on the page: the first click or
// key press prepares it, so a tone can play later from a background tab.
function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    audio = audio || new Context();
    if (audio.state === "suspended") audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}

function chime() {
  if (!audio || audio.state !== "running") return;
  const start = audio.currentTime;
  const tone = audio.createOscillator();
  const volume = audio.createGain();
  tone.type = "sine";
  tone.frequency.setValueAtTime(660, start);
  tone.frequency.setValueAtTime(880, start + 0.18);
  volume.gain.setValueAtTime(0.0001, start);
  volume.gain.exponentialRampToValueAtTime(0.15, start + 0.03);
  volume.gain.exponentialRampToValueAtTime(0.0001, start + 0.5);
  tone.connect(volume).connect(audio.destination);
  tone.start(start);
  tone.stop(start + 0.55);
}

function notify() {
  if (notificationPermission() !== "granted") return;
  try {
    const note = new Notification(NOTICE_TITLE, { body: NOTICE_BODY, tag: "hearth-safety-alert" });
    note.onclick = () => {
      window.focus();
      note.close();
    };
  } catch {
    // Some browsers allow notifications only from a service worker.
  }
}

// A new safety alert: get the facilitator's attention if they can't see it.
export function alertArrived() {
  if (!tabHidden()) return;
  unseen += 1;
  showBadge();
  if (soundOn()) chime();
  notify();
}

// Tell the server whether this tab is visible: once per socket (after its
// join or resume), then on every change; never the same state twice.
let reportedOn = null;

export function reportVisibility(socket) {
  if (!report) return;
  const visible = !tabHidden();
  if (socket === reportedOn && visible === lastReported) return;
  if (report(visible)) {
    reportedOn = socket;
    lastReported = visible;
  }
}

// The facilitator panel's controls: the sound toggle and the notification
// button (both in templates/facilitation/_facilitator_panel.html).
function wirePanel() {
  const sound = document.getElementById("alert-sound");
  if (sound) {
    sound.checked = soundOn();
    sound.addEventListener("change", () => setSound(sound.checked));
  }
  const button = document.getElementById("allow-notifications");
  const state = document.getElementById("notifications-state");
  const show = () => {
    const permission = notificationPermission();
    if (button) button.hidden = permission !== "default";
    if (state) {
      state.textContent = {
        granted: "Notifications are on in this browser.",
        denied: "Notifications are blocked in this browser's settings.",
        default: "",
        unsupported: "",
      }[permission];
    }
  };
  button?.addEventListener("click", async () => {
    await askForNotifications();
    show();
  });
  show();
}

export function startAttention(send, currentSocket) {
  report = send;
  document.addEventListener("visibilitychange", () => {
    if (!tabHidden() && unseen) {
      unseen = 0;
      showBadge();
    }
    reportVisibility(currentSocket());
  });
  for (const kind of ["pointerdown", "keydown"]) {
    document.addEventListener(kind, () => soundOn() && unlockAudio(), { once: true, capture: true });
  }
  wirePanel();
}
