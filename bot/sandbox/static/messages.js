// One message as Slack shows it: author, time, text or blocks, attachments, reactions, thread.

import { renderAttachments, renderBlocks } from "./blocks.js";
import { confirmDialog } from "./modal.js";
import { el, emojify, renderText } from "./mrkdwn.js";

const QUICK_REACTIONS = ["pushpin", "eyes", "white_check_mark", "+1"];

function time(ts) {
  const d = new Date(Number(ts) * 1000);
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function avatar(author) {
  const node = el("div", `avatar ${author.is_app ? "app" : author.is_bot ? "bot" : "person"}`);
  node.textContent = (author.name || "?").trim().charAt(0).toUpperCase() || "?";
  return node;
}

// handlers: {act(message, block, element, selection), react(message, name), pin(message),
//            thread(message), shortcut(message, shortcut), shortcuts, appName, inThread}
export function renderMessage(message, handlers) {
  const node = el("div", `message${message.ephemeral ? " ephemeral" : ""}`);
  node.dataset.ts = message.ts;
  // focusable, as in Slack, so the keyboard reaches its tools (reactions, More actions)
  if (!message.ephemeral) node.tabIndex = 0;
  node.appendChild(avatar(message.author));
  const main = el("div", "message-main");
  const head = el("div", "message-head");
  head.appendChild(el("span", "author", message.author.name));
  if (message.author.is_bot) head.appendChild(el("span", "badge", "APP"));
  head.appendChild(el("span", "time", time(message.ts)));
  if (message.edited) head.appendChild(el("span", "edited", "(edited)"));
  if (message.pinned) head.appendChild(el("span", "pinned", "📌 Pinned"));
  main.appendChild(head);
  if (message.ephemeral) main.appendChild(el("div", "only-you", "👁 Only visible to you"));
  const ctx = {
    surface: "message",
    act: (block, element, selection) => handlers.act(message, block, element, selection),
    confirm: confirmDialog,
  };
  if (message.blocks && message.blocks.length) main.appendChild(renderBlocks(message.blocks, ctx));
  else if (message.text) main.appendChild(renderText(message.text, "bk-text message-text"));
  if (message.attachments) main.appendChild(renderAttachments(message.attachments, ctx));
  for (const file of message.files || []) {
    const a = el("a", "bk-file", `📄 ${file.title || file.name}`);
    a.href = `/files/${encodeURIComponent(file.id)}`;
    a.target = "_blank";
    main.appendChild(a);
  }
  if (!message.ephemeral) {
    main.appendChild(reactions(message, handlers));
    if (message.reply_count && !handlers.inThread) {
      const replies = el("button", "replies", `💬 ${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"}`);
      replies.addEventListener("click", () => handlers.thread(message));
      main.appendChild(replies);
    }
    node.appendChild(tools(message, handlers));
  }
  node.appendChild(main);
  return node;
}

function reactions(message, handlers) {
  const row = el("div", "reactions");
  for (const r of message.reactions || []) {
    const chip = el("button", "reaction", `${emojify(`:${r.name}:`)} ${r.count}`);
    chip.title = `:${r.name}:`;
    chip.dataset.reaction = r.name;
    chip.addEventListener("click", () => handlers.react(message, r.name));
    row.appendChild(chip);
  }
  return row;
}

function tools(message, handlers) {
  const bar = el("div", "message-tools");
  for (const name of QUICK_REACTIONS) {
    const b = el("button", "tool", emojify(`:${name}:`));
    b.title = `React with :${name}:`;
    b.dataset.react = name;
    b.addEventListener("click", () => handlers.react(message, name));
    bar.appendChild(b);
  }
  if (!handlers.inThread) {
    const reply = el("button", "tool", "💬");
    reply.title = "Reply in thread";
    reply.dataset.tool = "thread";
    reply.addEventListener("click", () => handlers.thread(message));
    bar.appendChild(reply);
  }
  if (!message.pinned) {
    const pin = el("button", "tool", "Pin");
    pin.title = "Pin to channel";
    pin.dataset.tool = "pin";
    pin.addEventListener("click", () => handlers.pin(message));
    bar.appendChild(pin);
  }
  if (handlers.shortcuts && handlers.shortcuts.length) bar.appendChild(moreActions(message, handlers));
  return bar;
}

// Slack's "More actions" (⋯) on a message: the app's message shortcuts, as its manifest lists
// them; choosing one sends the app a message_action.
function moreActions(message, handlers) {
  const button = el("button", "tool", "⋯");
  button.title = "More actions";
  button.dataset.tool = "more";
  button.setAttribute("aria-label", "More actions");
  button.setAttribute("aria-haspopup", "menu");
  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", () => toggleMenu(button, message, handlers));
  button.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown") return;
    event.preventDefault();
    if (!menu || menu.button !== button) toggleMenu(button, message, handlers);
  });
  return button;
}

let menu = null; // the open menu: {node, button}; one at a time, kept on <body> across re-renders

function closeMenu(refocus) {
  if (!menu) return;
  const { node, button } = menu;
  menu = null;
  node.remove();
  document.removeEventListener("mousedown", clickedOutside, true);
  button.setAttribute("aria-expanded", "false");
  if (refocus && button.isConnected) button.focus(); // while still shown: the menu held focus
  const owner = button.closest(".message");
  if (owner) owner.classList.remove("menu-open");
}

function clickedOutside(event) {
  if (menu && !menu.node.contains(event.target) && !menu.button.contains(event.target)) closeMenu(false);
}

function toggleMenu(button, message, handlers) {
  if (menu && menu.button === button) return closeMenu(true);
  closeMenu(false);
  const node = el("div", "message-menu");
  node.setAttribute("role", "menu");
  node.setAttribute("aria-label", "More actions");
  const items = handlers.shortcuts.map((shortcut) => {
    const item = el("button", "menu-item");
    item.type = "button";
    item.tabIndex = -1;
    item.title = shortcut.description || "";
    item.dataset.callbackId = shortcut.callback_id;
    item.setAttribute("role", "menuitem");
    const app = handlers.appName || "App";
    item.setAttribute("aria-label", `${shortcut.name} (${app})`);
    item.append(el("span", "menu-name", shortcut.name), el("span", "menu-app", app));
    item.addEventListener("click", () => {
      closeMenu(true);
      handlers.shortcut(message, shortcut);
    });
    return item;
  });
  node.append(...items);
  node.addEventListener("keydown", (event) => {
    const at = items.indexOf(document.activeElement);
    const go = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[event.key];
    if (go !== undefined) items[(go + items.length) % items.length].focus();
    else if (event.key === "Escape" || event.key === "Tab") closeMenu(true);
    else return;
    event.preventDefault();
  });
  document.body.appendChild(node);
  const anchor = button.getBoundingClientRect();
  const below = anchor.bottom + 4 + node.offsetHeight <= window.innerHeight;
  node.style.top = `${below ? anchor.bottom + 4 : Math.max(4, anchor.top - 4 - node.offsetHeight)}px`;
  node.style.left = `${Math.max(4, anchor.right - node.offsetWidth)}px`;
  button.setAttribute("aria-expanded", "true");
  const owner = button.closest(".message");
  if (owner) owner.classList.add("menu-open");
  menu = { node, button };
  document.addEventListener("mousedown", clickedOutside, true);
  items[0].focus();
}

// Re-render a list only when its content changed; keep the reader's place (or the bottom).
export function renderList(container, messages, handlers, empty) {
  const signature = JSON.stringify(messages);
  if (container.dataset.signature === signature) return false;
  container.dataset.signature = signature;
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  const keep = container.scrollTop;
  container.replaceChildren();
  if (!messages.length) container.appendChild(el("div", "empty", empty));
  for (const message of messages) container.appendChild(renderMessage(message, handlers));
  container.scrollTop = atBottom ? container.scrollHeight : keep;
  return true;
}
