/*
 * Health assistant chat widget for clinic web sites.
 *
 * Embed with one tag (the gateway's demo page shows it):
 *   <script src="https://GATEWAY/widget.js" data-clinic="PUBLIC_KEY" async></script>
 * Optional attributes override the clinic's theme: data-color, data-title, data-avatar,
 * data-greeting, data-position (left|right).
 *
 * Plain JavaScript, no build step, no external resources. Everything lives in an open Shadow DOM
 * so the clinic's CSS and the widget's CSS cannot affect each other. Message data only ever reaches
 * the page through textContent and attribute setters: never through innerHTML.
 */
(function () {
  "use strict";

  var VERSION = "1";
  var MAX_STORED_MESSAGES = 200;
  var MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
  var MAX_TEXT_CHARS = 5000; // the gateway's limit
  var ACCEPT =
    "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif,application/pdf,text/plain,application/json,.txt,.json";
  var ACCEPT_TYPES = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "image/heif",
    "application/pdf",
    "text/plain",
    "application/json",
  ];
  var ACCEPT_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".pdf", ".txt", ".json"];
  var DEFAULT_COLOR = "#0a6b5d";
  var FOOTER_TEXT = "Not medical advice. In an emergency call your local emergency number.";

  // ------------------------------------------------------------------ where we come from

  function findScript() {
    var current = document.currentScript;
    if (current && current.getAttribute("data-clinic")) return current;
    var candidates = document.querySelectorAll('script[data-clinic][src*="widget.js"]');
    for (var i = 0; i < candidates.length; i++) {
      if (!candidates[i].__healthbotWidget) return candidates[i];
    }
    return candidates.length ? candidates[0] : null;
  }

  var script = findScript();
  if (!script) {
    if (window.console) console.warn("[health widget] no <script data-clinic> tag found");
    return;
  }
  if (script.__healthbotWidget) return;
  script.__healthbotWidget = true;

  var clinicKey = (script.getAttribute("data-clinic") || "").trim();
  if (!clinicKey) {
    if (window.console) console.warn("[health widget] data-clinic is empty");
    return;
  }
  var BASE = new URL(script.src, document.baseURI).origin;
  var attrs = {
    color: script.getAttribute("data-color"),
    title: script.getAttribute("data-title"),
    avatar: script.getAttribute("data-avatar"),
    greeting: script.getAttribute("data-greeting"),
    position: script.getAttribute("data-position"),
  };

  // ------------------------------------------------------------------ small helpers

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    close: "M6 6l12 12M18 6L6 18",
    chevron: "M6 9l6 6 6-6",
    send: "M4 12l16-8-6 16-2.5-6.5L4 12z",
    attach:
      "M21 11.5l-8.5 8.5a5 5 0 0 1-7-7l8.5-8.5a3.5 3.5 0 0 1 5 5L10.5 18a2 2 0 0 1-3-3l7.5-7.5",
    doc: "M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8l-5-5zM14 3v5h5M9 13h6M9 17h6",
    refresh: "M4 4v6h6M20 20v-6h-6M5.5 15a7 7 0 0 0 12.5 2.5M18.5 9A7 7 0 0 0 6 6.5",
  };

  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "hb-icon hb-icon-" + name);
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function iconButton(name, label, className) {
    var button = el("button", "hb-icon-button " + (className || ""));
    button.type = "button";
    button.setAttribute("aria-label", label);
    button.title = label;
    button.appendChild(icon(name));
    return button;
  }

  function formatSize(bytes) {
    if (typeof bytes !== "number" || !isFinite(bytes)) return "";
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  /** A gateway-relative or absolute http(s) URL, or null for anything else (javascript:, data:). */
  function safeUrl(value, allowData) {
    if (!value || typeof value !== "string") return null;
    try {
      var url = new URL(value, BASE + "/");
      if (url.protocol === "http:" || url.protocol === "https:") return url.href;
      if (allowData && url.protocol === "data:" && /^data:image\/(png|jpeg|webp);/.test(value)) {
        return value;
      }
    } catch (e) {
      /* not a URL */
    }
    return null;
  }

  // ------------------------------------------------------------------ colours and contrast

  function parseHex(value) {
    if (typeof value !== "string") return null;
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value.trim());
    if (!m) return null;
    var hex = m[1];
    if (hex.length === 3) hex = hex[0] + hex[0] + hex[1] + hex[1] + hex[2] + hex[2];
    return [0, 2, 4].map(function (i) {
      return parseInt(hex.slice(i, i + 2), 16);
    });
  }

  function toHex(rgb) {
    return (
      "#" +
      rgb
        .map(function (c) {
          var s = Math.max(0, Math.min(255, Math.round(c))).toString(16);
          return s.length === 1 ? "0" + s : s;
        })
        .join("")
    );
  }

  function luminance(rgb) {
    var c = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  function contrast(a, b) {
    var la = luminance(a);
    var lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  function mix(rgb, other, amount) {
    return rgb.map(function (c, i) {
      return c + (other[i] - c) * amount;
    });
  }

  /** The theme colours: the brand colour, a readable text colour on it, and an accent for white. */
  function palette(color) {
    var rgb = parseHex(color) || parseHex(DEFAULT_COLOR);
    var white = [255, 255, 255];
    var ink = [17, 24, 39];
    var onColor = contrast(rgb, white) >= contrast(rgb, ink) ? white : ink;
    // Links and focus rings sit on white: darken the brand colour until it reads (WCAG AA).
    var accent = rgb;
    for (var step = 0; step < 20 && contrast(accent, white) < 4.5; step++) {
      accent = mix(accent, [0, 0, 0], 0.12);
    }
    return {
      color: toHex(rgb),
      onColor: toHex(onColor),
      accent: toHex(accent),
      soft: toHex(mix(rgb, white, 0.9)),
      hover: toHex(mix(rgb, onColor === white ? [0, 0, 0] : white, 0.15)),
    };
  }

  // ------------------------------------------------------------------ rich-ish text, safely

  var URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;

  /** Appends `text` to `parent`, turning http(s) URLs into safe links. */
  function appendLinkified(parent, text) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var url = match[0];
      // Trailing punctuation belongs to the sentence, and a ")" only if it has no "(" partner.
      while (/[.,;:!?'"\]]$/.test(url) || (/\)$/.test(url) && url.indexOf("(") === -1)) {
        url = url.slice(0, -1);
      }
      var start = match.index;
      if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
      var href = safeUrl(url, false);
      if (href) {
        var a = el("a", "hb-link", url);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        parent.appendChild(a);
      } else {
        parent.appendChild(document.createTextNode(url));
      }
      last = start + url.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  var BULLET_RE = /^\s*(?:[-*•])\s+/;

  /** Paragraphs for blank-line separated blocks, lists for "- " / "• " lines, <br> otherwise. */
  function renderText(container, text, linkify) {
    var lines = String(text).replace(/\r\n?/g, "\n").split("\n");
    var block = null;
    var list = null;
    lines.forEach(function (line) {
      if (!line.trim()) {
        block = null;
        list = null;
        return;
      }
      if (linkify && BULLET_RE.test(line)) {
        block = null;
        if (!list) {
          list = el("ul", "hb-list");
          container.appendChild(list);
        }
        var item = el("li");
        appendLinkified(item, line.replace(BULLET_RE, ""));
        list.appendChild(item);
        return;
      }
      list = null;
      if (!block) {
        block = el("p", "hb-par");
        container.appendChild(block);
      } else {
        block.appendChild(el("br"));
      }
      if (linkify) appendLinkified(block, line);
      else block.appendChild(document.createTextNode(line));
    });
  }

  // ------------------------------------------------------------------ storage

  var STORE_KEY = "healthbot-widget:v" + VERSION + ":" + clinicKey;
  var OPEN_KEY = STORE_KEY + ":open";

  function storage(kind) {
    try {
      var s = window[kind];
      var probe = "__hb_probe__";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (e) {
      return null;
    }
  }
  var local = storage("localStorage");
  var sessionStore = storage("sessionStorage");

  function loadState() {
    var empty = { session: null, messages: [] };
    if (!local) return empty;
    try {
      var raw = local.getItem(STORE_KEY);
      if (!raw) return empty;
      var data = JSON.parse(raw);
      return {
        session: typeof data.session === "string" ? data.session : null,
        messages: Array.isArray(data.messages) ? data.messages.slice(-MAX_STORED_MESSAGES) : [],
      };
    } catch (e) {
      return empty;
    }
  }

  var state = loadState();

  function saveState() {
    if (!local) return;
    state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    var payload = { session: state.session, messages: state.messages };
    try {
      local.setItem(STORE_KEY, JSON.stringify(payload));
    } catch (e) {
      // Quota: drop stored thumbnails, then older messages, rather than lose the session.
      try {
        payload.messages = state.messages.slice(-50).map(function (m) {
          var copy = {};
          for (var k in m) if (k !== "thumb") copy[k] = m[k];
          return copy;
        });
        local.setItem(STORE_KEY, JSON.stringify(payload));
      } catch (e2) {
        /* storage unavailable: the conversation lives for this page only */
      }
    }
  }

  function clearState() {
    state = { session: null, messages: [] };
    if (local) {
      try {
        local.removeItem(STORE_KEY);
      } catch (e) {
        /* ignore */
      }
    }
  }

  function rememberOpen(open) {
    if (!sessionStore) return;
    try {
      if (open) sessionStore.setItem(OPEN_KEY, "1");
      else sessionStore.removeItem(OPEN_KEY);
    } catch (e) {
      /* ignore */
    }
  }

  // ------------------------------------------------------------------ network

  function ApiError(status, code, detail, retryAfter) {
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  var NETWORK_DETAIL =
    "I couldn't reach the clinic's assistant. Please check your connection and try again.";

  function errorFrom(status, body, retryAfterHeader) {
    var code = (body && body.error) || "http_" + status;
    var detail = body && typeof body.detail === "string" && body.detail ? body.detail : null;
    var retryAfter = parseInt(retryAfterHeader || "", 10);
    if (!isFinite(retryAfter)) retryAfter = null;
    if (!detail) {
      if (status === 429) detail = "You're sending messages quickly. Please wait a moment.";
      else if (status === 503) detail = "The assistant is unavailable right now. Please try again soon.";
      else if (status === 413) detail = "That file is too large.";
      else detail = "Something went wrong (" + status + "). Please try again.";
    }
    if (status === 429 && retryAfter && detail.indexOf(String(retryAfter)) === -1) {
      detail += " You can try again in " + retryAfter + " s.";
    }
    return new ApiError(status, code, detail, retryAfter);
  }

  function api(method, path, body) {
    var options = {
      method: method,
      headers: { Accept: "application/json" },
      credentials: "omit",
      mode: "cors",
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(BASE + path, options).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            if (!response.ok) {
              throw errorFrom(response.status, data, response.headers.get("Retry-After"));
            }
            return data || {};
          });
      },
      function () {
        throw new ApiError(0, "network", NETWORK_DETAIL, null);
      }
    );
  }

  function upload(form, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", BASE + "/api/v1/widget/uploads");
      xhr.responseType = "text";
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      };
      xhr.onload = function () {
        var data = null;
        try {
          data = JSON.parse(xhr.responseText);
        } catch (e) {
          /* not JSON */
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data || {});
        else reject(errorFrom(xhr.status, data, xhr.getResponseHeader("Retry-After")));
      };
      xhr.onerror = function () {
        reject(new ApiError(0, "network", NETWORK_DETAIL, null));
      };
      xhr.onabort = function () {
        reject(new ApiError(0, "aborted", "The upload was cancelled.", null));
      };
      xhr.send(form);
    });
  }

  var SESSION_ENDED =
    "This chat session has ended. Please accept the notice again to start a new chat.";

  function isSessionError(error) {
    return (
      error &&
      (error.status === 401 ||
        error.status === 403 ||
        error.status === 404 ||
        error.status === 410) &&
      /session/i.test(String(error.code) + " " + String(error.detail))
    );
  }

  // ------------------------------------------------------------------ the theme

  var theme = {
    name: "",
    title: attrs.title || "Health assistant",
    color: attrs.color || DEFAULT_COLOR,
    avatar: attrs.avatar || null,
    greeting: attrs.greeting || "",
    position: attrs.position === "left" ? "left" : "right",
  };

  function applyConfig(config) {
    var t = (config && config.theme) || {};
    theme.name = (config && config.name) || "";
    theme.title = attrs.title || t.title || theme.name || "Health assistant";
    if (parseHex(attrs.color || "")) theme.color = attrs.color;
    else if (parseHex(t.color || "")) theme.color = t.color;
    else theme.color = DEFAULT_COLOR;
    theme.avatar = attrs.avatar || t.avatar || null;
    theme.greeting = attrs.greeting || t.greeting || "";
  }

  // ------------------------------------------------------------------ the UI

  var host;
  var root;
  var ui = {};
  var busy = false;
  var pending = null; // the file chosen for upload: {file, kind, thumb, url}

  function build() {
    host = document.createElement("healthbot-widget");
    host.setAttribute("data-clinic", clinicKey);
    // The host only anchors the shadow root; it takes no room in the page.
    host.style.cssText =
      "all:initial !important;position:fixed !important;width:0 !important;height:0 !important;" +
      "bottom:0 !important;right:0 !important;z-index:2147483000 !important;display:block !important;";
    root = host.attachShadow({ mode: "open" });

    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = BASE + "/widget.css";
    var wrap = el("div", "hb-root hb-pos-" + theme.position);
    wrap.hidden = true; // until the stylesheet is in, so nothing unstyled flashes
    var reveal = function () {
      wrap.hidden = false;
    };
    link.addEventListener("load", reveal);
    link.addEventListener("error", reveal);
    setTimeout(reveal, 3000);
    root.appendChild(link);
    root.appendChild(wrap);
    ui.wrap = wrap;

    // Launcher.
    var launcher = el("button", "hb-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "hb-panel");
    launcher.appendChild(icon("chat"));
    launcher.appendChild(icon("chevron"));
    ui.launcher = launcher;

    // Panel.
    var panel = el("div", "hb-panel");
    panel.id = "hb-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.hidden = true;
    ui.panel = panel;

    var header = el("div", "hb-header");
    var avatar = el("div", "hb-avatar");
    avatar.setAttribute("aria-hidden", "true");
    ui.avatar = avatar;
    var titles = el("div", "hb-titles");
    var title = el("h2", "hb-title");
    title.id = "hb-title";
    var subtitle = el("p", "hb-subtitle");
    titles.appendChild(title);
    titles.appendChild(subtitle);
    ui.title = title;
    ui.subtitle = subtitle;
    var reset = iconButton("refresh", "Start a new conversation", "hb-reset");
    var close = iconButton("close", "Close chat", "hb-close");
    header.appendChild(avatar);
    header.appendChild(titles);
    header.appendChild(reset);
    header.appendChild(close);
    ui.reset = reset;
    ui.close = close;

    // "Start a new conversation?": asked inside the panel, not with a browser dialog.
    var confirmBox = el("div", "hb-confirm");
    confirmBox.setAttribute("role", "group");
    confirmBox.setAttribute("aria-labelledby", "hb-confirm-text");
    confirmBox.hidden = true;
    var confirmText = el(
      "p",
      "hb-confirm-text",
      "Start a new conversation? The messages shown here will be cleared from this device."
    );
    confirmText.id = "hb-confirm-text";
    var confirmActions = el("div", "hb-confirm-actions");
    var confirmNo = el("button", "hb-secondary", "Cancel");
    confirmNo.type = "button";
    var confirmYes = el("button", "hb-primary hb-small", "Start new");
    confirmYes.type = "button";
    confirmActions.appendChild(confirmNo);
    confirmActions.appendChild(confirmYes);
    confirmBox.appendChild(confirmText);
    confirmBox.appendChild(confirmActions);
    ui.confirm = confirmBox;
    ui.confirmNo = confirmNo;
    ui.confirmYes = confirmYes;

    // Body: the consent notice or the conversation.
    var body = el("div", "hb-body");
    var log = el("div", "hb-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", "Conversation");
    log.tabIndex = 0;
    ui.log = log;

    var consent = el("div", "hb-consent");
    consent.hidden = true;
    ui.consent = consent;

    var typing = el("div", "hb-typing");
    typing.hidden = true;
    var dots = el("span", "hb-dots");
    dots.setAttribute("aria-hidden", "true");
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    typing.appendChild(dots);
    typing.appendChild(el("span", "hb-sr", "The assistant is typing"));
    ui.typing = typing;

    body.appendChild(log);
    body.appendChild(consent);

    // Composer.
    var composer = el("form", "hb-composer");
    composer.setAttribute("novalidate", "");
    ui.composer = composer;

    var attachment = el("div", "hb-attachment");
    attachment.hidden = true;
    ui.attachment = attachment;

    var progress = el("div", "hb-progress");
    progress.setAttribute("role", "progressbar");
    progress.setAttribute("aria-label", "Upload progress");
    progress.setAttribute("aria-valuemin", "0");
    progress.setAttribute("aria-valuemax", "100");
    progress.hidden = true;
    var bar = el("div", "hb-progress-bar");
    progress.appendChild(bar);
    ui.progress = progress;
    ui.progressBar = bar;

    var row = el("div", "hb-row");
    var attach = iconButton("attach", "Attach a photo or document", "hb-attach");
    var fileInput = el("input", "hb-file");
    fileInput.type = "file";
    fileInput.accept = ACCEPT;
    fileInput.tabIndex = -1;
    fileInput.setAttribute("aria-hidden", "true");
    var input = el("textarea", "hb-input");
    input.rows = 1;
    input.setAttribute("aria-label", "Type your message");
    input.placeholder = "Type your message…";
    input.setAttribute("enterkeyhint", "send");
    input.maxLength = MAX_TEXT_CHARS;
    input.autocomplete = "off";
    var send = iconButton("send", "Send message", "hb-send");
    send.type = "submit";
    row.appendChild(attach);
    row.appendChild(fileInput);
    row.appendChild(input);
    row.appendChild(send);
    ui.attach = attach;
    ui.fileInput = fileInput;
    ui.input = input;
    ui.send = send;

    composer.appendChild(attachment);
    composer.appendChild(progress);
    composer.appendChild(row);

    var footer = el("p", "hb-footer", FOOTER_TEXT);

    panel.appendChild(header);
    panel.appendChild(confirmBox);
    panel.appendChild(body);
    panel.appendChild(composer);
    panel.appendChild(footer);

    wrap.appendChild(panel);
    wrap.appendChild(launcher);
    document.body.appendChild(host);

    wire();
    applyTheme();
    renderAll();
  }

  function applyTheme() {
    var p = palette(theme.color);
    var style = ui.wrap.style;
    style.setProperty("--hb-color", p.color);
    style.setProperty("--hb-on-color", p.onColor);
    style.setProperty("--hb-accent", p.accent);
    style.setProperty("--hb-soft", p.soft);
    style.setProperty("--hb-hover", p.hover);
    ui.wrap.className = "hb-root hb-pos-" + theme.position;

    ui.title.textContent = theme.title;
    var named = theme.name && theme.title.indexOf(theme.name) === -1;
    var subtitle = named ? theme.name : "Automated assistant";
    ui.subtitle.textContent = subtitle;
    ui.panel.setAttribute("aria-label", "Chat with " + theme.title);
    ui.launcher.setAttribute(
      "aria-label",
      (isOpen() ? "Close chat with " : "Open chat with ") + theme.title
    );

    // Avatar: the clinic's picture, or the title's initial when there is none (or it fails).
    ui.avatar.textContent = "";
    var initial = el("span", "hb-initial", (theme.title.trim()[0] || "+").toUpperCase());
    var src = safeUrl(theme.avatar, true);
    if (src) {
      var img = el("img", "hb-avatar-img");
      img.alt = "";
      img.decoding = "async";
      img.referrerPolicy = "no-referrer";
      img.addEventListener("error", function () {
        ui.avatar.textContent = "";
        ui.avatar.appendChild(initial);
      });
      img.src = src;
      ui.avatar.appendChild(img);
    } else {
      ui.avatar.appendChild(initial);
    }
  }

  // ------------------------------------------------------------------ rendering messages

  function isOpen() {
    return ui.panel && !ui.panel.hidden;
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function renderAll() {
    ui.log.textContent = "";
    state.messages.forEach(function (message, index) {
      ui.log.appendChild(renderMessage(message, index));
    });
    ui.log.appendChild(ui.typing);
    ui.reset.hidden = !state.session && !state.messages.length;
    showConsent(!state.session);
    scrollToEnd();
  }

  function renderMessage(message, index) {
    var from = message.from === "user" ? "user" : message.from === "notice" ? "notice" : "bot";
    var item = el("div", "hb-msg hb-" + from);
    if (from === "notice") {
      item.setAttribute("role", "alert");
      renderText(item, message.text || "", false);
      return item;
    }
    var bubble = el("div", "hb-bubble");
    var label = el("span", "hb-sr", from === "user" ? "You said:" : theme.title + " said:");
    bubble.appendChild(label);

    if (message.attachment) {
      var media = renderAttachment(message.attachment, message.thumb);
      if (media.tagName === "IMG" && !message.text) bubble.className += " hb-media";
      bubble.appendChild(media);
    }
    if (message.image) {
      var src = safeUrl(message.image, false);
      if (src) {
        var figure = el("a", "hb-image-link");
        figure.href = src;
        figure.target = "_blank";
        figure.rel = "noopener noreferrer";
        var img = el("img", "hb-image");
        img.alt = "Image from the assistant";
        img.loading = "lazy";
        img.referrerPolicy = "no-referrer";
        img.src = src;
        img.addEventListener("load", scrollToEnd);
        figure.appendChild(img);
        bubble.appendChild(figure);
      }
    }
    if (message.text) {
      var text = el("div", "hb-text");
      renderText(text, message.text, from === "bot");
      bubble.appendChild(text);
    }
    item.appendChild(bubble);

    if (from === "bot" && message.buttons && message.buttons.length && !message.used) {
      var group = el("div", "hb-quick");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      message.buttons.forEach(function (b) {
        if (!b || typeof b.title !== "string") return;
        var button = el("button", "hb-chip", b.title);
        button.type = "button";
        button.addEventListener("click", function () {
          if (busy) return;
          sendText(typeof b.payload === "string" && b.payload ? b.payload : b.title, b.title, index);
        });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    return item;
  }

  function renderAttachment(attachment, thumb) {
    var src = thumb ? safeUrl(thumb, true) : null;
    if (attachment.kind === "image" && src) {
      var img = el("img", "hb-thumb");
      img.alt = "Your photo" + (attachment.name ? ": " + attachment.name : "");
      img.src = src;
      img.addEventListener("load", scrollToEnd);
      return img;
    }
    return fileChip(attachment.name, attachment.size, attachment.kind);
  }

  function fileChip(name, size, kind) {
    var chip = el("div", "hb-file-chip");
    chip.appendChild(icon("doc"));
    var meta = el("span", "hb-file-meta");
    meta.appendChild(el("span", "hb-file-name", name || (kind === "image" ? "Photo" : "Document")));
    var detail = [kindLabel(kind), formatSize(size)].filter(Boolean).join(" · ");
    if (detail) meta.appendChild(el("span", "hb-file-size", detail));
    chip.appendChild(meta);
    return chip;
  }

  function kindLabel(kind) {
    return { image: "Photo", pdf: "PDF", text: "Text", json: "JSON" }[kind] || "";
  }

  function addMessage(message) {
    state.messages.push(message);
    var index = state.messages.length - 1;
    var node = renderMessage(message, index);
    ui.log.insertBefore(node, ui.typing);
    if (state.messages.length > MAX_STORED_MESSAGES) {
      state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
      renderAll();
    }
    saveState();
    scrollToEnd();
    return node;
  }

  function notice(text) {
    var item = renderMessage({ from: "notice", text: text });
    ui.log.insertBefore(item, ui.typing);
    scrollToEnd();
  }

  function retireQuickReplies() {
    var changed = false;
    state.messages.forEach(function (m) {
      if (m.buttons && m.buttons.length && !m.used) {
        m.used = true;
        changed = true;
      }
    });
    if (!changed) return;
    var groups = ui.log.querySelectorAll(".hb-quick");
    for (var i = 0; i < groups.length; i++) groups[i].parentNode.removeChild(groups[i]);
    saveState();
  }

  function addReplies(replies) {
    (replies || []).forEach(function (r) {
      if (!r) return;
      var message = { from: "bot", text: typeof r.text === "string" ? r.text : "" };
      if (Array.isArray(r.buttons) && r.buttons.length) {
        message.buttons = r.buttons
          .filter(function (b) {
            return b && typeof b.title === "string";
          })
          .map(function (b) {
            return { title: b.title, payload: typeof b.payload === "string" ? b.payload : b.title };
          });
      }
      if (typeof r.image === "string" && r.image) message.image = r.image;
      if (message.text || message.image || (message.buttons && message.buttons.length)) {
        addMessage(message);
      }
    });
  }

  function setBusy(value) {
    busy = value;
    ui.typing.hidden = !value;
    ui.send.disabled = value;
    ui.attach.disabled = value;
    ui.panel.setAttribute("aria-busy", value ? "true" : "false");
    if (value) scrollToEnd();
  }

  // ------------------------------------------------------------------ consent and session

  function showConsent(show) {
    ui.consent.hidden = !show;
    ui.log.hidden = show && state.messages.length === 0;
    ui.composer.hidden = show;
    if (!show) return;
    ui.consent.textContent = "";
    var card = el("div", "hb-consent-card");
    var heading = el("h3", "hb-consent-title", "Before we start");
    heading.id = "hb-consent-title";
    card.setAttribute("role", "region");
    card.setAttribute("aria-labelledby", "hb-consent-title");
    card.appendChild(heading);
    var list = el("ul", "hb-consent-list");
    var clinic = theme.name || "the clinic";
    [
      "I'm an automated assistant, not a doctor, and I can't give you a diagnosis.",
      "In an emergency, don't wait for me: call your local emergency number now.",
      "Your messages are stored by " +
        clinic +
        ". You can delete them at any time by saying \u201cforget me\u201d.",
    ].forEach(function (line) {
      list.appendChild(el("li", null, line));
    });
    card.appendChild(list);
    var agree = el("button", "hb-primary", "I agree, start chat");
    agree.type = "button";
    agree.addEventListener("click", function () {
      startSession(agree);
    });
    card.appendChild(agree);
    var error = el("p", "hb-consent-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    card.appendChild(error);
    ui.consentError = error;
    ui.agree = agree;
    ui.consent.appendChild(card);
  }

  function showConfirm(show) {
    ui.confirm.hidden = !show;
    ui.reset.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) ui.confirmNo.focus();
  }

  function startSession(button) {
    if (busy) return;
    button.disabled = true;
    button.textContent = "Starting…";
    ui.consentError.hidden = true;
    api("POST", "/api/v1/widget/session", { clinic: clinicKey, consent: true }).then(
      function (data) {
        if (!data.session || typeof data.session !== "string") {
          throw new ApiError(0, "bad_response", "The chat couldn't start. Please try again.");
        }
        state.session = data.session;
        saveState();
        showConsent(false);
        if (theme.greeting && !state.messages.length) addMessage({ from: "bot", text: theme.greeting });
        renderAll();
        ui.input.focus();
      },
      function (error) {
        button.disabled = false;
        button.textContent = "I agree, start chat";
        ui.consentError.textContent = (error && error.detail) || NETWORK_DETAIL;
        ui.consentError.hidden = false;
      }
    );
  }

  function endSession(message, keepText) {
    state.session = null;
    saveState();
    renderAll();
    if (message) notice(message);
    if (keepText) ui.input.value = keepText;
    if (ui.agree) ui.agree.focus();
  }

  // ------------------------------------------------------------------ sending

  function sendText(text, shown, fromIndex) {
    if (busy || !state.session) return;
    var typed = shown === undefined;
    if (typed) text = ui.input.value.trim();
    if (!text && !pending) return;
    if (pending) return sendUpload(text);

    if (typed) {
      ui.input.value = "";
      autosize();
    }
    retireQuickReplies();
    var display = shown !== undefined ? shown : text;
    var userNode = addMessage({ from: "user", text: display });
    setBusy(true);
    api("POST", "/api/v1/widget/messages", {
      clinic: clinicKey,
      session: state.session,
      text: text,
    }).then(
      function (data) {
        setBusy(false);
        addReplies(data.replies);
        afterReplies(data);
      },
      function (error) {
        setBusy(false);
        // The message didn't go through: take it back out and give the text back for a retry.
        removeMessage(userNode);
        if (typed) restoreInput(text);
        else if (fromIndex !== undefined) restoreQuickReplies(fromIndex);
        if (isSessionError(error)) {
          endSession(SESSION_ENDED, typed ? text : "");
          return;
        }
        notice(error.detail);
        ui.input.focus();
      }
    );
  }

  function restoreInput(text) {
    if (!ui.input.value) {
      ui.input.value = text;
      autosize();
    }
  }

  /** Takes back the last message (one that didn't go through), without re-rendering the log. */
  function removeMessage(node) {
    if (node && node.parentNode && node === lastMessageNode()) {
      state.messages.pop();
      saveState();
      node.parentNode.removeChild(node);
    }
  }

  function lastMessageNode() {
    var nodes = ui.log.querySelectorAll(".hb-msg:not(.hb-notice)");
    return nodes.length ? nodes[nodes.length - 1] : null;
  }

  function restoreQuickReplies(index) {
    var message = state.messages[index];
    if (message && message.buttons) {
      message.used = false;
      saveState();
      renderAll();
    }
  }

  function afterReplies(data) {
    // A gateway may say the conversation is gone (e.g. after "forget me"): drop the local copy too.
    if (data && (data.forgotten === true || data.session_ended === true)) {
      var kept = state.messages.slice(-2);
      clearState();
      state.messages = kept;
      renderAll();
      ui.log.hidden = false;
    }
  }

  // ------------------------------------------------------------------ uploads

  function fileKind(file) {
    var name = (file.name || "").toLowerCase();
    var type = (file.type || "").toLowerCase();
    if (/^image\//.test(type) || /\.(jpe?g|png|webp|heic|heif)$/.test(name)) return "image";
    if (type === "application/pdf" || /\.pdf$/.test(name)) return "pdf";
    if (type === "application/json" || /\.json$/.test(name)) return "json";
    return "text";
  }

  function accepted(file) {
    var name = (file.name || "").toLowerCase();
    var type = (file.type || "").toLowerCase();
    if (type && ACCEPT_TYPES.indexOf(type) !== -1) return true;
    return ACCEPT_EXTENSIONS.some(function (ext) {
      return name.slice(-ext.length) === ext;
    });
  }

  /** A small JPEG data URL of an image file (for the preview and the stored conversation). */
  function thumbnail(file) {
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        try {
          var max = 320;
          var scale = Math.min(1, max / Math.max(img.naturalWidth, img.naturalHeight));
          var canvas = document.createElement("canvas");
          canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
          canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
          canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
          resolve(canvas.toDataURL("image/jpeg", 0.78));
        } catch (e) {
          resolve(null);
        } finally {
          URL.revokeObjectURL(url);
        }
      };
      img.onerror = function () {
        URL.revokeObjectURL(url);
        resolve(null);
      };
      img.src = url;
    });
  }

  function choose(file) {
    if (!file) return;
    if (!accepted(file)) {
      notice(
        "I can only accept photos (JPEG, PNG, WebP) and documents (PDF, text or JSON). " +
          "\u201c" + file.name + "\u201d isn't one of those."
      );
      return;
    }
    if (file.size > MAX_UPLOAD_BYTES) {
      notice(
        "\u201c" + file.name + "\u201d is " + formatSize(file.size) +
          ". Files can be up to 20 MB: please choose a smaller one."
      );
      return;
    }
    if (file.size === 0) {
      notice("\u201c" + file.name + "\u201d is empty. Please choose another file.");
      return;
    }
    var kind = fileKind(file);
    pending = { file: file, kind: kind, thumb: null };
    var token = pending;
    renderPending();
    if (kind === "image") {
      thumbnail(file).then(function (thumb) {
        if (pending !== token) return;
        pending.thumb = thumb;
        renderPending();
      });
    }
    ui.input.focus();
  }

  function renderPending() {
    var box = ui.attachment;
    box.textContent = "";
    if (!pending) {
      box.hidden = true;
      ui.input.placeholder = "Type your message…";
      return;
    }
    box.hidden = false;
    if (pending.kind === "image" && pending.thumb) {
      var img = el("img", "hb-preview");
      img.alt = "Preview of " + pending.file.name;
      img.src = pending.thumb;
      box.appendChild(img);
      var meta = el("span", "hb-file-meta");
      meta.appendChild(el("span", "hb-file-name", pending.file.name));
      meta.appendChild(el("span", "hb-file-size", "Photo · " + formatSize(pending.file.size)));
      box.appendChild(meta);
    } else {
      box.appendChild(fileChip(pending.file.name, pending.file.size, pending.kind));
    }
    var remove = iconButton("close", "Remove attachment", "hb-remove");
    remove.addEventListener("click", function () {
      pending = null;
      renderPending();
      ui.input.focus();
    });
    box.appendChild(remove);
    ui.input.placeholder = "Add a note (optional), then send";
  }

  function sendUpload(caption) {
    var chosen = pending;
    var form = new FormData();
    form.append("clinic", clinicKey);
    form.append("session", state.session);
    form.append("file", chosen.file, chosen.file.name);
    if (caption) form.append("caption", caption);

    retireQuickReplies();
    ui.input.value = "";
    autosize();
    pending = null;
    renderPending();
    var message = {
      from: "user",
      text: caption || "",
      attachment: { kind: chosen.kind, name: chosen.file.name, size: chosen.file.size },
    };
    if (chosen.thumb) message.thumb = chosen.thumb;
    var userNode = addMessage(message);
    var userIndex = state.messages.length - 1;

    setBusy(true);
    ui.typing.hidden = true;
    setProgress(0);
    upload(form, function (fraction) {
      setProgress(fraction);
      if (fraction >= 1) ui.typing.hidden = false;
    }).then(
      function (data) {
        setProgress(null);
        setBusy(false);
        var sent = state.messages[userIndex];
        if (data.upload && data.upload.kind && sent && sent.attachment) {
          sent.attachment.kind = data.upload.kind;
          saveState();
        }
        addReplies(data.replies);
        afterReplies(data);
      },
      function (error) {
        setProgress(null);
        setBusy(false);
        if (isSessionError(error)) {
          removeMessage(userNode);
          endSession(SESSION_ENDED, caption);
          return;
        }
        // Keep the file chosen so a retry is one tap, unless the gateway refused the file itself.
        removeMessage(userNode);
        if (error.status === 0 || error.status === 429 || error.status >= 500) {
          pending = chosen;
          renderPending();
        }
        restoreInput(caption || "");
        notice(error.detail);
        ui.input.focus();
      }
    );
  }

  function setProgress(fraction) {
    if (fraction === null) {
      ui.progress.hidden = true;
      return;
    }
    var percent = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
    ui.progress.hidden = false;
    ui.progress.setAttribute("aria-valuenow", String(percent));
    ui.progress.setAttribute("aria-valuetext", "Uploading: " + percent + "%");
    ui.progressBar.style.width = percent + "%";
  }

  // ------------------------------------------------------------------ open, close, keys

  function open(focusInside) {
    if (isOpen()) return;
    ui.panel.hidden = false;
    ui.wrap.classList.add("hb-open");
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcher.setAttribute("aria-label", "Close chat with " + theme.title);
    rememberOpen(true);
    scrollToEnd();
    if (focusInside !== false) {
      var target = state.session ? ui.input : ui.agree || ui.close;
      // After the panel is laid out, so the focus scrolls nothing on the page.
      setTimeout(function () {
        if (target) target.focus({ preventScroll: true });
      }, 0);
    }
  }

  function close(returnFocus) {
    if (!isOpen()) return;
    ui.panel.hidden = true;
    ui.wrap.classList.remove("hb-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.setAttribute("aria-label", "Open chat with " + theme.title);
    rememberOpen(false);
    if (returnFocus !== false) ui.launcher.focus();
  }

  function autosize() {
    var input = ui.input;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  function wire() {
    ui.launcher.addEventListener("click", function () {
      if (isOpen()) close();
      else open();
    });
    ui.close.addEventListener("click", function () {
      close();
    });
    ui.reset.addEventListener("click", function () {
      if (busy) return;
      showConfirm(!ui.confirm.hidden ? false : true);
    });
    ui.confirmNo.addEventListener("click", function () {
      showConfirm(false);
      ui.reset.focus();
    });
    ui.confirmYes.addEventListener("click", function () {
      showConfirm(false);
      pending = null;
      renderPending();
      clearState();
      renderAll();
      if (ui.agree) ui.agree.focus();
    });
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        if (!ui.confirm.hidden) {
          showConfirm(false);
          ui.reset.focus();
          return;
        }
        close();
      }
    });
    ui.launcher.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && isOpen()) {
        event.preventDefault();
        close();
      }
    });
    ui.composer.addEventListener("submit", function (event) {
      event.preventDefault();
      sendText();
    });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendText();
      }
    });
    ui.input.addEventListener("input", autosize);
    ui.attach.addEventListener("click", function () {
      ui.fileInput.value = "";
      ui.fileInput.click();
    });
    ui.fileInput.addEventListener("change", function () {
      choose(ui.fileInput.files && ui.fileInput.files[0]);
    });
    // Drop a file anywhere on the panel, or paste an image into the input.
    ui.panel.addEventListener("dragover", function (event) {
      if (!state.session || busy) return;
      event.preventDefault();
      ui.panel.classList.add("hb-dragging");
    });
    ui.panel.addEventListener("dragleave", function (event) {
      if (event.target === ui.panel) ui.panel.classList.remove("hb-dragging");
    });
    ui.panel.addEventListener("drop", function (event) {
      ui.panel.classList.remove("hb-dragging");
      if (!state.session || busy) return;
      event.preventDefault();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (files && files[0]) choose(files[0]);
    });
    ui.input.addEventListener("paste", function (event) {
      var items = (event.clipboardData && event.clipboardData.files) || [];
      if (items.length && /^image\//.test(items[0].type)) {
        event.preventDefault();
        choose(items[0]);
      }
    });
  }

  // ------------------------------------------------------------------ start

  function start(config) {
    applyConfig(config);
    build();
    if (sessionStore && sessionStore.getItem(OPEN_KEY) === "1") open(false);
    // Another tab of the same site changed the conversation: show the same thing here.
    window.addEventListener("storage", function (event) {
      if (event.key !== STORE_KEY || busy) return;
      state = loadState();
      renderAll();
    });
    window.HealthWidget = {
      open: function () {
        open();
      },
      close: function () {
        close(false);
      },
    };
  }

  function boot() {
    api("GET", "/api/v1/widget/config?clinic=" + encodeURIComponent(clinicKey)).then(
      start,
      function (error) {
        // Unknown clinic key, a site that isn't on the clinic's list (the browser then hides the
        // answer: CORS), or the gateway is down: a chat that can't work is not shown at all.
        if (window.console) {
          console.warn("[health widget] not started: " + (error && error.detail));
        }
      }
    );
  }

  if (document.body) boot();
  else document.addEventListener("DOMContentLoaded", boot);
})();
