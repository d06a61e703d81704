// The console's only door to the server: the Experience Plane's public API (REST and the
// agent WebSocket), with the caller's credential.

const STORE = "symphainy.console";

/** Who is signed in: a user (access token) or an anonymous session (its id). */
export const auth = {
  load() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE)) || null;
    } catch {
      return null;
    }
  },
  save(who) {
    sessionStorage.setItem(STORE, JSON.stringify(who));
  },
  clear() {
    sessionStorage.removeItem(STORE);
  },
};

/** An answer the server refused: its status, code and message (the contract's error body). */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.detail)) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error;
    this.fields = body && body.fields;
  }
}

function headers(json) {
  const h = {};
  if (json) h["content-type"] = "application/json";
  const who = auth.load();
  if (who && who.access_token) h.authorization = `Bearer ${who.access_token}`;
  return h;
}

/** Called when the server no longer accepts the stored credential. */
let onExpired = () => {};
export function whenExpired(fn) {
  onExpired = fn;
}

async function answer(resp) {
  const text = await resp.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text };
  }
  if (resp.status === 401 && auth.load() && auth.load().access_token) onExpired();
  if (!resp.ok) throw new ApiError(resp.status, body);
  return body;
}

export async function get(path) {
  return answer(await fetch(path, { headers: headers(false) }));
}

export async function post(path, body, method = "POST") {
  return answer(
    await fetch(path, {
      method,
      headers: headers(true),
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Submits an intent in a session; the acceptance (`execution_id`, `produces`). */
export function submit(sessionId, intentType, parameters) {
  return post("/api/intent/submit", {
    intent_type: intentType,
    session_id: sessionId,
    parameters: parameters || {},
  });
}

/** Uploads a file with a progress callback (0..1); the acceptance. */
export function upload(sessionId, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("session_id", sessionId);
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/content/upload");
    const h = headers(false);
    if (h.authorization) xhr.setRequestHeader("authorization", h.authorization);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = { message: xhr.responseText };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new ApiError(0, { message: "the upload could not reach the server" }));
    xhr.send(form);
  });
}

function socketUrl(path, params) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}${query(params)}`;
}

/**
 * One session's agent socket: every event of its log (replayed from the start, then live),
 * every conversation; it reconnects and resumes after the last `seq` it saw.
 */
export class SessionSocket {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.events = [];
    this.lastSeq = 0;
    this.listeners = new Set();
    this.state = "connecting";
    this.closed = false;
    this.retry = 500;
    this.open();
  }

  open() {
    const who = auth.load();
    const ws = new WebSocket(
      socketUrl("/api/runtime/agent", {
        session_id: this.sessionId,
        access_token: who && who.access_token,
        after_seq: this.lastSeq,
        conversations: "all",
      }),
    );
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 500;
      this.setState("open");
    };
    ws.onmessage = (m) => {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      if (msg.type === "runtime_event" && typeof msg.seq === "number") {
        if (msg.seq <= this.lastSeq) return;
        this.lastSeq = msg.seq;
        this.events.push(msg);
        // A long session's history stays bounded in the page.
        if (this.events.length > 5000) this.events.splice(0, this.events.length - 5000);
      }
      for (const l of this.listeners) l(msg);
    };
    ws.onclose = (e) => {
      if (this.closed) return;
      // Refused (policy): do not retry; otherwise reconnect and resume.
      if (e.code === 1008) {
        this.setState("refused");
        const who = auth.load();
        if (who && who.access_token) onExpired();
        return;
      }
      this.setState("reconnecting");
      setTimeout(() => !this.closed && this.open(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
  }

  setState(s) {
    this.state = s;
    for (const l of this.listeners) l({ type: "socket_state", state: s });
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  listen(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close() {
    this.closed = true;
    if (this.ws) closeSoftly(this.ws, "console closed");
  }
}

/** Closes a socket without the browser's complaint about one closed while connecting. */
function closeSoftly(ws, reason) {
  if (ws.readyState === WebSocket.CONNECTING) {
    ws.onopen = () => ws.close(1000, reason);
  } else if (ws.readyState === WebSocket.OPEN) {
    ws.close(1000, reason);
  }
}

/** Follows one execution's status over its status socket; returns a function that stops it. */
export function followStatus(executionId, onStatus, onEnd) {
  const who = auth.load();
  const ws = new WebSocket(
    socketUrl(`/api/execution/${encodeURIComponent(executionId)}/stream`, {
      access_token: who && who.access_token,
    }),
  );
  let stopped = false;
  ws.onmessage = (m) => {
    let status;
    try {
      status = JSON.parse(m.data);
    } catch {
      return; // not a status
    }
    onStatus(status);
  };
  ws.onclose = () => {
    if (!stopped && onEnd) onEnd();
  };
  return () => {
    stopped = true;
    closeSoftly(ws, "left the page");
  };
}
