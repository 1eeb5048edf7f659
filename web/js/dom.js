// DOM helpers.  Every piece of data reaches the page as a text node or an
// attribute value set with setAttribute: nothing here parses HTML, so a
// name such as "<img src=x onerror=...>" is shown as those characters.

// h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [more])
export function h(tag, attrs, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'value' && 'value' in el) {
      el.value = String(value);
    } else if (key === 'checked' || key === 'selected' || key === 'disabled') {
      el[key] = Boolean(value);
    } else if (key === 'style' && typeof value === 'object') {
      Object.assign(el.style, value); // CSSOM: allowed under the page's CSP
    } else if (key === 'href' && !safeHref(String(value))) {
      continue;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

// Links the UI makes: in-app routes, the API, and http(s) URLs.
export function safeHref(href) {
  return /^(#|\/(?!\/)|https?:\/\/)/i.test(href);
}

export function svg(tag, attrs, ...children) {
  return h('svg:' + tag, attrs, ...children);
}

let uid = 0;
export function newId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled form field: <div class="field"><label for=ID>Label</label><input id=ID></div>
export function field(label, control, hint) {
  if (!control.id) control.id = newId('f');
  return h('div', {class: 'field'},
    h('label', {for: control.id}, label),
    control,
    hint ? h('small', {class: 'hint'}, hint) : null);
}

// An area for errors and notices, announced to screen readers.
export function messageBox() {
  const box = h('div', {class: 'message', role: 'alert', hidden: true});
  box.show = (text, kind = 'error') => {
    box.className = `message ${kind}`;
    box.textContent = text;
    box.hidden = false;
  };
  box.clear = () => {
    box.textContent = '';
    box.hidden = true;
  };
  return box;
}

export function formatTime(ms) {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return '–';
  return d.toLocaleString();
}

export function formatSize(bytes) {
  if (typeof bytes !== 'number') return '–';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatNumber(x, digits = 4) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '–';
  return Number(x.toPrecision(digits)).toString();
}

export function statusBadge(status) {
  const s = String(status || 'unknown');
  return h('span', {class: `badge status-${s.replace(/[^a-z]/g, '')}`}, s);
}

export function verdictBadge(verdict) {
  const v = String(verdict || 'unchecked');
  return h('span', {class: `badge verdict-${v.replace(/[^a-z]/g, '')}`}, v);
}

// Previous / next buttons for a paged list answer {total, page, limit}.
export function pager(answer, go) {
  const pages = Math.max(1, Math.ceil((answer.total || 0) / (answer.limit || 20)));
  const page = answer.page || 1;
  return h('nav', {class: 'pager', 'aria-label': 'Pages', hidden: pages <= 1 && page <= 1},
    h('button', {type: 'button', class: 'secondary', disabled: page <= 1, onclick: () => go(page - 1)}, '← Previous'),
    h('span', {class: 'pager-info'}, `Page ${page} of ${pages} (${answer.total || 0} in all)`),
    h('button', {type: 'button', class: 'secondary', disabled: page >= pages, onclick: () => go(page + 1)}, 'Next →'));
}
