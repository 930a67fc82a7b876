// The chat simulator: play a customer on LINE or Messenger, see the bot's answers rendered
// as the member would see them (text, quick replies, Flex bubbles, templates, cards).
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("simulator-config").textContent);
  const texts = config.texts;
  const sim = document.querySelector(".sim");
  const $ = (id) => document.getElementById(id);
  const chat = $("chat");
  const storageKey = (platform) => `punchline.simulator.user.${platform}`;

  const session = {
    platform: localStorage.getItem("punchline.simulator.platform") || "line",
    user: null,
    lastId: 0,
    lastEntry: null,
    entryCount: 0,
    polling: false,
    richMenuKey: null,
    persistentMenuKey: null,
  };

  // Text and DOM helpers

  function say(key, params = {}) {
    let text = texts[key] || key;
    for (const [name, value] of Object.entries(params)) text = text.replaceAll(`{${name}}`, value);
    return text;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // Only web links open; anything else (javascript:, data:) is refused.
  function safeUrl(url) {
    if (typeof url !== "string") return null;
    try {
      const parsed = new URL(url, window.location.href);
      return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function openUrl(url) {
    const safe = safeUrl(url);
    if (safe) window.open(safe, "_blank", "noopener");
  }

  function showNotice(message, isError = false) {
    const notice = $("notice");
    notice.textContent = message;
    notice.classList.toggle("error", isError);
    notice.hidden = false;
    clearTimeout(showNotice.timer);
    showNotice.timer = setTimeout(() => { notice.hidden = true; }, 6000);
  }

  async function api(path, options = {}) {
    const response = await fetch(config.base + path, {
      headers: { "Content-Type": "application/json" },
      ...options,
    });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  }

  // Customers

  async function loadCustomers() {
    const { users } = await api(`api/users?platform=${session.platform}`);
    const picker = $("customer-picker");
    picker.replaceChildren(el("option", { value: "", text: `— ${say("simulator.new_customer")} —` }));
    for (const user of users) {
      picker.append(el("option", { value: user.user_id, text: `${user.display_name} · ${user.user_id.slice(-6)}` }));
    }
    const remembered = localStorage.getItem(storageKey(session.platform));
    const user = users.find((candidate) => candidate.user_id === remembered) || null;
    selectCustomer(user);
  }

  function selectCustomer(user) {
    session.user = user;
    $("customer-picker").value = user ? user.user_id : "";
    $("display-name").value = user ? user.display_name : "";
    $("display-name").readOnly = Boolean(user);
    $("language").value = user ? user.language : config.locale;
    $("language").disabled = Boolean(user);
    $("user-id").textContent = user ? user.user_id : "–";
    if (user) localStorage.setItem(storageKey(session.platform), user.user_id);
    resetChat();
    updateControls();
    if (user) poll();
  }

  async function ensureCustomer() {
    if (session.user) return session.user;
    const name = $("display-name").value.trim();
    if (!name) {
      showNotice(say("simulator.no_customer"));
      $("display-name").focus();
      return null;
    }
    const user = await api("api/users", {
      method: "POST",
      body: JSON.stringify({ platform: session.platform, display_name: name, language: $("language").value }),
    });
    const picker = $("customer-picker");
    picker.append(el("option", { value: user.user_id, text: `${user.display_name} · ${user.user_id.slice(-6)}` }));
    selectCustomer(user);
    return user;
  }

  // What the customer does

  async function act(action, fields = {}) {
    const user = await ensureCustomer();
    if (!user) return;
    clearQuickReplies();
    try {
      const result = await api("api/events", {
        method: "POST",
        body: JSON.stringify({ platform: session.platform, user_id: user.user_id, action, ...fields }),
      });
      if (result.status < 200 || result.status >= 300) {
        showNotice(say("simulator.delivery_failed", { status: result.status }), true);
      }
    } catch (error) {
      showNotice(say("simulator.delivery_failed", { status: error.message }), true);
    }
    await poll();
    // The bot may answer after the webhook returns: look again shortly.
    setTimeout(poll, 400);
    setTimeout(poll, 1200);
  }

  function lineAction(action) {
    if (!action) return;
    switch (action.type) {
      case "postback":
      case "datetimepicker":
      case "richmenuswitch":
        if (action.displayText) act("postback", { payload: action.data, label: action.displayText });
        else act("postback", { payload: action.data, text: action.label || action.data });
        break;
      case "message":
        act("text", { text: action.text });
        break;
      case "uri":
        openUrl(action.uri);
        break;
      case "clipboard":
        navigator.clipboard?.writeText(action.clipboardText || "");
        showNotice(say("simulator.copied"));
        break;
      default:
        showNotice(say("simulator.unsupported", { type: action.type }));
    }
  }

  function messengerButton(button) {
    if (!button) return;
    if (button.type === "postback") act("postback", { payload: button.payload, label: button.title });
    else if (button.type === "web_url") openUrl(button.url);
    else showNotice(say("simulator.unsupported", { type: button.type }));
  }

  function bindAction(node, action, perform) {
    if (!action) return node;
    node.classList.add("clickable");
    node.dataset.actionType = action.type || "";
    const data = action.data || action.payload || action.uri || action.url || action.text;
    if (data) node.dataset.action = data;
    node.addEventListener("click", (event) => {
      event.stopPropagation();
      perform(action);
    });
    return node;
  }

  // The transcript

  function resetChat() {
    chat.replaceChildren();
    session.lastId = 0;
    session.lastEntry = null;
    session.entryCount = 0;
    clearQuickReplies();
  }

  async function poll() {
    if (!session.user || session.polling) return;
    session.polling = true;
    const user = session.user;
    try {
      const query = `platform=${session.platform}&user_id=${encodeURIComponent(user.user_id)}&after_id=${session.lastId}`;
      const result = await api(`api/transcript?${query}`);
      if (session.user !== user) return;
      for (const entry of result.entries) {
        renderEntry(entry);
        session.lastId = Math.max(session.lastId, entry.id);
        session.lastEntry = entry;
        session.entryCount += 1;
      }
      if (result.entries.length) {
        renderQuickReplies(session.lastEntry);
        chat.scrollTop = chat.scrollHeight;
      }
      if (result.user) session.user = Object.assign(user, result.user);
      renderRichMenu(result.rich_menu);
      renderPersistentMenu(result.persistent_menu);
      updateControls();
    } catch (error) {
      showNotice(error.message, true);
    } finally {
      session.polling = false;
    }
  }

  function renderEntry(entry) {
    if (entry.direction === "user") {
      chat.append(renderCustomerEntry(entry));
      return;
    }
    const content = session.platform === "line" ? renderLineMessage(entry.message) : renderMessengerMessage(entry.message);
    const row = el("div", { class: "row bot", "data-testid": "bubble-bot", "data-entry-id": entry.id },
      el("span", { class: "avatar", "aria-hidden": "true", text: config.brand.slice(0, 1) }), content);
    chat.append(row);
  }

  function renderCustomerEntry(entry) {
    const note = (key, params) => el("div", { class: "system-note", "data-testid": "system-note", text: say(key, params) });
    switch (entry.kind) {
      case "follow": return note("simulator.followed", { brand: config.brand });
      case "unfollow": return note("simulator.blocked", { brand: config.brand });
      case "get_started":
        return el("div", { class: "row user", "data-testid": "bubble-user" }, el("div", { class: "bubble", text: entry.text }));
      case "referral": return note("simulator.referral", { ref: entry.payload || "" });
      case "tap": return note("simulator.tapped", { label: entry.text || "" });
      default:
        return el("div", { class: "row user", "data-testid": "bubble-user" }, el("div", { class: "bubble", text: entry.text || "" }));
    }
  }

  function textBubble(text) {
    return el("div", { class: "bubble", "data-testid": "bot-text", text });
  }

  function imageMessage(url) {
    return el("img", { class: "bot-image", src: safeUrl(url), alt: "" });
  }

  // Quick replies: shown under the conversation while the last message carries them.

  function clearQuickReplies() {
    $("quick-replies").replaceChildren();
  }

  function renderQuickReplies(entry) {
    clearQuickReplies();
    if (!entry || entry.direction !== "bot") return;
    const message = entry.message || {};
    const holder = $("quick-replies");
    if (session.platform === "line") {
      for (const item of message.quickReply?.items || []) {
        const chip = el("button", { type: "button", class: "quick-reply", "data-testid": "quick-reply" },
          item.imageUrl ? el("img", { src: safeUrl(item.imageUrl), alt: "" }) : null,
          document.createTextNode(item.action?.label || ""));
        holder.append(bindAction(chip, item.action, lineAction));
      }
      return;
    }
    for (const reply of message.quick_replies || []) {
      const chip = el("button", { type: "button", class: "quick-reply", "data-testid": "quick-reply" },
        reply.image_url ? el("img", { src: safeUrl(reply.image_url), alt: "" }) : null,
        document.createTextNode(reply.title || reply.content_type));
      chip.dataset.action = reply.payload || "";
      chip.addEventListener("click", () => act("text", { text: reply.title || reply.payload || "", payload: reply.payload }));
      holder.append(chip);
    }
  }

  // LINE messages

  function renderLineMessage(message) {
    switch (message.type) {
      case "text":
      case "textV2":
        return textBubble(message.text);
      case "flex":
        return renderFlexContainer(message.contents);
      case "template":
        return renderLineTemplate(message.template);
      case "image":
        return imageMessage(message.previewImageUrl || message.originalContentUrl);
      case "sticker":
        return textBubble(say("simulator.sticker"));
      default:
        return textBubble(say("simulator.unsupported", { type: message.type }));
    }
  }

  const TEXT_SIZES = { xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74 };
  const SPACING = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
  const IMAGE_SIZES = { xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160, "3xl": 180, "4xl": 200, "5xl": 220 };
  const BORDER_WIDTHS = { none: 0, light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4 };
  const ALIGN = { start: "flex-start", center: "center", end: "flex-end" };
  const GRAVITY = { top: "flex-start", center: "center", bottom: "flex-end" };
  const BLOCK_PADDING = { header: "20px", hero: "0", body: "20px", footer: "10px" };

  // A keyword from `table`, or a CSS length as LINE writes it ("12px", "50%").
  function length(value, table) {
    if (value === undefined || value === null) return null;
    if (Object.hasOwn(table, value)) return `${table[value]}px`;
    return /^-?\d+(\.\d+)?(px|%)$/.test(value) ? value : null;
  }

  function renderFlexContainer(container) {
    if (!container) return textBubble(say("simulator.unsupported", { type: "flex" }));
    if (container.type === "carousel") {
      const carousel = el("div", { class: "flex-carousel", "data-testid": "flex-carousel" });
      for (const bubble of container.contents || []) carousel.append(renderBubble(bubble));
      return carousel;
    }
    return renderBubble(container);
  }

  function renderBubble(bubble) {
    const node = el("div", { class: `flex-bubble size-${bubble.size || "mega"}`, "data-testid": "flex-bubble" });
    if (bubble.direction === "rtl") node.dir = "rtl";
    const styles = bubble.styles || {};
    for (const name of ["header", "hero", "body", "footer"]) {
      const component = bubble[name];
      if (!component) continue;
      const style = styles[name] || {};
      if (style.separator && node.childElementCount) {
        node.append(el("hr", { class: "flex-separator", style: style.separatorColor ? `border-top-color:${style.separatorColor}` : null }));
      }
      const block = el("div", { class: `flex-block flex-${name}`, "data-testid": `flex-${name}` });
      if (style.backgroundColor) block.style.backgroundColor = style.backgroundColor;
      const child = renderComponent(component, "vertical", name === "hero");
      if (child) {
        if (component.type === "box" && !hasPadding(component)) child.style.padding = BLOCK_PADDING[name];
        block.append(child);
      }
      node.append(block);
    }
    return bindAction(node, bubble.action, lineAction);
  }

  function hasPadding(box) {
    return ["paddingAll", "paddingTop", "paddingBottom", "paddingStart", "paddingEnd"].some((key) => box[key] !== undefined);
  }

  function renderComponent(component, parentLayout, inHero) {
    let node;
    switch (component.type) {
      case "box": node = renderBox(component, inHero); break;
      case "text": node = renderText(component); break;
      case "image": node = renderImage(component, inHero); break;
      case "icon": node = renderIcon(component); break;
      case "button": node = renderButton(component); break;
      case "separator":
        node = el("hr", { class: "flex-separator", "data-testid": "flex-separator" });
        if (component.color) node.style.borderTopColor = component.color;
        if (parentLayout !== "vertical") Object.assign(node.style, { borderTop: "0", borderLeft: `1px solid ${component.color || "#e5e7eb"}` });
        break;
      case "filler": node = el("div", { class: "flex-filler" }); break;
      case "spacer": node = el("div", { class: "flex-spacer", style: `height:${length(component.size || "md", SPACING)}` }); break;
      case "video": return component.altContent ? renderComponent(component.altContent, parentLayout, inHero) : null;
      default: return null;
    }
    applyFlex(node, component, parentLayout);
    applyPosition(node, component);
    if (component.type !== "button") bindAction(node, component.action, lineAction);
    return node;
  }

  function applyFlex(node, component, parentLayout) {
    const horizontal = parentLayout !== "vertical";
    const grow = component.flex !== undefined ? component.flex : component.type === "filler" ? 1 : horizontal ? 1 : 0;
    if (component.type === "icon" || component.type === "separator" || component.type === "spacer") node.style.flex = "0 0 auto";
    else node.style.flex = grow > 0 ? `${grow} 1 ${horizontal ? "0%" : "auto"}` : "0 0 auto";
  }

  function applyMargin(node, margin, parentLayout) {
    const value = length(margin, SPACING);
    if (!value) return;
    if (parentLayout === "vertical") node.style.marginTop = value;
    else node.style.marginInlineStart = value;
  }

  function applyPosition(node, component) {
    if (component.position === "absolute") node.style.position = "absolute";
    for (const [key, css] of [["offsetTop", "top"], ["offsetBottom", "bottom"], ["offsetStart", "insetInlineStart"], ["offsetEnd", "insetInlineEnd"]]) {
      const value = length(component[key], SPACING);
      if (value) {
        node.style[css] = value;
        if (component.position !== "absolute") node.style.position = "relative";
      }
    }
  }

  function renderBox(box, inHero) {
    const layout = box.layout || "vertical";
    const node = el("div", { class: `flex-box layout-${layout}`, "data-testid": "flex-box" });
    node.style.flexDirection = layout === "vertical" ? "column" : "row";
    if (layout === "baseline") node.style.alignItems = "baseline";
    const padding = (key) => length(box[key], SPACING);
    if (padding("paddingAll")) node.style.padding = padding("paddingAll");
    for (const [key, css] of [["paddingTop", "paddingTop"], ["paddingBottom", "paddingBottom"], ["paddingStart", "paddingInlineStart"], ["paddingEnd", "paddingInlineEnd"]]) {
      if (padding(key)) node.style[css] = padding(key);
    }
    if (box.backgroundColor) node.style.backgroundColor = box.backgroundColor;
    if (box.background?.type === "linearGradient") {
      const stops = [box.background.startColor, box.background.centerColor, box.background.endColor].filter(Boolean);
      node.style.background = `linear-gradient(${box.background.angle || "0deg"}, ${stops.join(", ")})`;
    }
    const border = length(box.borderWidth, BORDER_WIDTHS);
    if (border) node.style.border = `${border} solid ${box.borderColor || "#000"}`;
    const radius = length(box.cornerRadius, SPACING);
    if (radius) { node.style.borderRadius = radius; node.style.overflow = "hidden"; }
    for (const key of ["width", "height", "maxWidth", "maxHeight"]) {
      const value = length(box[key], {});
      if (value) node.style[key] = value;
    }
    if (box.justifyContent) node.style.justifyContent = box.justifyContent;
    if (box.alignItems) node.style.alignItems = ALIGN[box.alignItems] || box.alignItems;
    (box.contents || []).forEach((child, index) => {
      const rendered = renderComponent(child, layout, inHero);
      if (!rendered) return;
      applyMargin(rendered, index === 0 ? child.margin : child.margin ?? box.spacing, layout);
      node.append(rendered);
    });
    return node;
  }

  function styleText(node, component) {
    const size = length(component.size, TEXT_SIZES);
    if (size) node.style.fontSize = size;
    if (component.weight === "bold") node.style.fontWeight = "700";
    if (component.color) node.style.color = component.color;
    if (component.style === "italic") node.style.fontStyle = "italic";
    if (component.decoration && component.decoration !== "none") node.style.textDecoration = component.decoration;
  }

  function renderText(component) {
    const node = el("div", { class: "flex-text", "data-testid": "flex-text" });
    if (Array.isArray(component.contents) && component.contents.length) {
      for (const span of component.contents) {
        const part = el("span", { text: span.text || "" });
        styleText(part, span);
        node.append(part);
      }
    } else {
      node.textContent = component.text || "";
    }
    styleText(node, { size: "md", ...component });
    if (component.align) node.style.textAlign = component.align === "end" ? "end" : component.align;
    if (component.gravity) node.style.alignSelf = GRAVITY[component.gravity];
    if (component.wrap) node.style.whiteSpace = "pre-wrap";
    else node.classList.add("nowrap");
    if (component.wrap && component.maxLines) {
      Object.assign(node.style, { display: "-webkit-box", webkitLineClamp: String(component.maxLines), webkitBoxOrient: "vertical", overflow: "hidden" });
    }
    const spacing = length(component.lineSpacing, {});
    if (spacing) node.style.lineHeight = `calc(1.4em + ${spacing})`;
    return node;
  }

  function renderImage(component, inHero) {
    const wrap = el("div", { class: "flex-image-wrap" });
    wrap.style.justifyContent = ALIGN[component.align || "center"];
    if (component.gravity) wrap.style.alignSelf = GRAVITY[component.gravity];
    const image = el("img", {
      class: "flex-image",
      src: safeUrl(component.url),
      alt: "",
      "data-testid": inHero ? "card-image" : "flex-image",
    });
    const size = component.size || "md";
    image.style.width = size === "full" ? "100%" : length(size, IMAGE_SIZES) || "100px";
    const [w, h] = String(component.aspectRatio || "1:1").split(":").map(Number);
    if (w > 0 && h > 0) image.style.aspectRatio = `${w} / ${h}`;
    image.style.objectFit = component.aspectMode === "cover" ? "cover" : "contain";
    if (component.backgroundColor) image.style.backgroundColor = component.backgroundColor;
    wrap.append(image);
    return wrap;
  }

  function renderIcon(component) {
    const size = length(component.size || "md", TEXT_SIZES) || "16px";
    const [w, h] = String(component.aspectRatio || "1:1").split(":").map(Number);
    return el("img", { class: "flex-icon", src: safeUrl(component.url), alt: "", style: `height:${size};aspect-ratio:${w} / ${h}` });
  }

  function renderButton(component) {
    const style = component.style || "link";
    const button = el("button", {
      type: "button",
      class: `flex-button style-${style} height-${component.height || "md"}`,
      "data-testid": "flex-button",
      text: component.action?.label || "",
    });
    if (component.color) {
      if (style === "link") button.style.color = component.color;
      else button.style.backgroundColor = component.color;
    }
    const wrap = el("div", { class: "flex-button-wrap" }, button);
    bindAction(button, component.action, lineAction);
    return wrap;
  }

  function renderLineTemplate(template) {
    if (!template) return textBubble(say("simulator.unsupported", { type: "template" }));
    if (template.type === "carousel" || template.type === "image_carousel") {
      const carousel = el("div", { class: "flex-carousel", "data-testid": "template-carousel" });
      for (const column of template.columns || []) {
        carousel.append(template.type === "carousel" ? lineTemplateCard(column, "buttons") : imageColumn(column));
      }
      return carousel;
    }
    return lineTemplateCard(template, template.type);
  }

  function imageColumn(column) {
    const image = el("img", { src: safeUrl(column.imageUrl), alt: "", "data-testid": "card-image" });
    return bindAction(el("div", { class: "template" }, image), column.action, lineAction);
  }

  function lineTemplateCard(template, type) {
    const card = el("div", { class: `template ${type}`, "data-testid": "template" });
    if (template.thumbnailImageUrl) {
      const image = el("img", { src: safeUrl(template.thumbnailImageUrl), alt: "", "data-testid": "card-image" });
      if (template.imageAspectRatio === "square") image.style.aspectRatio = "1";
      if (template.imageSize === "contain") image.style.objectFit = "contain";
      if (template.imageBackgroundColor) image.style.backgroundColor = template.imageBackgroundColor;
      card.append(bindAction(image, template.defaultAction, lineAction));
    }
    card.append(el("div", { class: "t-body" },
      template.title ? el("div", { class: "t-title", "data-testid": "card-title", text: template.title }) : null,
      el("div", { class: "t-text", text: template.text || "" })));
    const actions = el("div", { class: "t-actions" });
    for (const action of template.actions || []) {
      const button = el("button", { type: "button", "data-testid": "template-button", text: action.label || "" });
      actions.append(bindAction(button, action, lineAction));
    }
    card.append(actions);
    return card;
  }

  // Messenger messages

  function renderMessengerMessage(message) {
    if (typeof message.text === "string") return textBubble(message.text);
    const attachment = message.attachment || {};
    const payload = attachment.payload || {};
    if (attachment.type === "image") return imageMessage(payload.url);
    if (attachment.type === "template" && payload.template_type === "generic") {
      const elements = payload.elements || [];
      const cards = elements.map((element) => genericCard(element, payload.image_aspect_ratio));
      if (cards.length === 1) return cards[0];
      return el("div", { class: "flex-carousel", "data-testid": "generic-carousel" }, ...cards);
    }
    if (attachment.type === "template" && payload.template_type === "button") {
      const node = el("div", { class: "button-template", "data-testid": "button-template" },
        el("div", { class: "t-text", text: payload.text || "" }));
      node.append(messengerButtons(payload.buttons));
      return node;
    }
    return textBubble(say("simulator.unsupported", { type: attachment.type || "message" }));
  }

  function genericCard(element, aspectRatio) {
    const card = el("div", { class: "template generic", "data-testid": "generic-card" });
    if (element.image_url) {
      const image = el("img", { src: safeUrl(element.image_url), alt: "", "data-testid": "card-image" });
      image.style.aspectRatio = aspectRatio === "square" ? "1" : "1.91";
      card.append(bindAction(image, element.default_action, messengerButton));
    }
    card.append(el("div", { class: "t-body" },
      el("div", { class: "t-title", "data-testid": "card-title", text: element.title || "" }),
      element.subtitle ? el("div", { class: "t-text", text: element.subtitle }) : null));
    card.append(messengerButtons(element.buttons));
    return card;
  }

  function messengerButtons(buttons) {
    const actions = el("div", { class: "t-actions" });
    for (const button of buttons || []) {
      const node = el("button", { type: "button", "data-testid": "template-button", text: button.title || "" });
      actions.append(bindAction(node, button, messengerButton));
    }
    return actions;
  }

  // Menus the bot set up: LINE's rich menu, Messenger's persistent menu

  function renderRichMenu(menu) {
    const holder = $("rich-menu");
    const key = session.platform === "line" && menu ? menu.id : null;
    if (key === session.richMenuKey) return;
    session.richMenuKey = key;
    holder.replaceChildren();
    holder.hidden = !key;
    if (!key) return;
    const panel = el("div", { class: menu.has_image ? "panel" : "panel grid" });
    if (menu.has_image) panel.append(el("img", { src: `${config.base}api/line/rich-menu-image?id=${encodeURIComponent(menu.id)}`, alt: "" }));
    const size = menu.size || { width: 2500, height: 1686 };
    for (const area of menu.areas || []) {
      const bounds = area.bounds || {};
      const button = el("button", {
        type: "button",
        class: "rich-menu-area",
        "data-testid": "rich-menu-area",
        "aria-label": area.action?.label || area.action?.data || "",
        text: menu.has_image ? "" : area.action?.label || area.action?.data || "",
      });
      if (menu.has_image) {
        Object.assign(button.style, {
          left: `${(100 * bounds.x) / size.width}%`,
          top: `${(100 * bounds.y) / size.height}%`,
          width: `${(100 * bounds.width) / size.width}%`,
          height: `${(100 * bounds.height) / size.height}%`,
        });
      }
      panel.append(bindAction(button, area.action, lineAction));
    }
    panel.hidden = !menu.selected;
    const bar = el("button", { type: "button", class: "bar", "data-testid": "rich-menu-bar", text: `${menu.chatBarText || say("simulator.menu")} ▾` });
    bar.addEventListener("click", () => { panel.hidden = !panel.hidden; });
    holder.append(bar, panel);
  }

  function renderPersistentMenu(menus) {
    const toggle = $("menu-toggle");
    const holder = $("persistent-menu");
    const key = session.platform === "messenger" && Array.isArray(menus) ? JSON.stringify(menus) : null;
    if (key === session.persistentMenuKey) return;
    session.persistentMenuKey = key;
    holder.replaceChildren();
    holder.hidden = true;
    toggle.hidden = !key;
    if (!key) return;
    const locale = (session.user?.language || "").replace("-", "_");
    const menu = menus.find((candidate) => candidate.locale?.toLowerCase().startsWith(locale.toLowerCase().slice(0, 2)))
      || menus.find((candidate) => candidate.locale === "default") || menus[0];
    for (const item of menu?.call_to_actions || []) {
      const button = el("button", { type: "button", "data-testid": "persistent-menu-item", text: item.title || "" });
      holder.append(bindAction(button, item, messengerButton));
    }
  }

  // Controls

  function updateControls() {
    const user = session.user;
    const following = Boolean(user && user.following);
    $("follow-button").hidden = following;
    $("unfollow-button").hidden = !following;
    const blocked = session.platform === "line" && !following;
    $("text-input").disabled = blocked;
    $("send").disabled = blocked;
    const started = session.entryCount > 0;
    $("get-started-button").hidden = started;
    $("referral-button").hidden = !started;
  }

  function switchPlatform(platform) {
    session.platform = platform;
    session.richMenuKey = null;
    session.persistentMenuKey = null;
    localStorage.setItem("punchline.simulator.platform", platform);
    sim.dataset.platform = platform;
    renderRichMenu(null);
    renderPersistentMenu(null);
    loadCustomers().catch((error) => showNotice(error.message, true));
  }

  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => switchPlatform(tab.dataset.platform));
  }
  $("customer-picker").addEventListener("change", async (event) => {
    const { users } = await api(`api/users?platform=${session.platform}`);
    selectCustomer(users.find((user) => user.user_id === event.target.value) || null);
  });
  $("new-customer").addEventListener("click", () => {
    localStorage.removeItem(storageKey(session.platform));
    selectCustomer(null);
    $("display-name").focus();
  });
  $("follow-button").addEventListener("click", () => act("follow"));
  $("unfollow-button").addEventListener("click", () => act("unfollow"));
  $("get-started-button").addEventListener("click", () => {
    const ref = $("ref-input").value.trim();
    act("get_started", { label: say("simulator.get_started"), ref: ref || null });
  });
  $("referral-button").addEventListener("click", () => {
    const ref = $("ref-input").value.trim();
    if (ref) act("referral", { ref });
  });
  $("menu-toggle").addEventListener("click", () => { $("persistent-menu").hidden = !$("persistent-menu").hidden; });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    act("text", { text });
  });

  setInterval(poll, 1500);
  switchPlatform(session.platform === "messenger" ? "messenger" : "line");
})();
