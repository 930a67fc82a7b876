// The live card: refresh the QR token quietly before it expires, show the time left on
// a ring, and keep the last token on screen while offline until it actually expires.
(() => {
  "use strict";
  const state = JSON.parse(document.getElementById("card-state").textContent);
  const qr = document.getElementById("qr");
  const code = document.getElementById("code");
  const ring = document.getElementById("ring");
  const status = document.getElementById("status");
  const stamps = document.getElementById("stamps");
  const progress = document.getElementById("progress");
  const reward = document.getElementById("reward");

  const RETRY_MS = 5000;
  let lifetimeMs = state.ttl_seconds * 1000;
  let deadline = Date.now() + state.expires_in * 1000;
  let fetching = false;
  let nextAttempt = 0;

  // Refresh 30 s before expiry (sooner for very short lifetimes).
  const refreshLeadMs = () => Math.min(30000, lifetimeMs / 4);

  function showStatus(text) {
    status.hidden = !text;
    status.textContent = text || "";
  }

  function renderStamps(count, required) {
    stamps.replaceChildren();
    for (let index = 0; index < required; index += 1) {
      const stamp = document.createElement("li");
      stamp.className = "stamp";
      if (index < count) stamp.classList.add("filled");
      if (index === required - 1) stamp.classList.add("reward");
      stamps.append(stamp);
    }
  }

  function render(card) {
    qr.innerHTML = card.qr_svg;
    qr.classList.remove("stale");
    code.textContent = card.short_code;
    progress.textContent = card.progress_label;
    stamps.setAttribute("aria-label", card.progress_label);
    reward.textContent = card.reward_label;
    renderStamps(card.stamps, card.stamps_required);
    lifetimeMs = card.ttl_seconds * 1000;
    deadline = Date.now() + card.expires_in * 1000;
  }

  async function refresh() {
    if (fetching) return;
    fetching = true;
    try {
      const response = await fetch(state.token_url, { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      render(await response.json());
      showStatus("");
    } catch (error) {
      nextAttempt = Date.now() + RETRY_MS;
      showStatus(Date.now() < deadline ? state.offline_text : state.expired_text);
    } finally {
      fetching = false;
    }
  }

  function tick() {
    const left = Math.max(deadline - Date.now(), 0);
    ring.style.strokeDashoffset = String(100 - (100 * left) / lifetimeMs);
    if (left === 0) {
      qr.classList.add("stale");
      if (!fetching) showStatus(state.expired_text);
    }
    if (left <= refreshLeadMs() && Date.now() >= nextAttempt) refresh();
  }

  tick();
  setInterval(tick, 1000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") tick();
  });
  window.addEventListener("online", () => {
    nextAttempt = 0;
    tick();
  });
})();
