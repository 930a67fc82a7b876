// The counter screen: scan (BarcodeDetector, else the vendored jsQR) or type a code,
// show the member, stamp, redeem, void, adjust. Every text comes from the server's catalog.
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("staff-config").textContent);
  const T = config.texts;
  const $ = (id) => document.getElementById(id);
  // A grey line saying a list has nothing in it.
  const muted = (tagName, text) => {
    const element = document.createElement(tagName);
    element.className = "muted";
    element.textContent = text;
    return element;
  };
  const SCAN_INTERVAL_MS = 120;
  const SCAN_MAX_WIDTH = 640;
  // A QR that stays in view is one scan; once out of view this long, showing it again is
  // a new scan (the customer holds the same card up again).
  const SAME_CODE_GAP_MS = 2000;
  // Refusals that mean "already done" rather than "something is wrong": amber, not red.
  const WARNING_CODES = new Set(["cooldown", "token_used", "already_redeemed"]);

  const state = {
    member: null,
    credential: null, // {token} or {short_code}: how this member was identified
    lastScanned: null,
    lastSeenAt: 0,
    busy: false,
  };

  // ---- server -------------------------------------------------------------------------

  async function api(path, body) {
    const options = { credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = config.csrfToken;
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch("/staff/api/" + path, options);
    } catch (_) {
      return { ok: false, error: { code: "network", message: T.network_error } };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (response.status === 401) {
      window.location.assign("/staff/login");
    }
    if (!response.ok) {
      const error = (data && data.error) || { code: "http_" + response.status };
      return { ok: false, error: { code: error.code, message: error.message || T.failed } };
    }
    return { ok: true, data };
  }

  // ---- results: full width, coloured, until the next scan or a tap ----------------------

  const result = $("result");
  let audio = null;

  function showResult(tone, text) {
    result.className = "result " + tone;
    $("result-icon").textContent = tone === "ok" ? "✓" : tone === "warn" ? "!" : "✕";
    $("result-text").textContent = text;
    result.title = T.dismiss;
    result.hidden = false;
    cue(tone);
  }

  function showError(error) {
    showResult(WARNING_CODES.has(error.code) ? "warn" : "error", error.message);
    result.dataset.code = error.code;
  }

  function clearResult() {
    result.hidden = true;
    delete result.dataset.code;
  }

  function cue(tone) {
    if (navigator.vibrate) {
      navigator.vibrate(tone === "ok" ? 90 : [90, 70, 90]);
    }
    if (!audio) return;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = tone === "ok" ? 1320 : tone === "warn" ? 660 : 330;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.18);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.2);
  }

  // Browsers allow sound only after a tap; the first tap on the page unlocks it.
  document.addEventListener(
    "pointerdown",
    () => {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!audio && Context) audio = new Context();
    },
    { once: true },
  );
  result.addEventListener("click", clearResult);

  // ---- the member panel ---------------------------------------------------------------

  const panel = $("panel");

  function showMember(member) {
    state.member = member;
    $("member-name").textContent = member.name;
    $("member-tier").textContent = member.tier;
    const stamps = $("member-stamps");
    stamps.replaceChildren();
    for (let index = 0; index < member.stamps_required; index += 1) {
      const stamp = document.createElement("li");
      stamp.className = "stamp" + (index < member.stamps ? " filled" : "");
      if (index === member.stamps_required - 1) stamp.classList.add("reward");
      stamps.append(stamp);
    }
    $("member-progress").textContent = member.progress;
    $("member-last-visit").textContent = member.last_visit;
    const rewards = $("member-rewards");
    rewards.replaceChildren();
    for (const reward of member.rewards) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "reward-button";
      button.dataset.rewardId = String(reward.id);
      button.textContent = T.redeem_action.replace("{name}", reward.name);
      if (reward.expires) {
        const note = document.createElement("small");
        note.textContent = reward.expires;
        button.append(note);
      }
      button.addEventListener("click", () => redeem(reward.id));
      rewards.append(button);
    }
    if (!member.rewards.length) {
      rewards.append(muted("p", T.no_rewards));
    }
    panel.classList.add("open");
    panel.setAttribute("aria-hidden", "false");
  }

  // The member's tags as chips, each with a button that takes it off.
  function renderTags(tags) {
    const list = $("member-tags");
    list.replaceChildren();
    if (!tags.length) {
      list.append(muted("li", T.tags_none));
    }
    for (const tag of tags) {
      const chip = document.createElement("li");
      chip.className = "tag-chip";
      chip.title = tag.source;
      const name = document.createElement("span");
      name.textContent = tag.name;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "tag-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", T.tag_remove.replace("{name}", tag.name));
      remove.addEventListener("click", () => changeTag("untag", tag.name));
      chip.append(name, remove);
      list.append(chip);
    }
  }

  function changeTag(path, name) {
    if (!state.member) return;
    run(async () => {
      const answer = await api(path, { member_id: state.member.id, tag: name });
      if (!answer.ok) {
        showError(answer.error);
        return;
      }
      showResult("ok", answer.data.message);
      renderTags(answer.data.tags);
      if (path === "tag") $("tag-name").value = "";
    });
  }

  $("tag-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("tag-name").value.trim();
    if (name) changeTag("tag", name);
  });

  function closePanel() {
    panel.classList.remove("open");
    panel.setAttribute("aria-hidden", "true");
    state.member = null;
    state.credential = null;
    $("amount").value = "";
    $("tag-name").value = "";
    clearAdjustForm();
  }

  $("panel-close").addEventListener("click", () => {
    clearResult();
    closePanel();
  });

  // ---- actions --------------------------------------------------------------------------

  async function run(work) {
    if (state.busy) return;
    state.busy = true;
    document.body.classList.add("busy");
    try {
      await work();
    } finally {
      state.busy = false;
      document.body.classList.remove("busy");
    }
  }

  function lookup(credential) {
    return run(async () => {
      clearResult();
      setStatus(T.looking_up);
      const answer = await api("lookup", credential);
      setStatus(T.camera_ready);
      if (!answer.ok) {
        if (answer.error.code === "network") state.lastScanned = null;
        closePanel();
        showError(answer.error);
        return;
      }
      state.credential = credential;
      showMember(answer.data.member);
      renderTags(answer.data.tags);
    });
  }

  function amountInMinorUnits() {
    const text = $("amount").value.trim();
    if (!text) return null;
    const value = Number(text);
    return Number.isFinite(value) && value >= 0 ? Math.round(value * config.minorUnits) : null;
  }

  function afterWrite(answer) {
    if (!answer.ok) {
      showError(answer.error);
      return;
    }
    const outcome = answer.data.outcome;
    showResult("ok", outcome.message);
    if (state.member && outcome.member.id === state.member.id) {
      showMember(outcome.member);
      renderTags(answer.data.tags);
    }
    renderHistory(answer.data.recent);
  }

  $("stamp-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!state.credential) return;
    run(async () => {
      const answer = await api("visit", { ...state.credential, amount: amountInMinorUnits() });
      afterWrite(answer);
      if (answer.ok) $("amount").value = "";
    });
  });

  function redeem(rewardId) {
    if (!state.member) return;
    run(async () => {
      afterWrite(await api("redeem", { reward_id: rewardId, member_id: state.member.id }));
    });
  }

  // Managers only (the form is not on a barista's page; the server refuses them anyway).
  const adjustForm = $("adjust-form");
  if (adjustForm) {
    adjustForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!state.member) return;
      const stamps = Number($("adjust-stamps").value);
      const reason = $("adjust-reason").value.trim();
      if (!Number.isInteger(stamps) || stamps === 0 || !reason) {
        showError({ code: "adjust_invalid", message: T.adjust_invalid });
        return;
      }
      run(async () => {
        const answer = await api("adjust", { member_id: state.member.id, stamps, reason });
        afterWrite(answer);
        if (answer.ok) clearAdjustForm();
      });
    });
  }

  function clearAdjustForm() {
    if (!adjustForm) return;
    adjustForm.reset();
    $("adjust").open = false;
  }

  function undo(entryId) {
    if (!window.confirm(T.void_confirm)) return;
    run(async () => {
      afterWrite(await api("void", { entry_id: entryId }));
    });
  }

  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("code").value.trim();
    if (!code) return;
    lookup({ short_code: code }).then(() => {
      $("code").value = "";
      $("code").blur();
    });
  });

  // ---- history of this counter -------------------------------------------------------

  function renderHistory(actions) {
    const list = $("history");
    list.replaceChildren();
    if (!actions.length) {
      list.append(muted("li", T.history_empty));
    }
    for (const action of actions) {
      const item = document.createElement("li");
      item.className = "history-item" + (action.voided ? " voided" : "");
      const text = document.createElement("span");
      text.textContent = action.label;
      item.append(text);
      if (action.voided) {
        const badge = document.createElement("small");
        badge.textContent = T.voided;
        item.append(badge);
      } else if (action.voidable) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "undo";
        button.textContent = T.undo_action;
        button.addEventListener("click", () => undo(action.entry_id));
        item.append(button);
      }
      list.append(item);
    }
  }

  async function refreshHistory() {
    const answer = await api("recent");
    if (answer.ok) renderHistory(answer.data.recent);
  }

  // ---- the camera -------------------------------------------------------------------

  const video = $("video");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let detector = null;

  function setStatus(text) {
    $("camera-status").textContent = text;
  }

  async function qrDetector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    } catch (_) {
      return null;
    }
  }

  async function decodeFrame() {
    if (detector) {
      const codes = await detector.detect(video);
      return codes.length ? codes[0].rawValue : null;
    }
    const scale = Math.min(1, SCAN_MAX_WIDTH / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const frame = context.getImageData(0, 0, canvas.width, canvas.height);
    const code = window.jsQR(frame.data, frame.width, frame.height, {
      inversionAttempts: "dontInvert",
    });
    return code ? code.data : null;
  }

  async function scan() {
    try {
      if (!state.busy && video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth) {
        const text = await decodeFrame().catch(() => null);
        const token = text && text.trim();
        if (token) {
          const now = Date.now();
          const isNew = token !== state.lastScanned || now - state.lastSeenAt > SAME_CODE_GAP_MS;
          state.lastScanned = token;
          state.lastSeenAt = now;
          if (isNew) await lookup({ token });
        }
      }
    } finally {
      window.setTimeout(scan, SCAN_INTERVAL_MS);
    }
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      setStatus(T.camera_unavailable);
      return;
    }
    try {
      video.srcObject = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" } },
        audio: false,
      });
    } catch (error) {
      setStatus(error && error.name === "NotAllowedError" ? T.camera_denied : T.camera_unavailable);
      return;
    }
    await video.play().catch(() => undefined);
    detector = await qrDetector();
    setStatus(T.camera_ready);
    scan();
  }

  refreshHistory();
  startCamera();
})();
