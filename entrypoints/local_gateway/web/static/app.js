// Switchboard chat: a plain WebSocket client of the protocol in README.md ("The protocol").
"use strict";

(() => {
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 10000;
  const MAX_ENTRIES = 500; // the list keeps the newest: a tab left open must not grow forever
  const MAX_PENDING = 1000; // own messages awaiting their echo (lost ones must not pile up)

  // What the usual close codes mean, for people reading the page rather than RFC 6455.
  const CLOSE_CODES = {
    1000: "normal closure", 1001: "going away", 1003: "unsupported data (binary frame?)",
    1006: "no close frame: the server is unreachable or the connection dropped",
    1008: "policy violation", 1009: "message too big", 1011: "server error",
  };
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"), url: $("url"), connectForm: $("connect-form"),
    disconnect: $("disconnect"), connectionId: $("connection-id"),
    joinForm: $("join-form"), room: $("room"), rooms: $("rooms"), noRooms: $("no-rooms"),
    sendForm: $("send-form"), target: $("target"), text: $("text"), messages: $("messages"),
  };
  const state = {
    socket: null,
    wanted: false, // the user wants a connection: false after Disconnect, so no reconnecting
    attempt: 0, // reconnects since the last working connection, for the backoff
    timer: null,
    rooms: new Map(), // room -> "joined" | "rejoining"; kept across reconnects and rejoined
    pending: new Map(), // id of an own message -> Date.now() when sent
    connectionId: null,
  };

  function defaultUrl() {
    const params = new URLSearchParams(location.search);
    if (params.get("url")) return params.get("url");
    const stage = encodeURIComponent(params.get("stage") || "dev");
    if (location.protocol === "http:" || location.protocol === "https:") {
      // The gateway serves this page on the same port as its WebSocket stage.
      return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/${stage}`;
    }
    return `ws://127.0.0.1:8080/${stage}`; // opened as a file: `switchboard serve`'s default
  }

  function connect() {
    clearTimeout(state.timer);
    state.timer = null;
    const previous = state.socket;
    state.socket = null; // its close event, now ignored, must not schedule a reconnect
    if (previous) previous.close(1000, "Reconnecting");
    const url = ui.url.value.trim();
    let socket;
    try {
      // Browsers resolve a relative URL against the page: a typo would silently go elsewhere.
      if (!/^wss?:\/\//i.test(url)) throw new Error("the URL must start with ws:// or wss://");
      socket = new WebSocket(url);
    } catch (err) {
      state.wanted = false;
      setStatus("closed", `Cannot connect to ${url}: ${err.message}`);
      addNotice("error", `Cannot connect to ${url}: ${err.message}`);
      render();
      return;
    }
    state.socket = socket;
    state.wanted = true;
    setStatus("connecting", `Connecting to ${url}…`);
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      if (socket === state.socket) onOpen(url);
    });
    socket.addEventListener("message", (e) => socket === state.socket && onFrame(e.data));
    socket.addEventListener("close", (e) => socket === state.socket && onClose(e, url, opened));
    render();
  }

  function onOpen(url) {
    setStatus("open", `Connected to ${url}`);
    send({ action: "whoami" });
    for (const room of state.rooms.keys()) {
      state.rooms.set(room, "rejoining");
      send({ action: "join", room });
    }
    render();
  }

  function onClose(event, url, opened) {
    state.socket = null;
    state.connectionId = null;
    ui.connectionId.textContent = "none";
    for (const room of state.rooms.keys()) state.rooms.set(room, "rejoining");
    const reason = event.reason ? `reason "${event.reason}"` : "no reason given";
    const meaning = CLOSE_CODES[event.code] ? ` (${CLOSE_CODES[event.code]})` : "";
    const why = `code ${event.code}${meaning}, ${reason}`;
    const what = opened ? `Disconnected: ${why}` : `Could not connect to ${url}: ${why}`;
    addNotice("closed", what);
    if (!state.wanted) {
      setStatus("closed", what);
    } else {
      // Equal jitter: many pages dropped at once by a restart do not come back in lockstep.
      const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** state.attempt);
      const delay = cap / 2 + Math.random() * (cap / 2);
      state.attempt += 1;
      const seconds = (delay / 1000).toFixed(1);
      setStatus("reconnecting", `${what}. Reconnecting in ${seconds} s…`);
      state.timer = setTimeout(connect, delay);
    }
    render();
  }

  function onFrame(text) {
    let value = null;
    try {
      value = JSON.parse(text);
    } catch {
      // not JSON: a peer's raw text ($default relays it verbatim), shown as it is
    }
    if (!isObject(value) || !handleReply(value)) showDelivered(text, value);
  }

  // The gateway's replies and delivered messages share one socket; a peer could mimic a reply,
  // which at worst confuses this page's own view of itself.
  function handleReply(v) {
    if (v.type === "whoami" && typeof v.connectionId === "string") {
      state.connectionId = v.connectionId;
      ui.connectionId.textContent = v.connectionId;
      addNotice("open", `Connected as ${v.connectionId}`);
      state.attempt = 0; // the handler answers: this connection works
    } else if ((v.type === "joined" || v.type === "left") && typeof v.room === "string") {
      if (v.type === "joined") state.rooms.set(v.room, "joined");
      else state.rooms.delete(v.room);
      render();
    } else if (v.type === "error" && typeof v.error === "string" && typeof v.message === "string") {
      addNotice("error", `Error ${v.error}: ${v.message}`);
    } else if (v.type === undefined && typeof v.message === "string" && "requestId" in v) {
      addNotice("error", `Gateway error: ${v.message}`); // API Gateway's own, e.g. a failed handler
    } else {
      return false;
    }
    return true;
  }

  function showDelivered(text, value) {
    if (!isObject(value) || typeof value.text !== "string") {
      addEntry({ own: false, room: null, text, from: null, latency: null });
      return;
    }
    const sentAt = state.pending.get(value.id);
    state.pending.delete(value.id);
    addEntry({
      own: sentAt !== undefined,
      room: typeof value.room === "string" ? value.room : null,
      text: value.text,
      from: typeof value.from === "string" ? value.from : null,
      latency: sentAt === undefined ? null : Math.max(0, Date.now() - sentAt),
    });
  }

  function sendMessage(event) {
    event.preventDefault();
    const text = ui.text.value;
    if (!text || !isOpen()) return;
    const room = ui.target.value;
    const data = { text, id: newId(), sentAt: Date.now(), from: state.connectionId };
    const frame = { action: "sendmessage", data };
    if (room) {
      data.room = room; // the delivered payload carries no room: receivers read it from here
      frame.room = room;
    }
    state.pending.set(data.id, data.sentAt);
    if (state.pending.size > MAX_PENDING) state.pending.delete(state.pending.keys().next().value);
    send(frame);
    ui.text.value = "";
    ui.text.focus();
  }

  function joinRoom(event) {
    event.preventDefault();
    const room = ui.room.value.trim();
    if (!room || !isOpen()) return;
    send({ action: "join", room }); // the list changes on the gateway's "joined" reply
    ui.room.value = "";
  }

  function leaveRoom(room) {
    if (isOpen()) send({ action: "leave", room });
    else state.rooms.delete(room); // offline: just forget it, so no rejoin happens
    render();
  }

  function render() {
    ui.rooms.replaceChildren(...[...state.rooms].map(([room, status]) => {
      const item = el("li", { className: "room", "data-testid": "room", "data-room": room });
      item.append(el("span", { className: "room-name", textContent: room }));
      if (status !== "joined") {
        item.append(el("span", { className: "hint", textContent: "rejoining…" }));
      }
      const leave = el("button", { type: "button", textContent: "Leave", "data-testid": "leave" });
      leave.setAttribute("aria-label", `Leave ${room}`);
      leave.addEventListener("click", () => leaveRoom(room));
      item.append(leave);
      return item;
    }));
    ui.noRooms.hidden = state.rooms.size > 0;
    const chosen = ui.target.value;
    const joined = [...state.rooms].filter(([, s]) => s === "joined").map(([room]) => room);
    ui.target.replaceChildren(
      el("option", { value: "", textContent: "Everyone" }),
      ...joined.map((room) => el("option", { value: room, textContent: `Room ${room}` })),
    );
    ui.target.value = joined.includes(chosen) ? chosen : "";
    const open = isOpen();
    for (const button of [...ui.sendForm.elements, ...ui.joinForm.elements]) {
      if (button.tagName === "BUTTON") button.disabled = !open;
    }
    ui.disconnect.disabled = !state.socket && !state.timer;
  }

  function addEntry({ own, room, text, from, latency }) {
    const item = el("li", {
      className: own ? "message own" : "message", "data-testid": "message",
      "data-room": room ?? "", "data-own": String(own),
    });
    item.append(
      el("time", { textContent: new Date().toLocaleTimeString() }),
      el("span", {
        className: "where", textContent: room ? `#${room}` : "everyone",
        "data-testid": "message-room",
      }),
      el("span", { className: "who", textContent: own ? "you" : from ? `from ${from}` : "" }),
      el("span", { className: "text", textContent: text, "data-testid": "message-text" }),
    );
    if (latency !== null) {
      item.append(el("span", {
        className: "latency", textContent: `${latency} ms`, title: "delivery latency",
        "data-testid": "latency",
      }));
    }
    append(item);
  }

  function addNotice(kind, text) {
    const item = el("li", {
      className: `notice ${kind}`, "data-testid": "notice", "data-kind": kind,
    });
    item.append(
      el("time", { textContent: new Date().toLocaleTimeString() }),
      el("span", { textContent: text }),
    );
    append(item);
  }

  function append(item) {
    const list = ui.messages;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    ui.messages.append(item);
    while (ui.messages.children.length > MAX_ENTRIES) ui.messages.firstElementChild.remove();
    if (atBottom) ui.messages.scrollTop = ui.messages.scrollHeight; // unless the user scrolled up
  }

  function el(tag, props) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value; // textContent, never innerHTML: peers' text is not markup
    }
    return node;
  }

  function setStatus(kind, text) {
    ui.status.dataset.state = kind;
    ui.status.textContent = text;
  }

  const isOpen = () => state.socket !== null && state.socket.readyState === WebSocket.OPEN;
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const send = (frame) => state.socket.send(JSON.stringify(frame));
  // crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
  const newId = () => Array.from(
    crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0"),
  ).join("");

  ui.connectForm.addEventListener("submit", (event) => {
    event.preventDefault();
    state.attempt = 0;
    connect();
  });
  ui.disconnect.addEventListener("click", () => {
    state.wanted = false;
    clearTimeout(state.timer);
    state.timer = null;
    if (state.socket) state.socket.close(1000, "Closed by the user");
    else setStatus("closed", "Not connected");
    render();
  });
  ui.joinForm.addEventListener("submit", joinRoom);
  ui.sendForm.addEventListener("submit", sendMessage);
  ui.url.value = defaultUrl();
  connect();
})();
