// Modals: render the view the bot opened, collect its state, submit or cancel; confirm dialogs.

import { renderBlocks } from "./blocks.js";
import { el, plain, renderText } from "./mrkdwn.js";

export function confirmDialog(obj) {
  return new Promise((resolve) => {
    const backdrop = el("div", "backdrop confirm-backdrop");
    const box = el("div", "dialog confirm");
    box.setAttribute("role", "alertdialog");
    box.appendChild(el("h3", null, plain(obj.title) || "Are you sure?"));
    box.appendChild(renderText(obj.text || { type: "plain_text", text: "" }));
    const buttons = el("div", "dialog-buttons");
    const deny = el("button", "bk-button", plain(obj.deny) || "Cancel");
    const ok = el("button", `bk-button ${obj.style === "danger" ? "danger" : "primary"}`, plain(obj.confirm) || "Yes");
    const done = (answer) => {
      backdrop.remove();
      resolve(answer);
    };
    deny.addEventListener("click", () => done(false));
    ok.addEventListener("click", () => done(true));
    buttons.append(deny, ok);
    box.appendChild(buttons);
    backdrop.appendChild(box);
    document.body.appendChild(backdrop);
    ok.focus();
  });
}

// Slack's client refuses to submit a required input left empty, without asking the app.
function isEmpty(value) {
  const { type, ...rest } = value;
  return Object.values(rest).every((v) => v === null || v === "" || (Array.isArray(v) && !v.length));
}

export class Modal {
  // api: {action(body), submit(body), close(body), suggest(body)}
  constructor(api, toast) {
    this.api = api;
    this.toast = toast;
    this.view = null;
    this.root = null;
    this.fields = [];
  }

  show(view) {
    if (!view) return this.hide();
    if (this.view && this.view.id === view.id && this.view.hash === view.hash) return;
    this.hide();
    this.view = view;
    this.fields = [];
    const backdrop = el("div", "backdrop");
    const box = el("div", "dialog modal");
    box.setAttribute("role", "dialog");
    box.dataset.callbackId = view.callback_id || "";
    const head = el("div", "modal-head");
    head.appendChild(el("h2", "modal-title", plain(view.title)));
    const x = el("button", "modal-x", "×");
    x.title = "Close";
    x.addEventListener("click", () => this.cancel());
    head.appendChild(x);
    const ctx = {
      surface: "modal",
      field: (block, element, read) => this.fields.push({ block, element, read }),
      act: (block, element, selection) => this.act(block, element, selection),
      suggest: (block, element, value) => this.suggest(element, value),
      confirm: confirmDialog,
    };
    const body = el("div", "modal-body");
    body.appendChild(renderBlocks(view.blocks, ctx));
    const error = el("div", "modal-error");
    const foot = el("div", "dialog-buttons");
    const cancel = el("button", "bk-button", plain(view.close) || "Cancel");
    cancel.addEventListener("click", () => this.cancel());
    foot.appendChild(cancel);
    if (view.submit) {
      const submit = el("button", "bk-button primary modal-submit", plain(view.submit));
      submit.addEventListener("click", () => this.submit(submit));
      foot.appendChild(submit);
    }
    box.append(head, body, error, foot);
    backdrop.appendChild(box);
    document.body.appendChild(backdrop);
    this.root = backdrop;
    const first = box.querySelector("input, textarea, select");
    if (first) first.focus();
  }

  hide() {
    if (this.root) this.root.remove();
    this.root = null;
    this.view = null;
    this.fields = [];
  }

  state() {
    const values = {};
    for (const { block, element, read } of this.fields) {
      values[block.block_id] = { ...(values[block.block_id] || {}), [element.action_id]: read() };
    }
    return values;
  }

  async act(block, element, selection) {
    const result = await this.api.action({
      view_id: this.view.id,
      block_id: block.block_id,
      action_id: element.action_id,
      selection,
      state: this.state(),
    });
    if (!result.ok) this.toast(result.error);
  }

  // an external_select's options: Slack asks the app (block_suggestion) for what was typed
  async suggest(element, value) {
    if (!this.view) return [];
    const result = await this.api.suggest({ view_id: this.view.id, action_id: element.action_id, value });
    return result.ok ? result.options || [] : [];
  }

  async submit(button) {
    const view = this.view;
    button.disabled = true;
    this.root.querySelectorAll(".bk-error").forEach((node) => (node.textContent = ""));
    this.root.querySelector(".modal-error").textContent = "";
    const missing = this.fields.filter(({ block, read }) => !block.optional && isEmpty(read()));
    for (const { block } of missing) this.slot(block.block_id).textContent = "Please fill out this field.";
    if (missing.length) {
      button.disabled = false;
      return;
    }
    try {
      const result = await this.api.submit({ view_id: view.id, values: this.state() });
      if (!this.root || this.view !== view) return;
      if (result.errors) {
        for (const [blockId, message] of Object.entries(result.errors)) {
          const slot = this.slot(blockId);
          if (slot) slot.textContent = message;
          else this.root.querySelector(".modal-error").textContent = message;
        }
      } else if (!result.ok) {
        this.root.querySelector(".modal-error").textContent = result.error;
      } else {
        this.hide();
      }
    } finally {
      button.disabled = false;
    }
  }

  slot(blockId) {
    return this.root.querySelector(`.bk-input-block[data-block-id="${CSS.escape(blockId)}"] .bk-error`);
  }

  async cancel() {
    const view = this.view;
    this.hide();
    if (view) await this.api.close({ view_id: view.id });
  }
}
