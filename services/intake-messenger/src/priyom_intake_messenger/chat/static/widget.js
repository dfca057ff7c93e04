/* Priyom website chat widget: one tag, no framework.
 *   <script src="https://support.example/chat/widget.js" data-site-key="shop-1" defer></script>
 * Optional: data-lang="ru|en" (default: the browser's language).
 *
 * What survives a page load lives in localStorage under "priyom-chat:<site key>": the visitor's token (the
 * server rotates it on every visit), the pre-chat form, and the messages not yet acknowledged. Each message
 * gets its id here, in the browser; whatever the server has not acknowledged is sent again after a reconnect
 * under the same id, and the server makes it the same contact.
 *
 * Typing, both ways, is a signal and never a message: while the visitor types, {"type": "typing"} goes out at
 * most once per TYPING_EVERY_MS (no text with it, nothing queued or resent); an agent's typing shows "the
 * operator is typing…" until the answer arrives or TYPING_SHOWN_MS pass without another signal.
 */
(function () {
  "use strict";
  var tag = document.currentScript;
  if (!tag || !tag.dataset.siteKey) { return; }
  var site = tag.dataset.siteKey;
  var base = new URL(tag.src, location.href);
  var socketUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/chat/ws?site=" +
    encodeURIComponent(site);
  var lang = tag.dataset.lang || ((navigator.language || "ru").slice(0, 2) === "ru" ? "ru" : "en");
  var T = {
    ru: {title: "Поддержка", open: "Чат с поддержкой", close: "Свернуть", send: "Отправить",
      placeholder: "Ваше сообщение…", online: "Мы на связи", offline:
      "Сейчас никого нет на месте. Оставьте сообщение: мы ответим на e-mail, как только сможем.",
      name: "Имя", email: "E-mail", phone: "Телефон", consent: "Согласен(на) на обработку персональных данных",
      start: "Начать чат", need: "Укажите e-mail или телефон и дайте согласие", needEmail:
      "Укажите e-mail: ответ придёт на него", file: "Файл", sending: "отправляется…", sent: "доставлено",
      failed: "не отправлено", wait: "Слишком часто, подождите ", seconds: " с", tooLarge: "Файл больше ",
      rate: "Оцените, пожалуйста, нашу работу:", thanks: "Спасибо за оценку!", reconnecting: "Переподключение…",
      you: "Вы", agent: "Поддержка", typing: "Оператор печатает…"},
    en: {title: "Support", open: "Chat with support", close: "Minimise", send: "Send",
      placeholder: "Your message…", online: "We are online", offline:
      "Nobody is available right now. Leave a message and we will answer by e-mail as soon as we can.",
      name: "Name", email: "E-mail", phone: "Phone", consent: "I agree to the processing of my personal data",
      start: "Start chat", need: "Give an e-mail or a phone number, and your consent", needEmail:
      "Give an e-mail: the answer goes there", file: "File", sending: "sending…", sent: "delivered",
      failed: "not sent", wait: "Too fast, wait ", seconds: " s", tooLarge: "The file is larger than ",
      rate: "Please rate our help:", thanks: "Thank you for your rating!", reconnecting: "Reconnecting…",
      you: "You", agent: "Support", typing: "The operator is typing…"}
  }[lang];

  var storeKey = "priyom-chat:" + site;
  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  var state = load();
  state.outbox = state.outbox || [];
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode: this page only */ }
  }
  function newId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // -- the page's part: a launcher and a panel in a shadow root, so the site's styles and ours never mix --
  var host = document.createElement("div");
  host.id = "priyom-chat";
  var root = host.attachShadow({mode: "open"});
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("/chat/widget.css", base).href;
  root.appendChild(css);
  function el(name, attrs, text) {
    var node = document.createElement(name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }
  var launcher = el("button", {id: "launcher", type: "button", "aria-label": T.open}, "💬");
  var panel = el("section", {id: "panel", hidden: "", "aria-label": T.title, lang: lang});
  var header = el("header", {}, T.title);
  var hide = el("button", {id: "hide", type: "button", "aria-label": T.close}, "×");
  header.appendChild(hide);
  var status = el("p", {id: "status", role: "status"});
  var log = el("ol", {id: "log", "aria-live": "polite"});
  var typingNote = el("p", {id: "typing", hidden: "", "aria-live": "polite"}, T.typing);
  var form = el("form", {id: "prechat"});
  var nameIn = el("input", {id: "name", name: "name", autocomplete: "name", placeholder: T.name, maxlength: "200"});
  var emailIn = el("input", {id: "email", name: "email", type: "email", autocomplete: "email", placeholder: T.email});
  var phoneIn = el("input", {id: "phone", name: "phone", type: "tel", autocomplete: "tel", placeholder: T.phone});
  var consentLabel = el("label", {});
  var consentIn = el("input", {id: "consent", type: "checkbox"});
  consentLabel.appendChild(consentIn);
  consentLabel.appendChild(document.createTextNode(" " + T.consent));
  var formNote = el("p", {id: "prechat-note", role: "alert"});
  form.append(nameIn, emailIn, phoneIn, consentLabel, formNote, el("button", {type: "submit"}, T.start));
  var composer = el("form", {id: "composer"});
  var textIn = el("textarea", {id: "text", rows: "2", placeholder: T.placeholder, maxlength: "4000"});
  var fileIn = el("input", {id: "file", type: "file", "aria-label": T.file});
  composer.append(textIn, fileIn, el("button", {id: "send", type: "submit"}, T.send));
  panel.append(header, status, log, typingNote, form, composer);
  root.append(launcher, panel);
  (document.body || document.documentElement).appendChild(host);

  var online = true;
  var limits = {text: 4000, files: 3, file_bytes: 5 * 1024 * 1024};
  var shown = {};
  // Typing: the visitor's signals go out at most this often (sending a message does not start the count again:
  // the server passes on one per 2 s, so a signal sent sooner would be dropped); an agent's is shown this long
  // after the last one.
  var TYPING_EVERY_MS = 2500;
  var TYPING_SHOWN_MS = 6000;
  var typingSentAt = 0;
  var typingTimer = null;

  function showForms() {
    var needProfile = !state.profile;
    form.hidden = !needProfile;
    composer.hidden = needProfile;
  }
  function line(item, pending) {
    var node = shown[item.from + ":" + item.id];
    if (!node) {
      node = el("li", {"class": item.from === "visitor" ? "visitor" : "agent"});
      node.appendChild(el("span", {"class": "who"}, item.from === "visitor" ? T.you : T.agent));
      node.appendChild(el("p", {"class": "text"}, item.text || ""));
      (item.files || []).forEach(function (f, i) {
        var file = el("p", {"class": "file"}, item.from === "visitor" ? "📎 " + f : "");
        if (item.from !== "visitor") {  // an agent's file: a download by the answer's id
          file.appendChild(el("a", {href: new URL("/chat/files/" + item.id + "/" + i, base).href, download: f},
            "📎 " + f));
        }
        node.appendChild(file);
      });
      node.appendChild(el("small", {"class": "state"}));
      shown[item.from + ":" + item.id] = node;
      log.appendChild(node);
      if (item.survey && item.ticket) { node.appendChild(ratingBox(item.ticket)); }
    }
    if (item.from === "visitor") {
      var now = pending === "failed" ? "failed" : (pending ? "sending" : "sent");
      node.querySelector(".state").textContent = {failed: T.failed, sending: T.sending, sent: T.sent}[now];
      node.dataset.state = now;
    }
    log.scrollTop = log.scrollHeight;
  }
  function ratingBox(ticket) {
    var box = el("div", {"class": "rating"});
    state.rated = state.rated || {};
    if (state.rated[ticket]) { box.textContent = T.thanks; return box; }
    box.appendChild(el("p", {}, T.rate));
    [1, 2, 3, 4, 5].forEach(function (n) {
      var b = el("button", {type: "button", "data-rating": String(n), "aria-label": n + "/5"}, "★");
      b.addEventListener("click", function () {
        state.rated[ticket] = n;
        queue({type: "rating", id: newId(), ticket: ticket, rating: n});
        box.textContent = T.thanks;
      });
      box.appendChild(b);
    });
    return box;
  }

  // -- the socket: hello, welcome, then frames; unacknowledged ones are resent after every reconnect --
  var socket = null;
  var retryMs = 500;
  var pinger = null;
  function connect() {
    socket = new WebSocket(socketUrl);
    socket.onopen = function () {
      socket.send(JSON.stringify({type: "hello", token: state.token || null, lang: lang}));
    };
    socket.onmessage = function (event) { receive(JSON.parse(event.data)); };
    socket.onclose = function () {
      clearInterval(pinger);
      status.textContent = T.reconnecting;
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 15000);
    };
  }
  function receive(frame) {
    if (frame.type === "welcome") {
      retryMs = 500;
      state.token = frame.token;
      save();
      online = frame.online;
      limits = frame.limits || limits;
      status.textContent = online ? T.online : T.offline;
      frame.history.forEach(function (item) { line(item, false); });
      if (state.profile) { socket.send(JSON.stringify(state.profile)); }
      state.outbox.forEach(function (f) { socket.send(JSON.stringify(f)); });
      pinger = setInterval(function () { socket.send(JSON.stringify({type: "ping"})); }, 25000);
    } else if (frame.type === "ack") {
      state.outbox = state.outbox.filter(function (f) { return f.id !== frame.id; });
      save();
      var node = shown["visitor:" + frame.id];
      if (node) { line({from: "visitor", id: frame.id}, false); }
    } else if (frame.type === "reply") {
      agentTyping(false);
      line(frame, false);
    } else if (frame.type === "typing") {
      agentTyping(true);
    } else if (frame.type === "presence") {
      online = frame.online;
      status.textContent = online ? T.online : T.offline;
    } else if (frame.type === "refused") {
      refused(frame);
    }
  }
  function refused(frame) {
    var held = state.outbox.filter(function (f) { return f.id === frame.id; })[0];
    if (held && (frame.reason === "rate_limited" || frame.reason === "unavailable")) {
      if (frame.reason === "rate_limited") { status.textContent = T.wait + frame.retry_after + T.seconds; }
      setTimeout(function () { send(held); }, (frame.retry_after || 2) * 1000);
      return;
    }
    state.outbox = state.outbox.filter(function (f) { return f.id !== frame.id; });
    save();
    if (shown["visitor:" + frame.id]) { line({from: "visitor", id: frame.id}, "failed"); }
  }
  function agentTyping(on) {
    clearTimeout(typingTimer);
    typingNote.hidden = !on;
    if (on) { typingTimer = setTimeout(function () { typingNote.hidden = true; }, TYPING_SHOWN_MS); }
  }
  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); }
  }
  function queue(frame) {
    state.outbox.push(frame);
    save();
    send(frame);
  }

  // -- what the visitor does --
  launcher.addEventListener("click", function () {
    panel.hidden = false;
    launcher.hidden = true;
    showForms();
    if (!socket) { connect(); }
    (state.profile ? textIn : nameIn).focus();
  });
  hide.addEventListener("click", function () { panel.hidden = true; launcher.hidden = false; });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var email = emailIn.value.trim();
    var phone = phoneIn.value.trim();
    if (!consentIn.checked || (!email && !phone)) { formNote.textContent = T.need; return; }
    if (!online && !email) { formNote.textContent = T.needEmail; return; }
    state.profile = {type: "profile", name: nameIn.value.trim() || null, email: email || null,
      phone: phone || null, consent: true};
    save();
    send(state.profile);
    showForms();
    textIn.focus();
  });
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = textIn.value.trim();
    var file = fileIn.files && fileIn.files[0];
    if (!text && !file) { return; }
    if (file && file.size > limits.file_bytes) {
      status.textContent = T.tooLarge + Math.round(limits.file_bytes / 1048576) + " MB";
      return;
    }
    var frame = {type: "message", id: newId(), text: text.slice(0, limits.text), files: []};
    textIn.value = "";
    fileIn.value = "";
    if (!file) { post(frame); return; }
    var reader = new FileReader();
    reader.onload = function () {
      frame.files.push({name: file.name, type: file.type || "application/octet-stream",
        data: String(reader.result).split(",")[1] || ""});
      post(frame);
    };
    reader.readAsDataURL(file);
  });
  textIn.addEventListener("input", function () {
    var now = Date.now();
    if (!textIn.value.trim() || now - typingSentAt < TYPING_EVERY_MS) { return; }
    typingSentAt = now;
    send({type: "typing"});  // straight to the socket, never the outbox: a late signal is worth nothing
  });
  textIn.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
  });
  function post(frame) {
    line({from: "visitor", id: frame.id, text: frame.text, files: frame.files.map(function (f) { return f.name; })},
      true);
    queue(frame);
  }

  // A visitor who chatted before, or left messages unsent, is reconnected at once: replies and resends flow.
  if (state.token || state.outbox.length) {
    state.outbox.forEach(function (f) {
      if (f.type === "message") {
        line({from: "visitor", id: f.id, text: f.text, files: f.files.map(function (x) { return x.name; })}, true);
      }
    });
    connect();
  }
}());
