// Block Kit → DOM: the blocks and elements the bot posts, in messages, modals and the Home tab.

import { directory, el, link, plain, renderText, safeUrl } from "./mrkdwn.js";

// ctx: {surface, act(block, element, selection), field(block, element, read), confirm(obj),
//       suggest(block, element, typed) → options (modals: the app's external_select options)}

function optionsOf(element) {
  const groups = element.option_groups || [];
  return [...(element.options || []), ...groups.flatMap((g) => g.options || [])];
}

function fillOptions(select, element, placeholder) {
  if (placeholder !== false) {
    const none = el("option", null, plain(element.placeholder) || "Select…");
    none.value = "";
    select.appendChild(none);
  }
  const add = (parent, option) => {
    const node = el("option", null, plain(option.text));
    node.value = option.value;
    parent.appendChild(node);
  };
  (element.options || []).forEach((o) => add(select, o));
  for (const group of element.option_groups || []) {
    const node = el("optgroup");
    node.label = plain(group.label);
    (group.options || []).forEach((o) => add(node, o));
    select.appendChild(node);
  }
}

function people(select, element, multi) {
  if (!multi) {
    const none = el("option", null, plain(element.placeholder) || "Select a person");
    none.value = "";
    select.appendChild(none);
  }
  for (const [id, user] of Object.entries(directory.users)) {
    if (user.is_bot) continue;
    const node = el("option", null, `${user.real_name} (@${user.name})`);
    node.value = id;
    select.appendChild(node);
  }
}

function channelsInto(select, element) {
  const none = el("option", null, plain(element.placeholder) || "Select a channel");
  none.value = "";
  select.appendChild(none);
  for (const [id, ch] of Object.entries(directory.channels)) {
    if (ch.kind === "dm") continue;
    const node = el("option", null, `#${ch.name}`);
    node.value = id;
    select.appendChild(node);
  }
}

function selectedValues(select) {
  return [...select.selectedOptions].map((o) => o.value).filter((v) => v !== "");
}

// An external_select lists what the app suggests: asked once, for everything (typed: "").
function suggested(select, element, ctx, block, multi) {
  if (!ctx.suggest) return;
  ctx.suggest(block, element, "").then((options) => {
    const chosen = selectedValues(select);
    const known = new Set(element.options.map((o) => o.value));
    element.options.push(...options.filter((o) => o && !known.has(o.value)));
    select.replaceChildren();
    fillOptions(select, element, !multi);
    for (const option of select.options) option.selected = chosen.includes(option.value);
  });
}

function selectElement(given, ctx, block) {
  const type = given.type;
  const multi = type.startsWith("multi_");
  const select = el("select", `bk-select ${type}`);
  select.multiple = multi;
  select.dataset.actionId = given.action_id || "";
  const kind = type.replace(/^multi_/, "");
  const external = kind === "external_select";
  const initials = [given.initial_option, ...(given.initial_options || [])].filter(Boolean);
  const element = external ? { ...given, options: initials } : given;
  if (kind === "users_select") people(select, element, multi);
  else if (kind === "conversations_select" || kind === "channels_select") channelsInto(select, element);
  else fillOptions(select, element, !multi);
  const initial = [
    element.initial_option && element.initial_option.value,
    ...(element.initial_options || []).map((o) => o.value),
    element.initial_user, ...(element.initial_users || []),
    element.initial_conversation, element.initial_channel,
    ...(element.initial_conversations || []), ...(element.initial_channels || []),
  ].filter(Boolean);
  for (const option of select.options) option.selected = initial.includes(option.value);
  if (external) suggested(select, element, ctx, block, multi);
  const read = () => {
    const values = selectedValues(select);
    const byValue = Object.fromEntries(optionsOf(element).map((o) => [o.value, o]));
    if (kind === "users_select")
      return multi ? { type, selected_users: values } : { type, selected_user: values[0] || null };
    if (kind === "conversations_select")
      return multi ? { type, selected_conversations: values } : { type, selected_conversation: values[0] || null };
    if (kind === "channels_select")
      return multi ? { type, selected_channels: values } : { type, selected_channel: values[0] || null };
    if (multi) return { type, selected_options: values.map((v) => byValue[v]).filter(Boolean) };
    return { type, selected_option: byValue[values[0]] || null };
  };
  return wire(select, element, ctx, block, read, "change");
}

// Inputs in input blocks are read on submit; anything else acts at once, as in Slack.
function wire(node, element, ctx, block, read, event) {
  if (ctx.field && block && block.type === "input") {
    ctx.field(block, element, read);
    if (!block.dispatch_action) return node;
  }
  node.addEventListener(event, () => {
    const { type, ...selection } = read();
    ctx.act(block, element, selection);
  });
  return node;
}

function button(element, ctx, block) {
  const node = el("button", `bk-button ${element.style || ""}`.trim(), plain(element.text));
  node.type = "button";
  node.dataset.actionId = element.action_id || "";
  node.addEventListener("click", async () => {
    if (element.confirm && !(await ctx.confirm(element.confirm))) return;
    const url = safeUrl(element.url);
    if (url) window.open(url, "_blank", "noopener,noreferrer");
    ctx.act(block, element, null);
  });
  return node;
}

function textInput(element, ctx, block) {
  const multiline = element.type === "plain_text_input" && element.multiline;
  const node = el(multiline ? "textarea" : "input", "bk-input");
  const types = { number_input: "number", email_text_input: "email", url_text_input: "url" };
  if (!multiline) node.type = types[element.type] || "text";
  if (element.placeholder) node.placeholder = plain(element.placeholder);
  if (element.max_length) node.maxLength = element.max_length;
  if (element.initial_value !== undefined) node.value = String(element.initial_value);
  node.dataset.actionId = element.action_id || "";
  const read = () => ({ type: element.type, value: node.value === "" ? null : node.value });
  return wire(node, element, ctx, block, read, "change");
}

function picker(element, ctx, block, kind) {
  const node = el("input", "bk-input");
  node.type = kind;
  node.value = element.initial_date || element.initial_time || "";
  node.dataset.actionId = element.action_id || "";
  const key = kind === "date" ? "selected_date" : "selected_time";
  const read = () => ({ type: element.type, [key]: node.value || null });
  return wire(node, element, ctx, block, read, "change");
}

function choices(element, ctx, block) {
  const box = el("div", `bk-choices ${element.type}`);
  const radio = element.type === "radio_buttons";
  const name = `${block ? block.block_id : "b"}-${element.action_id}`;
  const initial = [
    ...(element.initial_options || []),
    ...(element.initial_option ? [element.initial_option] : []),
  ].map((o) => o.value);
  const inputs = (element.options || []).map((option) => {
    const label = el("label", "bk-choice");
    const input = el("input");
    input.type = radio ? "radio" : "checkbox";
    input.name = name;
    input.value = option.value;
    input.checked = initial.includes(option.value);
    label.append(input, renderText(option.text, "bk-choice-text"));
    if (option.description) label.appendChild(renderText(option.description, "bk-hint"));
    box.appendChild(label);
    return [input, option];
  });
  const read = () => {
    const picked = inputs.filter(([i]) => i.checked).map(([, o]) => o);
    return radio
      ? { type: element.type, selected_option: picked[0] || null }
      : { type: element.type, selected_options: picked };
  };
  return wire(box, element, ctx, block, read, "change");
}

function overflow(element, ctx, block) {
  const select = el("select", "bk-select overflow");
  const none = el("option", null, "⋯");
  none.value = "";
  select.appendChild(none);
  for (const option of element.options || []) {
    const node = el("option", null, plain(option.text));
    node.value = option.value;
    select.appendChild(node);
  }
  select.addEventListener("change", () => {
    const option = (element.options || []).find((o) => o.value === select.value);
    select.value = "";
    if (option) ctx.act(block, element, { selected_option: option });
  });
  return select;
}

export function renderElement(element, ctx, block) {
  if (!element || typeof element !== "object") return el("span", "bk-unknown", "[missing element]");
  const type = element.type;
  if (type === "button" || type === "workflow_button") return button(element, ctx, block);
  if (type === "image") return link(element.image_url, `🖼 ${element.alt_text || "image"}`);
  if (type === "overflow") return overflow(element, ctx, block);
  if (/_select$/.test(type)) return selectElement(element, ctx, block);
  if (/(text|number)_input$/.test(type)) return textInput(element, ctx, block);
  if (type === "datepicker") return picker(element, ctx, block, "date");
  if (type === "timepicker") return picker(element, ctx, block, "time");
  if (type === "checkboxes" || type === "radio_buttons") return choices(element, ctx, block);
  return el("span", "bk-unknown", `[unsupported element: ${type}]`);
}

function richText(block) {
  const out = el("div", "bk-text rich");
  const inline = (parent, items) => {
    for (const item of items || []) {
      if (item.type === "text") parent.appendChild(document.createTextNode(item.text || ""));
      else if (item.type === "link") parent.appendChild(link(item.url, item.text));
      else if (item.type === "user") parent.appendChild(renderText(`<@${item.user_id}>`, "inline"));
      else if (item.type === "channel") parent.appendChild(renderText(`<#${item.channel_id}>`, "inline"));
      else if (item.type === "emoji") parent.appendChild(renderText(`:${item.name}:`, "inline"));
      else if (item.elements) inline(parent, item.elements);
    }
  };
  for (const part of block.elements || []) {
    const tag = part.type === "rich_text_preformatted" ? "pre" : part.type === "rich_text_quote" ? "blockquote" : "div";
    const node = el(tag, part.type);
    if (part.type === "rich_text_list") {
      for (const item of part.elements || []) {
        const li = el("div", "li", "• ");
        inline(li, item.elements);
        node.appendChild(li);
      }
    } else inline(node, part.elements);
    out.appendChild(node);
  }
  return out;
}

const BLOCKS = {
  header: (b) => el("div", "bk-header", plain(b.text)),
  divider: () => el("hr", "bk-divider"),
  section(b, ctx) {
    const node = el("div", "bk-section");
    const body = el("div", "bk-section-body");
    if (b.text) body.appendChild(renderText(b.text));
    if (b.fields) {
      const grid = el("div", "bk-fields");
      b.fields.forEach((f) => grid.appendChild(renderText(f, "bk-field")));
      body.appendChild(grid);
    }
    node.appendChild(body);
    if (b.accessory) node.appendChild(el("div", "bk-accessory")).appendChild(renderElement(b.accessory, ctx, b));
    return node;
  },
  context(b) {
    const node = el("div", "bk-context");
    for (const item of b.elements || []) {
      node.appendChild(item.type === "image" ? link(item.image_url, `🖼 ${item.alt_text || "image"}`) : renderText(item, "bk-context-text"));
    }
    return node;
  },
  actions(b, ctx) {
    const node = el("div", "bk-actions");
    (b.elements || []).forEach((e) => node.appendChild(renderElement(e, ctx, b)));
    return node;
  },
  image(b) {
    const node = el("div", "bk-image");
    node.appendChild(link(b.image_url, `🖼 ${plain(b.title) || b.alt_text || "image"}`));
    return node;
  },
  input(b, ctx) {
    const node = el("div", "bk-input-block");
    node.dataset.blockId = b.block_id || "";
    const label = el("label", "bk-label", plain(b.label));
    if (b.optional) label.appendChild(el("span", "bk-optional", " (optional)"));
    node.append(label, renderElement(b.element, ctx, b));
    if (b.hint) node.appendChild(el("div", "bk-hint", plain(b.hint)));
    node.appendChild(el("div", "bk-error"));
    return node;
  },
  markdown: (b) => renderText({ type: "mrkdwn", text: b.text || "" }),
  rich_text: richText,
  file: (b) => el("div", "bk-file", `📄 file ${b.file_id || b.external_id || ""}`),
  video: (b) => link(b.video_url || b.title_url, `🎬 ${plain(b.title) || "video"}`),
};

export function renderBlocks(blocks, ctx) {
  const out = el("div", "bk-blocks");
  for (const block of blocks || []) {
    const render = block && BLOCKS[block.type];
    let node;
    try {
      node = render ? render(block, ctx) : null;
    } catch (error) {
      node = el("div", "bk-unknown", `[block could not be shown: ${error.message}]`);
    }
    if (!node) {
      const type = block && typeof block.type === "string" ? block.type : "?";
      node = el("div", "bk-unknown", `[unsupported block type: ${type}]`);
      node.title = "The sandbox cannot show this kind of block";
    }
    out.appendChild(node);
  }
  return out;
}

export function renderAttachments(attachments, ctx) {
  const out = el("div", "attachments");
  for (const a of attachments || []) {
    const node = el("div", "attachment");
    const color = /^#?[0-9a-f]{3,6}$/i.test(a.color || "") ? `#${a.color.replace("#", "")}` : null;
    const named = { good: "#2eb886", warning: "#daa038", danger: "#a30200" }[a.color];
    node.style.borderLeftColor = color || named || "#ddd";
    if (a.pretext) node.appendChild(renderText(a.pretext, "bk-text pretext"));
    if (a.author_name) node.appendChild(el("div", "att-author", a.author_name));
    if (a.title) {
      const title = el("div", "att-title");
      title.appendChild(a.title_link ? link(a.title_link, a.title) : el("span", null, a.title));
      node.appendChild(title);
    }
    if (a.text) node.appendChild(renderText(a.text, "bk-text"));
    if (a.fields) {
      const grid = el("div", "bk-fields");
      for (const f of a.fields) {
        const cell = el("div", "bk-field");
        cell.append(el("b", null, f.title || ""), renderText(String(f.value ?? ""), "bk-text"));
        grid.appendChild(cell);
      }
      node.appendChild(grid);
    }
    if (a.blocks) node.appendChild(renderBlocks(a.blocks, ctx));
    if (a.image_url) node.appendChild(link(a.image_url, "🖼 image"));
    if (a.footer) node.appendChild(renderText(a.footer, "att-footer"));
    out.appendChild(node);
  }
  return out;
}
