// The dock's HTTP API (docs/api.md): fetch with the session token, errors
// as ApiError carrying the server's {"error": {"code", "message"}}, and the
// two upload paths (multipart with progress, and the resumable chunked one).

const BASE = '/api/v1';
const TOKEN_KEY = 'learnware.token';
const USER_KEY = 'learnware.user';

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'error';
    this.body = body;
  }
}

// ---- session -------------------------------------------------------------

export function token() {
  return localStorage.getItem(TOKEN_KEY);
}

export function currentUser() {
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) || 'null');
  } catch {
    return null;
  }
}

export function setSession(tok, user) {
  if (tok) localStorage.setItem(TOKEN_KEY, tok);
  if (user) localStorage.setItem(USER_KEY, JSON.stringify(user));
  window.dispatchEvent(new Event('session-changed'));
}

export function clearSession() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(USER_KEY);
  window.dispatchEvent(new Event('session-changed'));
}

export function isAdmin() {
  const u = currentUser();
  return Boolean(u && u.role === 'admin');
}

// ---- requests --------------------------------------------------------------

function authHeaders() {
  const t = token();
  return t ? {Authorization: `Bearer ${t}`} : {};
}

async function errorFrom(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON: a proxy's page or an empty body */
  }
  const e = body && body.error;
  let message = e && e.message ? e.message : `${res.status} ${res.statusText || 'error'}`;
  const retry = res.headers.get('Retry-After');
  if (res.status === 429 && retry) message += ` (try again in ${retry} s)`;
  return new ApiError(res.status, e && e.code, message, body);
}

// api('GET', '/learnwares', {query: {page: 2}}); api('POST', '/auth/login', {body: {...}});
// api('POST', '/search', {form: formData}).  Answers the parsed JSON, or null for 204.
export async function api(method, path, opts = {}) {
  let url = BASE + path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const headers = {...authHeaders(), Accept: 'application/json'};
  let body;
  if (opts.form) {
    body = opts.form;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(url, {method, headers, body});
  } catch (err) {
    throw new ApiError(0, 'network', `cannot reach the dock: ${err.message}`);
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    // A session that expired or was revoked: forget it, so the UI shows the
    // user as logged out.  (A wrong old password also answers 401; callers
    // that expect that pass keepSession.)
    if (res.status === 401 && headers.Authorization && !opts.keepSession) clearSession();
    throw err;
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : res.text();
}

// A file from the API as a Blob (for downloads needing the token).
export async function fetchBlob(path) {
  const res = await fetch(BASE + path, {headers: authHeaders()});
  if (!res.ok) throw await errorFrom(res);
  return res.blob();
}

// ---- uploads ---------------------------------------------------------------

// multipart POST/PUT with upload progress: onProgress(sentBytes, totalBytes).
export function uploadMultipart(method, path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, BASE + path);
    const t = token();
    if (t) xhr.setRequestHeader('Authorization', `Bearer ${t}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (ev) => {
      if (onProgress && ev.lengthComputable) onProgress(ev.loaded, ev.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload was interrupted (network error)'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'the upload was cancelled'));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* empty or not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
      } else {
        const e = body && body.error;
        if (xhr.status === 401 && t) clearSession();
        reject(new ApiError(xhr.status, e && e.code, e && e.message ? e.message : `${xhr.status} ${xhr.statusText}`, body));
      }
    };
    xhr.send(form);
  });
}

async function sha256Hex(file) {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

// Whether this page may use the resumable upload: it needs the SHA-256 of
// the file, which browsers compute only in a secure context (https or
// localhost).
export function canResume() {
  return Boolean(window.crypto && window.crypto.subtle);
}

export const CHUNK_BYTES = 4 * 1024 * 1024;

// The resumable upload (POST /uploads, PUT chunks with Upload-Offset,
// POST /uploads/{id}/finish).  A failed chunk is retried from the offset
// the server reports.  Answers what finish answers: {"learnware": ...}.
export async function uploadResumable(file, semantic, onProgress, onPhase) {
  if (onPhase) onPhase('hashing');
  const sha256 = await sha256Hex(file);
  const up = await api('POST', '/uploads', {body: {size: file.size, sha256}});
  let offset = up.offset || 0;
  let failures = 0;
  if (onPhase) onPhase('uploading');
  while (offset < file.size) {
    const chunk = file.slice(offset, Math.min(file.size, offset + CHUNK_BYTES));
    let res;
    try {
      res = await fetch(`${BASE}/uploads/${encodeURIComponent(up.id)}`, {
        method: 'PUT',
        headers: {...authHeaders(), 'Content-Type': 'application/octet-stream', 'Upload-Offset': String(offset)},
        body: chunk,
      });
    } catch (err) {
      res = null;
    }
    if (res && res.ok) {
      const body = await res.json();
      offset = body.offset;
      failures = 0;
      if (onProgress) onProgress(offset, file.size);
      continue;
    }
    if (res && res.status !== 409 && res.status < 500) throw await errorFrom(res);
    // 409 (offset mismatch), 5xx or a dropped connection: ask where to resume.
    failures += 1;
    if (failures > 5) throw res ? await errorFrom(res) : new ApiError(0, 'network', 'the upload keeps failing; try again later');
    await new Promise((r) => setTimeout(r, 500 * failures));
    const state = await api('GET', `/uploads/${encodeURIComponent(up.id)}`);
    offset = state.offset;
  }
  if (onPhase) onPhase('finishing');
  return api('POST', `/uploads/${encodeURIComponent(up.id)}/finish`, {body: semantic ? {semantic} : {}});
}

// ---- the taxonomy, fetched once --------------------------------------------

let taxonomyPromise = null;

// The taxonomy as {keys: {Key: {Type, Values?, Default?}}, features: {...}}.
export function taxonomy() {
  if (!taxonomyPromise) {
    taxonomyPromise = api('GET', '/taxonomy').then((t) => {
      if (t && t.keys) return t;
      return {keys: t || {}, features: {}};
    }).catch((err) => {
      taxonomyPromise = null;
      throw err;
    });
  }
  return taxonomyPromise;
}
