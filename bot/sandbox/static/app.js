// The sandbox page: channels, messages, threads, composer, Home, user switch, live updates,
// and the Pager panel.

import { renderBlocks } from "./blocks.js";
import { renderList } from "./messages.js";
import { Modal, confirmDialog } from "./modal.js";
import { directory, el } from "./mrkdwn.js";
import { PagerPanel } from "./pager.js";

const $ = (id) => document.getElementById(id);
const KIND_TITLES = {
  alerts: "Alert channels", status: "Status channel", war_room: "War rooms",
  channel: "Channels", dm: "Direct messages",
};
const KIND_BADGES = { alerts: "alert channel", status: "status channel", war_room: "war room" };
const SOURCE_LABELS = {
  alertmanager: "Alertmanager", grafana: "Grafana", datadog: "Datadog", sentry: "Sentry",
  storm: "Alert storm (30)",
};
const app = {
  ws: null, user: null, channel: null, thread: null, home: false, snapshot: null,
  follow: true, refreshing: false, again: false,
};

function toast(message) {
  if (!message) return;
  const node = el("div", "toast", message);
  $("toasts").appendChild(node);
  setTimeout(() => node.remove(), 7000);
}

async function api(path, body) {
  const response = await fetch(`/api/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: app.user, ...body }),
  });
  let data;
  try {
    data = await response.json();
  } catch {
    data = { ok: false, error: `The sandbox answered HTTP ${response.status}.` };
  }
  if (!response.ok) {
    toast(data.error || `HTTP ${response.status}`);
    return { ok: false, ...data };
  }
  return data;
}

const modal = new Modal(
  {
    action: (body) => api("action", body),
    submit: (body) => api("view/submit", body),
    close: (body) => api("view/close", body).then(refresh),
    suggest: (body) => api("suggest", body),
  },
  toast,
);
const pager = new PagerPanel(api, toast);

function handlers(inThread) {
  return {
    inThread,
    act: async (message, block, element, selection) => {
      const result = await api("action", {
        channel: app.channel, ts: message.ts, block_id: block.block_id,
        action_id: element.action_id, selection,
      });
      if (result.ok === false && result.error) toast(result.error);
      refresh();
    },
    react: (message, name) => api("react", { channel: app.channel, ts: message.ts, name }).then(refresh),
    pin: (message) => api("pin", { channel: app.channel, ts: message.ts }).then(refresh),
    shortcuts: app.ws.shortcuts || [],
    appName: app.ws.bot.name,
    shortcut: async (message, shortcut) => {
      const result = await api("shortcut", {
        channel: app.channel, ts: message.ts, callback_id: shortcut.callback_id,
      });
      if (result.ok === false && result.error) toast(result.error);
      refresh();
    },
    thread: (message) => {
      app.thread = message.ts;
      refresh();
    },
  };
}

function renderSidebar(snapshot) {
  const nav = $("channels");
  nav.replaceChildren();
  let kind = null;
  for (const channel of snapshot.channels) {
    if (channel.kind !== kind) {
      kind = channel.kind;
      nav.appendChild(el("h4", "nav-title", KIND_TITLES[kind] || kind));
    }
    const prefix = channel.kind === "dm" ? "● " : channel.is_private ? "🔒 " : "# ";
    const item = el("button", "nav-item", prefix + channel.name);
    item.dataset.channelId = channel.id;
    item.dataset.channelName = channel.name;
    item.dataset.kind = channel.kind;
    if (channel.is_archived) item.classList.add("archived");
    if (!app.home && channel.id === snapshot.channel) item.classList.add("active");
    item.addEventListener("click", () => openChannel(channel.id, true));
    nav.appendChild(item);
  }
  $("home-link").classList.toggle("active", app.home);
}

function renderHead(snapshot) {
  const channel = snapshot.channels.find((c) => c.id === snapshot.channel);
  $("channel-name").textContent = app.home ? "Incident Bot — Home" : channel ? `#${channel.name}` : "";
  $("channel-kind").textContent = (!app.home && channel && KIND_BADGES[channel.kind]) || "";
  $("channel-topic").textContent = app.home || !channel ? "" : channel.topic || channel.purpose || "";
  const pins = $("pins-button");
  pins.hidden = app.home || !snapshot.pins.length;
  pins.textContent = `📌 ${snapshot.pins.length} pinned`;
  $("join-button").hidden = app.home || !channel || channel.is_member || channel.kind === "dm";
  $("composer").hidden = app.home || !channel || channel.is_archived;
  $("archived-note").hidden = app.home || !channel || !channel.is_archived;
  const placeholder = channel ? `Message #${channel.name} — or type /incident help` : "";
  $("composer-text").placeholder = placeholder;
}

function renderPins(snapshot) {
  const panel = $("pins-panel");
  if (panel.hidden) return;
  renderList(panel, snapshot.pins, handlers(true), "Nothing is pinned here.");
}

function renderThread(snapshot) {
  const panel = $("thread");
  panel.hidden = !snapshot.thread || app.home;
  if (!snapshot.thread) {
    if (app.thread) app.thread = null;
    return;
  }
  const { parent, replies } = snapshot.thread;
  renderList($("thread-messages"), [parent, ...replies], handlers(true), "");
}

function renderHome(snapshot) {
  const home = $("home");
  home.hidden = !app.home;
  $("messages").hidden = app.home;
  if (!app.home) return;
  const signature = JSON.stringify(snapshot.home);
  if (home.dataset.signature === signature) return;
  home.dataset.signature = signature;
  home.replaceChildren();
  if (!snapshot.home) {
    home.appendChild(el("div", "empty", "The app has not published a Home tab for you."));
    return;
  }
  const view = snapshot.home;
  home.appendChild(
    renderBlocks(view.blocks, {
      surface: "home",
      confirm: confirmDialog,
      act: async (block, element, selection) => {
        const r = await api("action", { view_id: view.id, block_id: block.block_id, action_id: element.action_id, selection });
        if (r.ok === false && r.error) toast(r.error);
      },
    }),
  );
}

function render(snapshot) {
  app.snapshot = snapshot;
  app.channel = snapshot.channel;
  directory.channels = Object.fromEntries(snapshot.channels.map((c) => [c.id, c]));
  renderSidebar(snapshot);
  renderHead(snapshot);
  if (!app.home) renderList($("messages"), snapshot.messages, handlers(false), "No messages yet.");
  renderPins(snapshot);
  renderThread(snapshot);
  renderHome(snapshot);
  modal.show(snapshot.modal);
  document.body.dataset.version = String(snapshot.version);
}

async function refresh() {
  if (app.refreshing) {
    app.again = true;
    return;
  }
  app.refreshing = true;
  try {
    do {
      app.again = false;
      const asked = { user: app.user, channel: app.channel || "", thread: app.thread || "" };
      const response = await fetch(`/api/state?${new URLSearchParams(asked)}`);
      const snapshot = response.ok ? await response.json() : null;
      // compared only once the whole answer is read: the person may switch channel, thread or
      // user while it arrives, and then this answer is stale
      const current = { user: app.user, channel: app.channel || "", thread: app.thread || "" };
      if (JSON.stringify(asked) !== JSON.stringify(current)) app.again = true;
      else if (snapshot) render(snapshot);
    } while (app.again);
  } catch (error) {
    toast(`Could not reach the sandbox: ${error.message}`);
  } finally {
    app.refreshing = false;
  }
}

function openChannel(id, byHand) {
  if (byHand && app.follow) {
    app.follow = false;
    $("follow").checked = false;
  }
  if (app.channel !== id) app.thread = null;
  app.channel = id;
  app.home = false;
  $("pins-panel").hidden = true;
  $("messages").dataset.signature = "";
  refresh();
}
directory.openChannel = (id) => openChannel(id, true);

async function send(textarea, thread) {
  const text = textarea.value;
  if (!text.trim() || !app.channel) return;
  textarea.disabled = true;
  try {
    const result = await api("send", { channel: app.channel, text, thread_ts: thread || undefined });
    if (result.ok !== false || result.error === "invalid_command" || result.error === "dispatch_failed" || result.error === "operation_timeout") {
      textarea.value = "";
    }
  } finally {
    textarea.disabled = false;
    textarea.focus();
    refresh();
  }
}

function composer(form, textarea, thread) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(textarea, thread());
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      send(textarea, thread());
    }
  });
}

function narrate(event) {
  const box = $("narration");
  box.hidden = false;
  $("narration-text").textContent = event.text;
  box.dataset.status = event.status || "running";
  const line = el("li", `narration-${event.status || "running"}`, event.text);
  $("narration-log").appendChild(line);
}

function onEvent(event) {
  if (event.type === "change") refresh();
  else if (event.type === "pager") pager.load();
  else if (event.type === "narration") narrate(event);
  else if (event.type === "focus" && app.follow && event.channel) {
    app.channel = event.channel;
    app.home = false;
    app.thread = event.thread || null;
    refresh();
  }
}

function listen() {
  const source = new EventSource("/api/events");
  source.onopen = () => {
    $("live").textContent = "● live";
    $("live").className = "live on";
    refresh();
    pager.load();
  };
  source.onerror = () => {
    $("live").textContent = "○ reconnecting…";
    $("live").className = "live off";
  };
  source.onmessage = (message) => onEvent(JSON.parse(message.data));
}

function setup(ws) {
  app.ws = ws;
  directory.users = ws.users;
  $("team").textContent = ws.team;
  const switcher = $("user-switch");
  for (const person of ws.people) {
    const option = el("option", null, `${person.real_name} (@${person.name})`);
    option.value = person.id;
    switcher.appendChild(option);
  }
  const wanted = new URLSearchParams(location.search).get("as") || localStorage.getItem("sandbox.user");
  app.user = ws.people.some((p) => p.id === wanted) ? wanted : ws.people[0].id;
  switcher.value = app.user;
  switcher.addEventListener("change", () => {
    app.user = switcher.value;
    localStorage.setItem("sandbox.user", app.user);
    modal.hide();
    refresh();
  });
  for (const source of ws.sources) {
    const b = el("button", "simulate-button", SOURCE_LABELS[source] || source);
    b.dataset.source = source;
    b.addEventListener("click", async () => {
      b.disabled = true;
      const result = await api("alerts", { source }).finally(() => (b.disabled = false));
      if (result.ok) openChannel(result.channel, true);
    });
    $("alert-buttons").appendChild(b);
  }
  $("home-link").addEventListener("click", async () => {
    app.home = true;
    app.thread = null;
    $("home").dataset.signature = "";
    await api("home", {});
    refresh();
  });
  $("join-button").addEventListener("click", () => api("join", { channel: app.channel }).then(refresh));
  $("pins-button").addEventListener("click", () => {
    $("pins-panel").hidden = !$("pins-panel").hidden;
    $("pins-panel").dataset.signature = "";
    if (app.snapshot) renderPins(app.snapshot);
  });
  $("thread-close").addEventListener("click", () => {
    app.thread = null;
    refresh();
  });
  $("follow").addEventListener("change", (event) => (app.follow = event.target.checked));
  composer($("composer"), $("composer-text"), () => null);
  composer($("thread-composer"), $("thread-text"), () => app.thread);
  ws.narration.forEach(narrate);
  if (!ws.demo) app.follow = false;
  $("follow").checked = app.follow;
  listen();
}

fetch("/api/workspace")
  .then((r) => r.json())
  .then(setup)
  .catch((error) => toast(`Could not load the sandbox: ${error.message}`));
