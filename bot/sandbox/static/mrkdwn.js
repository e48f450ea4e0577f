// Safe rendering of Slack text (mrkdwn and plain_text) into DOM nodes: text only via textContent.

const EMOJI = {
  "+1": "👍", "12": "🕛", arrows_counterclockwise: "🔄", bell: "🔔", book: "📖", bookmark: "🔖",
  books: "📚", bulb: "💡", bust_in_silhouette: "👤", busts_in_silhouette: "👥", calendar: "📅",
  chart_with_upwards_trend: "📈", clipboard: "📋", cyclone: "🌀", dart: "🎯", door: "🚪",
  eyes: "👀", fast_forward: "⏩", fire: "🔥", heavy_check_mark: "✔️", hourglass: "⌛",
  information_source: "ℹ️", large_blue_circle: "🔵", large_green_circle: "🟢",
  large_orange_circle: "🟠", large_yellow_circle: "🟡", link: "🔗", lock: "🔒",
  loudspeaker: "📢", mag: "🔍", mega: "📣", memo: "📝", notebook: "📓", pushpin: "📌",
  red_circle: "🔴", repeat: "🔁", rotating_light: "🚨", round_pushpin: "📍",
  small_blue_diamond: "🔹", sunny: "☀️", tada: "🎉", test_tube: "🧪", thumbsup: "👍",
  warning: "⚠️", wave: "👋", white_check_mark: "✅", white_circle: "⚪",
  white_large_square: "⬜", x: "❌", zzz: "💤", no_entry: "⛔", stopwatch: "⏱️",
  hammer_and_wrench: "🛠️", speech_balloon: "💬", robot_face: "🤖", clock1: "🕐",
  alarm_clock: "⏰", arrow_double_up: "⏫", hourglass_flowing_sand: "⏳", pager: "📟",
  raising_hand: "🙋", telephone_receiver: "📞", bug: "🐛", leftwards_arrow_with_hook: "↩️",
};
const SAFE_URL = /^(https?:|mailto:)/i;
// control sequences (<@U…>, <url|label>, <!date…>) are swapped for placeholders first, so
// emphasis around them (_Done by <@U_ALICE>_) parses; placeholders become nodes at the end
const CONTROL = /<[^<>\n]+>/g;
const PLACEHOLDER = /\uE000(\d+)\uE001/g;
const INLINE =
  /```([\s\S]+?)```|`([^`\n]+)`|\*(?=\S)([^*\n]+?)\*|(?<![\w])_(?=\S)([^_\n]+?)_(?![\w])|~(?=\S)([^~\n]+?)~/g;

export const directory = { users: {}, channels: {}, openChannel: null };

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function safeUrl(url) {
  return typeof url === "string" && SAFE_URL.test(url.trim()) ? url.trim() : null;
}

export function link(url, label) {
  const href = safeUrl(url);
  if (!href) return el("span", "bk-badlink", label || url || "");
  const a = el("a", "bk-link", label || href);
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return a;
}

export function unescape(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export function emojify(text) {
  return String(text).replace(/:([a-z0-9_+'-]+):/g, (m, name) => EMOJI[name] || m);
}

function appendPlain(parent, text, emoji = true) {
  const parts = (emoji ? emojify(text) : String(text)).split("\n");
  parts.forEach((part, i) => {
    if (i > 0) parent.appendChild(document.createElement("br"));
    if (part) parent.appendChild(document.createTextNode(part));
  });
}

function appendText(parent, text, controls, emoji = true) {
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    appendPlain(parent, unescape(text.slice(last, m.index)), emoji);
    parent.appendChild(control(controls[Number(m[1])].slice(1, -1)));
    last = m.index + m[0].length;
  }
  appendPlain(parent, unescape(text.slice(last)), emoji);
}

function restore(text, controls) {
  return unescape(text.replace(PLACEHOLDER, (m, i) => controls[Number(i)]));
}

const DATE_TOKENS = {
  date_num: (d) => d.toISOString().slice(0, 10),
  date: (d) => d.toLocaleDateString(undefined, { month: "long", day: "numeric", year: "numeric" }),
  date_short: (d) => d.toLocaleDateString(undefined, { month: "short", day: "numeric", year: "numeric" }),
  date_long: (d) =>
    d.toLocaleDateString(undefined, { weekday: "long", month: "long", day: "numeric", year: "numeric" }),
  time: (d) => d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }),
  time_secs: (d) => d.toLocaleTimeString(),
};

function pretty(d, fallback) {
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86400000);
  if (d.toDateString() === today.toDateString()) return "Today";
  if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
  return fallback(d);
}

export function formatDate(seconds, format) {
  const d = new Date(Number(seconds) * 1000);
  if (Number.isNaN(d.getTime())) return null;
  return format.replace(/\{([a-z_]+)\}/g, (m, token) => {
    if (token === "ago") {
      const mins = Math.round((Date.now() - d.getTime()) / 60000);
      return mins < 1 ? "just now" : mins < 60 ? `${mins} minutes ago` : `${Math.round(mins / 60)} hours ago`;
    }
    if (token.endsWith("_pretty")) {
      const base = DATE_TOKENS[token.replace(/_pretty$/, "")] || DATE_TOKENS.date;
      return pretty(d, base);
    }
    return DATE_TOKENS[token] ? DATE_TOKENS[token](d) : m;
  });
}

function control(inner) {
  const [target, ...rest] = inner.split("|");
  const label = rest.length ? unescape(rest.join("|")) : null;
  if (target.startsWith("@")) {
    const user = directory.users[target.slice(1)];
    return el("span", "mention", `@${user ? user.name : label || target.slice(1)}`);
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    const channel = directory.channels[id];
    const span = el("span", "mention channel-link", `#${channel ? channel.name : label || id}`);
    span.dataset.channel = id;
    span.addEventListener("click", () => directory.openChannel && directory.openChannel(id));
    return span;
  }
  if (target.startsWith("!date^")) {
    const [, seconds, format] = target.split("^");
    return el("span", "date", formatDate(seconds, format || "{date}") || label || "");
  }
  if (target.startsWith("!subteam^")) return el("span", "mention", label || "@group");
  if (target.startsWith("!")) return el("span", "mention special", `@${target.slice(1)}`);
  // a label is formatted as Slack does (<url|*TimeoutError*> is a bold link)
  const node = link(unescape(target), label);
  if (label) {
    node.replaceChildren();
    renderInline(node, rest.join("|"));
  }
  return node;
}

function inline(parent, text, controls) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) appendText(parent, text.slice(last, m.index), controls);
    if (m[1] !== undefined) parent.appendChild(el("pre", "code-block", restore(m[1], controls)));
    else if (m[2] !== undefined) appendText(parent.appendChild(el("code", "code")), m[2], controls, false);
    else {
      const node = el(m[3] !== undefined ? "b" : m[4] !== undefined ? "i" : "s");
      inline(node, m[3] ?? m[4] ?? m[5], controls);
      parent.appendChild(node);
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) appendText(parent, text.slice(last), controls);
  return parent;
}

export function renderInline(parent, text) {
  const controls = [];
  const marked = String(text)
    .replace(/[\uE000\uE001]/g, "")
    .replace(CONTROL, (m) => `\uE000${controls.push(m) - 1}\uE001`);
  return inline(parent, marked, controls);
}

// A text object ({type: mrkdwn|plain_text, text}) or a bare mrkdwn string.
export function renderText(obj, className) {
  const node = el("div", className || "bk-text");
  if (obj === null || obj === undefined) return node;
  if (typeof obj === "string") return renderInline(node, obj);
  const text = typeof obj.text === "string" ? obj.text : "";
  if (obj.type === "plain_text") {
    appendPlain(node, text, obj.emoji !== false);
    return node;
  }
  return renderInline(node, text);
}

export function plain(obj) {
  if (!obj) return "";
  return emojify(typeof obj === "string" ? obj : obj.text || "");
}
