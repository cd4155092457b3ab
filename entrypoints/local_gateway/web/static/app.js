// Switchboard chat: a plain WebSocket client of the channels protocol (README, "The protocol").
// Long: the gateway serves exactly three files, so connection, per-room order and recovery,
// presence and rendering share this one, in that order.
"use strict";

(() => {
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 10000;
  // A message ahead of a gap waits this long; then the page asks for the gap (join with since);
  // after as long again it moves on without it.
  const GAP_WAIT_MS = 2000;
  const MAX_ENTRIES = 500; // the list keeps the newest: a tab left open must not grow forever
  const MAX_PENDING = 1000; // own messages awaiting their echo (lost ones must not pile up)
  const MAX_SEEN = 2000; // ids of messages outside a room's order, remembered to drop repeats

  // What the usual close codes mean, for people reading the page rather than RFC 6455.
  const CLOSE_CODES = {
    1000: "normal closure", 1001: "going away", 1003: "unsupported data (binary frame?)",
    1006: "no close frame: the server is unreachable or the connection dropped",
    1008: "policy violation", 1009: "message too big", 1011: "server error",
  };
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"), url: $("url"), token: $("token"), connectForm: $("connect-form"),
    disconnect: $("disconnect"), connectionId: $("connection-id"),
    joinForm: $("join-form"), room: $("room"), rooms: $("rooms"), noRooms: $("no-rooms"),
    sendForm: $("send-form"), target: $("target"), text: $("text"), messages: $("messages"),
  };
  const state = {
    socket: null,
    wanted: false, // the user wants a connection: false after Disconnect, so no reconnecting
    attempt: 0, // reconnects since the last working connection, for the backoff
    timer: null,
    rooms: new Map(), // name -> room (see newRoom); kept across reconnects and rejoined
    pending: new Map(), // id of an own message -> Date.now() when sent
    connectionId: null,
    mine: new Set(), // every connection id this page had: its replayed messages are "you" too
    seen: new Set(), // ids of messages to everyone (or to rooms not joined here) already shown
    targets: null, // the rooms the "To" list offers, as last built
  };

  function newRoom() {
    return {
      status: "joining", // joining (first answer due) | joined | rejoining (after a reconnect)
      since: null, // the `since` of the join awaiting its answer; null for a first join
      last: 0, // the seq of the last message shown
      held: new Map(), // seq -> envelope that arrived ahead of a gap
      gap: null, // {timer, asked} while messages are held
      lost: false, // some history could not be recovered: the warning beside the room
      presence: null, // {count, members: Map(connectionId -> sub)}
    };
  }

  // ---- connection ----

  function settingsFromLocation() {
    const params = new URLSearchParams(location.search);
    let url = params.get("url");
    if (!url) {
      const stage = encodeURIComponent(params.get("stage") || "dev");
      const web = location.protocol === "http:" || location.protocol === "https:";
      // The gateway serves this page on the same port as its WebSocket stage; opened as a
      // file, the default is `switchboard serve`'s.
      url = web
        ? `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/${stage}`
        : `ws://127.0.0.1:8080/${stage}`;
    }
    ui.url.value = url;
    ui.token.value = params.get("token") ?? "";
    const inUrl = takeTokenFromUrl();
    if (!params.has("token") && !inUrl) return;
    params.delete("token"); // nor in the address bar: it is a credential
    if (inUrl) params.set("url", ui.url.value);
    const rest = params.toString();
    try {
      history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
    } catch {
      // a file:// page may refuse; the token is still kept out of the page itself
    }
  }

  // A ?token= typed into the URL goes to the (hidden) token field: the page never shows it.
  function takeTokenFromUrl() {
    try {
      const url = new URL(ui.url.value.trim());
      const token = url.searchParams.get("token");
      if (token === null) return false;
      url.searchParams.delete("token");
      ui.token.value = token;
      ui.url.value = url.toString().replace(/\?$/, "");
      return true;
    } catch {
      return false; // not a URL: connect() says so
    }
  }

  // The address as the page shows it: a query string (where tokens go) is never on screen.
  const shown = (url) => url.replace(/[?#].*$/s, (rest) => (rest.startsWith("?") ? "?…" : ""));

  function connect() {
    clearTimeout(state.timer);
    state.timer = null;
    const previous = state.socket;
    state.socket = null; // its close event, now ignored, must not schedule a reconnect
    if (previous) previous.close(1000, "Reconnecting");
    takeTokenFromUrl();
    const url = ui.url.value.trim();
    const token = ui.token.value.trim();
    let socket;
    try {
      // Browsers resolve a relative URL against the page: a typo would silently go elsewhere.
      if (!/^wss?:\/\//i.test(url)) throw new Error("the URL must start with ws:// or wss://");
      const address = new URL(url);
      if (token) address.searchParams.set("token", token);
      socket = new WebSocket(address.toString());
    } catch (err) {
      state.wanted = false;
      setStatus("closed", `Cannot connect to ${shown(url)}: ${err.message}`);
      addNotice("error", `Cannot connect to ${shown(url)}: ${err.message}`);
      render();
      return;
    }
    state.socket = socket;
    state.wanted = true;
    setStatus("connecting", `Connecting to ${shown(url)}…`);
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      if (socket === state.socket) onOpen(url);
    });
    socket.addEventListener("message", (e) => socket === state.socket && onFrame(e.data));
    socket.addEventListener("close", (e) => socket === state.socket && onClose(e, url, opened));
    render();
  }

  // Per room: a join with since = its last seq, so the gateway replays what was missed.
  function onOpen(url) {
    setStatus("open", `Connected to ${shown(url)}`);
    send({ action: "whoami" });
    for (const [name, room] of state.rooms) {
      room.status = "rejoining";
      room.since = room.last;
      send({ action: "join", room: name, since: room.last });
    }
    render();
  }

  function onClose(event, url, opened) {
    state.socket = null;
    outbox.queue.length = 0; // for the old socket: the reconnect sends its own
    state.connectionId = null;
    ui.connectionId.textContent = "none";
    for (const [name, room] of state.rooms) {
      if (room.status === "joining") {
        state.rooms.delete(name); // never joined: nothing to rejoin
        continue;
      }
      room.status = "rejoining";
      room.held.clear(); // the rejoin replays them, unless the history is gone (then moot)
      endGap(room);
      room.presence = null;
    }
    const reason = event.reason ? `reason "${event.reason}"` : "no reason given";
    const meaning = CLOSE_CODES[event.code] ? ` (${CLOSE_CODES[event.code]})` : "";
    const why = `code ${event.code}${meaning}, ${reason}`;
    const what = opened ? `Disconnected: ${why}` : `Could not connect to ${shown(url)}: ${why}`;
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

  // ---- frames ----

  function onFrame(text) {
    let v = null;
    try {
      v = JSON.parse(text);
    } catch {
      // not JSON: a peer's raw text ($default relays it verbatim), shown as it is
    }
    if (!isObject(v) || !handle(v)) {
      addEntry({ own: false, room: null, seq: null, who: "", text, latency: null });
    }
  }

  // The gateway's answers and delivered messages share one socket; a peer's raw relay could
  // mimic an answer, which at worst confuses this page's own view of itself.
  function handle(v) {
    const named = typeof v.room === "string";
    if (v.type === "message" && isEnvelope(v)) onMessage(v);
    else if (v.type === "joined" && named && isSeq(v.seq)) onJoined(v);
    else if (v.type === "left" && named) onLeft(v.room);
    else if (v.type === "presence" && named) onPresence(v);
    else if (v.type === "whoami" && typeof v.connectionId === "string") onWhoAmI(v.connectionId);
    else if (v.type === "error" && typeof v.error === "string" && typeof v.message === "string") {
      addNotice("error", `Error ${v.error}: ${v.message}`);
    } else if (v.type === undefined && typeof v.message === "string" && "requestId" in v) {
      addNotice("error", `Gateway error: ${v.message}`); // API Gateway's own, e.g. a failed handler
    } else {
      return false;
    }
    return true;
  }

  function onWhoAmI(connectionId) {
    state.connectionId = connectionId;
    state.mine.add(connectionId);
    ui.connectionId.textContent = connectionId;
    addNotice("open", `Connected as ${connectionId}`);
    state.attempt = 0; // the handler answers: this connection works
    render();
  }

  // ---- rooms: order, gaps, recovery ----

  function onMessage(envelope) {
    const room = typeof envelope.room === "string" ? state.rooms.get(envelope.room) : undefined;
    if (room === undefined || !isSeq(envelope.seq)) {
      // To everyone (no seq), or to a room this page did not join (a user's own room): the
      // id tells a repeat (delivery is at-least-once).
      if (state.seen.has(envelope.id)) return;
      state.seen.add(envelope.id);
      if (state.seen.size > MAX_SEEN) state.seen.delete(state.seen.values().next().value);
      show(envelope);
      return;
    }
    if (envelope.seq <= room.last || room.held.has(envelope.seq)) return; // shown or held once
    room.held.set(envelope.seq, envelope);
    if (room.status === "joined") release(envelope.room, room);
  }

  // Shows the held messages that come next, in seq order; a gap left open starts its clock.
  function release(name, room) {
    const waiting = room.gap !== null;
    let moved = false;
    while (room.held.has(room.last + 1)) {
      room.last += 1;
      show(room.held.get(room.last));
      room.held.delete(room.last);
      moved = true;
    }
    if (moved || room.held.size === 0) endGap(room);
    if (room.held.size > 0 && room.gap === null) {
      room.gap = { asked: false, timer: setTimeout(() => gapTimedOut(name), GAP_WAIT_MS) };
    }
    // The room's "waiting for N" hint changes; no render for the usual message, in order.
    if (waiting !== (room.gap !== null) || (moved && room.gap !== null)) render();
  }

  function gapTimedOut(name) {
    const room = state.rooms.get(name);
    if (!room || !room.gap) return;
    if (!room.gap.asked && room.status === "joined" && isOpen()) {
      // Ask once: the gateway replays what follows `since` (the held ones are dropped again).
      room.gap.asked = true;
      room.gap.timer = setTimeout(() => gapTimedOut(name), GAP_WAIT_MS);
      room.since = room.last;
      send({ action: "join", room: name, since: room.last });
      render();
      return;
    }
    const next = Math.min(...room.held.keys());
    addNotice("closed", `${numbers(room.last + 1, next - 1)} of #${name} never arrived`);
    room.last = next - 1;
    release(name, room); // which ends this gap
  }

  function endGap(room) {
    if (room.gap) clearTimeout(room.gap.timer);
    room.gap = null;
  }

  function onJoined(v) {
    let room = state.rooms.get(v.room);
    if (!room) {
      room = newRoom(); // joined elsewhere (another tab's frame?): the gateway says we are in
      state.rooms.set(v.room, room);
    }
    const entered = room.status !== "joined"; // a join or a rejoin, not a request for a gap
    const since = room.since;
    room.since = null;
    room.status = "joined";
    if (v.recovered === false) {
      historyLost(v.room, room, since, v.seq);
    } else if (v.recovered !== true || since === null) {
      room.last = v.seq; // a first join: what comes after the room's latest
      for (const seq of room.held.keys()) if (seq <= v.seq) room.held.delete(seq);
    } // recovered: the missed messages follow this answer, and fill the gaps
    if (entered) send({ action: "presence", room: v.room });
    release(v.room, room);
    render();
  }

  // The gateway no longer has what followed `since`: say so, and go on from its latest seq
  // (lower than `since` if the server restarted and its seqs started again).
  function historyLost(name, room, since, latest) {
    room.lost = true;
    const held = [...room.held.keys()].sort((a, b) => a - b);
    for (const seq of held) show(room.held.get(seq)); // arrived on this connection: in order
    room.held.clear();
    endGap(room);
    room.last = held.length > 0 ? Math.max(latest, held[held.length - 1]) : latest;
    const what = since === null || latest > since
      ? `${numbers((since ?? 0) + 1, latest)} may be missing here`
      : `its seqs started again (a restarted server?), now at ${latest}`;
    addNotice("error", `History unavailable for #${name}, reload it from your app if you ` +
      `need it: ${what}. Continuing from seq ${room.last}.`);
  }

  function onLeft(name) {
    const room = state.rooms.get(name);
    if (room) endGap(room);
    state.rooms.delete(name);
    render();
  }

  const numbers = (first, last) =>
    first === last ? `Message ${first}` : `Messages ${first}–${last}`;

  // ---- presence ----

  function onPresence(v) {
    const room = state.rooms.get(v.room);
    if (!room) return;
    if (Number.isInteger(v.count) && Array.isArray(v.members)) {
      const members = v.members.filter(isMember).map((m) => [m.connectionId, m.sub]);
      room.presence = { count: v.count, members: new Map(members) };
    } else if (room.presence && isMember(v.member)) {
      // Events change the last answer; before it arrives, the answer will include them.
      const { members } = room.presence;
      const id = v.member.connectionId;
      if (v.event === "join" && !members.has(id)) {
        members.set(id, v.member.sub);
        room.presence.count += 1;
      } else if (v.event === "leave" && (members.has(id) || room.presence.count > members.size)) {
        members.delete(id);
        room.presence.count = Math.max(0, room.presence.count - 1);
      }
    }
    render();
  }

  function presenceText(presence) {
    if (!presence) return "who is here: asking…";
    const names = [...presence.members].map(([id, sub]) => ({
      id, name: sub ?? shortId(id), you: id === state.connectionId,
    }));
    names.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const listed = names.map((n) => (n.you ? `${n.name} (you)` : n.name));
    const more = presence.count - names.length;
    if (more > 0) listed.push(`${more} more`);
    return `${presence.count} here: ${listed.join(", ")}`;
  }

  // ---- sending, joining, leaving ----

  function sendMessage(event) {
    event.preventDefault();
    const text = ui.text.value;
    if (!text || !isOpen()) return;
    const id = newId(); // the envelope carries it back: how the page knows its own echo
    const frame = { action: "sendmessage", data: text, id };
    if (ui.target.value) frame.room = ui.target.value;
    state.pending.set(id, Date.now());
    if (state.pending.size > MAX_PENDING) state.pending.delete(state.pending.keys().next().value);
    send(frame);
    ui.text.value = "";
    ui.text.focus();
  }

  function joinRoom(event) {
    event.preventDefault();
    const name = ui.room.value.trim();
    if (!name || !isOpen()) return;
    ui.room.value = "";
    const known = state.rooms.get(name);
    if (known && known.status !== "joining") return; // in it: a join again would reset its seq
    if (!known) state.rooms.set(name, newRoom()); // listed once "joined"
    send({ action: "join", room: name });
  }

  function leaveRoom(name) {
    if (isOpen()) send({ action: "leave", room: name });
    else onLeft(name); // offline: just forget it, so no rejoin happens
  }

  // ---- rendering ----

  function render() {
    const listed = [...state.rooms].filter(([, room]) => room.status !== "joining");
    ui.rooms.replaceChildren(...listed.map(([name, room]) => roomItem(name, room)));
    ui.noRooms.hidden = listed.length > 0;
    const joined = listed.filter(([, room]) => room.status === "joined").map(([name]) => name);
    if (joined.join("\n") !== state.targets) { // rebuilt only when it changes: it may be open
      state.targets = joined.join("\n");
      const chosen = ui.target.value;
      ui.target.replaceChildren(
        el("option", { value: "", textContent: "Everyone" }),
        ...joined.map((name) => el("option", { value: name, textContent: `Room ${name}` })),
      );
      ui.target.value = joined.includes(chosen) ? chosen : "";
    }
    const open = isOpen();
    for (const button of [...ui.sendForm.elements, ...ui.joinForm.elements]) {
      if (button.tagName === "BUTTON") button.disabled = !open;
    }
    ui.disconnect.disabled = !state.socket && !state.timer;
  }

  function roomItem(name, room) {
    const item = el("li", { className: "room", "data-testid": "room", "data-room": name });
    item.append(el("span", { className: "room-name", textContent: name }));
    if (room.lost) {
      item.append(el("span", {
        className: "warning", textContent: "history unavailable", "data-testid": "room-warning",
        title: "Some messages of this room could not be recovered after a reconnect or a gap",
      }));
    }
    if (room.status !== "joined") {
      item.append(el("span", { className: "hint", textContent: "rejoining…" }));
    } else if (room.gap) {
      const next = `message ${room.last + 1}…`;
      item.append(el("span", {
        className: "hint", "data-testid": "room-gap",
        textContent: room.gap.asked ? `asking for ${next}` : `waiting for ${next}`,
      }));
    }
    const leave = el("button", { type: "button", textContent: "Leave", "data-testid": "leave" });
    leave.setAttribute("aria-label", `Leave ${name}`);
    leave.addEventListener("click", () => leaveRoom(name));
    item.append(leave, el("span", {
      className: "presence", textContent: presenceText(room.presence), "data-testid": "presence",
    }));
    return item;
  }

  function show(envelope) {
    const from = envelope.from;
    const own = from !== null && state.mine.has(from.connectionId);
    const sentAt = own ? state.pending.get(envelope.id) : undefined;
    if (sentAt !== undefined) state.pending.delete(envelope.id);
    const data = envelope.data;
    addEntry({
      own,
      room: envelope.room,
      seq: envelope.seq,
      who: from === null ? "server" : own ? "you" : from.sub ?? shortId(from.connectionId),
      text: typeof data === "string" ? data
        : isObject(data) && typeof data.text === "string" ? data.text : JSON.stringify(data),
      latency: sentAt === undefined ? null : Math.max(0, Date.now() - sentAt),
    });
  }

  function addEntry({ own, room, seq, who, text, latency }) {
    const item = el("li", {
      className: own ? "message own" : "message", "data-testid": "message",
      "data-room": room ?? "", "data-own": String(own), "data-seq": seq ?? "",
    });
    item.append(
      el("time", { textContent: new Date().toLocaleTimeString() }),
      el("span", {
        className: "where", textContent: room ? `#${room}` : "everyone",
        "data-testid": "message-room",
      }),
    );
    if (seq !== null) {
      item.append(el("span", {
        className: "seq", textContent: String(seq), title: "its seq in the room",
        "data-testid": "message-seq",
      }));
    }
    item.append(
      el("span", { className: "who", textContent: who, "data-testid": "message-from" }),
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
    list.append(item);
    while (list.children.length > MAX_ENTRIES) list.firstElementChild.remove();
    if (atBottom) list.scrollTop = list.scrollHeight; // unless the user scrolled up
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
  const isSeq = (v) => Number.isInteger(v) && v >= 0;
  const isMember = (m) => isObject(m) && typeof m.connectionId === "string" &&
    (m.sub === null || typeof m.sub === "string");
  const isEnvelope = (v) => typeof v.id === "string" && (v.from === null || isMember(v.from)) &&
    (v.room === null || typeof v.room === "string") && (v.seq === null || isSeq(v.seq));
  const shortId = (id) => `${id.slice(0, 6)}…`;
  // The gateway's message budget is 10 frames a second in bursts of 20 by default: the page
  // keeps under it (8 a second, bursts of 16), so a reconnect that rejoins many rooms (a join
  // and a presence each) goes out paced instead of being refused with rate_limited.
  const PACE = { rate: 8, burst: 16 };
  const outbox = { queue: [], tokens: PACE.burst, at: Date.now(), timer: null };
  function send(frame) {
    outbox.queue.push(JSON.stringify(frame));
    drain();
  }
  function drain() {
    const now = Date.now();
    outbox.tokens = Math.min(PACE.burst, outbox.tokens + ((now - outbox.at) * PACE.rate) / 1000);
    outbox.at = now;
    while (outbox.queue.length > 0 && outbox.tokens >= 1) {
      if (!isOpen()) {
        outbox.queue.length = 0; // a closed socket: the reconnect sends what it needs again
        return;
      }
      state.socket.send(outbox.queue.shift());
      outbox.tokens -= 1;
    }
    if (outbox.queue.length > 0 && outbox.timer === null) {
      outbox.timer = setTimeout(() => {
        outbox.timer = null;
        drain();
      }, 1000 / PACE.rate);
    }
  }
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
  settingsFromLocation();
  connect();
})();
