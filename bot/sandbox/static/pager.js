// The Pager panel: what the sandbox's PagerDuty and Opsgenie were sent, live, and an
// Acknowledge button that acknowledges a page as its on-call (the pager then tells the bot).

import { el } from "./mrkdwn.js";

const $ = (id) => document.getElementById(id);
const KEY_NAMES = { pagerduty: "dedup key", opsgenie: "alias" };

export class PagerPanel {
  // post(path, body): the page's API; toast(message): a notice
  constructor(post, toast) {
    this.post = post;
    this.toast = toast;
    this.loading = false;
    this.again = false;
  }

  async load() {
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = true;
    try {
      do {
        this.again = false;
        const response = await fetch("/api/pager");
        if (response.ok) this.render(await response.json());
      } while (this.again);
    } catch (error) {
      this.toast(`Could not load the pager: ${error.message}`);
    } finally {
      this.loading = false;
    }
  }

  render(data) {
    $("pager").hidden = false;
    $("pager-services").replaceChildren(
      ...data.services.map((s) =>
        el("div", "pager-service", `${s.service} → ${s.pager}; on call: ${s.oncall.join(", ") || "nobody"}`),
      ),
    );
    const list = $("pager-pages");
    list.replaceChildren();
    if (!data.pages.length) {
      list.appendChild(el("div", "pager-empty", "No pages yet. In a war room: /incident page checkout-api"));
    }
    for (const page of data.pages) list.appendChild(this.card(page));
  }

  card(page) {
    const card = el("div", "pager-page");
    card.dataset.pager = page.pager;
    card.dataset.key = page.key;
    card.dataset.state = page.state;
    const head = el("div", "pager-head");
    head.append(
      el("span", "pager-service-name", page.service),
      el("span", "pager-badge pager-severity", page.severity),
      el("span", "pager-badge pager-state", page.state),
    );
    card.append(head, el("div", "pager-summary", page.summary));
    card.appendChild(el("div", "pager-meta", `${page.label} · ${KEY_NAMES[page.pager] || "key"} ${page.key}`));
    const who = page.acknowledged_by.length
      ? `acknowledged by ${page.acknowledged_by.join(", ")}`
      : page.oncall.length ? `paging ${page.oncall.join(", ")}` : "";
    if (who) card.appendChild(el("div", "pager-meta pager-who", who));
    if (page.can_acknowledge) card.appendChild(this.acknowledgeButton(page));
    return card;
  }

  acknowledgeButton(page) {
    const button = el("button", "bk-button primary pager-ack", `Acknowledge as ${page.oncall[0]}`);
    button.type = "button";
    button.addEventListener("click", async () => {
      button.disabled = true;
      const result = await this.post("pager/acknowledge", { pager: page.pager, key: page.key });
      if (result.ok) this.toast(`${result.by} acknowledged in ${page.label}, which told the bot.`);
      else if (result.status !== undefined) {
        this.toast(`${page.label} told the bot; it answered HTTP ${result.status || "nothing"}.`);
      }
      this.load();
    });
    return button;
  }
}
