// A small, safe Markdown renderer: text in, DOM nodes out.
//
// Safety comes from construction rather than from cleaning: the source is
// never parsed as HTML.  Every run of text becomes a text node (so "<", "&"
// and friends are shown as typed: "all HTML escaped"), and the only
// elements made are the fixed set below.  A link is made only for an
// absolute http: or https: URL; any other target (javascript:, data:,
// relative paths) leaves its label as plain text.
//
// Blocks: # headings (shown one level down, under the page's own title),
// paragraphs, "-", "*", "+" and "1." lists, > quotes, ``` fenced code,
// --- rules.  Inline: `code`, **strong** / __strong__, *em* / _em_,
// [label](http://...), <http://...> and bare http(s) URLs.

export function renderMarkdown(source) {
  const frag = document.createDocumentFragment();
  const lines = String(source ?? '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*$/.test(line)) {
      i += 1;
      continue;
    }
    const fence = line.match(/^\s*(```+|~~~+)\s*([\w+-]*)\s*$/);
    if (fence) {
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i += 1; // the closing fence (or the end)
      const code = el('code', body.join('\n'));
      if (fence[2]) code.className = `language-${fence[2]}`;
      frag.appendChild(el('pre', code));
      continue;
    }
    const heading = line.match(/^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/);
    if (heading) {
      const level = Math.min(6, heading[1].length + 1);
      frag.appendChild(el(`h${level}`, ...inline(heading[2])));
      i += 1;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      frag.appendChild(document.createElement('hr'));
      i += 1;
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      const body = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i])) body.push(lines[i++].replace(/^\s{0,3}>\s?/, ''));
      frag.appendChild(el('blockquote', renderMarkdown(body.join('\n'))));
      continue;
    }
    const item = listItem(line);
    if (item) {
      const list = document.createElement(item.ordered ? 'ol' : 'ul');
      if (item.ordered && item.start !== 1) list.start = item.start;
      let current = null;
      while (i < lines.length) {
        const it = listItem(lines[i]);
        if (it && it.ordered === item.ordered) {
          current = {text: [it.text]};
          list.appendChild(current.li = document.createElement('li'));
          current.li.append(...inline(it.text));
          i += 1;
        } else if (current && /^\s{2,}\S/.test(lines[i]) && !listItem(lines[i])) {
          // a continuation line of the item
          current.li.append(' ', ...inline(lines[i].trim()));
          i += 1;
        } else {
          break;
        }
      }
      frag.appendChild(list);
      continue;
    }
    // A paragraph: lines up to a blank line or the start of another block.
    const body = [];
    while (i < lines.length && !/^\s*$/.test(lines[i]) && !startsBlock(lines[i])) body.push(lines[i++].trim());
    frag.appendChild(el('p', ...inline(body.join(' '))));
  }
  return frag;
}

// The text of a Markdown source without its markup, blocks and list items
// separated by spaces (for one-line summaries).
export function markdownText(source) {
  const parts = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeName === 'UL' || child.nodeName === 'OL' || child.nodeName === 'BLOCKQUOTE') walk(child);
      else parts.push(child.textContent.trim());
    }
  };
  walk(renderMarkdown(source));
  return parts.filter(Boolean).join(' ');
}

function listItem(line) {
  let m = line.match(/^\s{0,3}[-*+]\s+(.*)$/);
  if (m) return {ordered: false, text: m[1]};
  m = line.match(/^\s{0,3}(\d{1,9})[.)]\s+(.*)$/);
  if (m) return {ordered: true, start: Number(m[1]), text: m[2]};
  return null;
}

function startsBlock(line) {
  return /^\s*(```|~~~)/.test(line) || /^\s{0,3}#{1,6}\s/.test(line) || /^\s{0,3}>/.test(line) ||
    listItem(line) !== null || /^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line);
}

function el(tag, ...children) {
  const e = document.createElement(tag);
  for (const c of children) e.append(c); // strings become text nodes
  return e;
}

// Inline spans, earliest match first; unmatched text stays text.
const INLINE = new RegExp([
  '(`+)([\\s\\S]*?[^`])\\1(?!`)', // 1,2: code span
  '\\[([^\\]]*)\\]\\(\\s*<?([^()\\s<>]*)>?(?:\\s+"[^"]*")?\\s*\\)', // 3,4: link
  '\\*\\*(?=\\S)([\\s\\S]*?\\S)\\*\\*', // 5: strong
  '(?<![\\w])__(?=\\S)([\\s\\S]*?\\S)__(?![\\w])', // 6: strong
  '\\*(?=[^\\s*])([\\s\\S]*?[^\\s*])\\*', // 7: em
  '(?<![\\w])_(?=[^\\s_])([\\s\\S]*?[^\\s_])_(?![\\w])', // 8: em
  '(https?:\\/\\/[^\\s<>()\\[\\]"\']*[^\\s<>()\\[\\]"\'.,;:!?])', // 9: bare URL
  '<(https?:\\/\\/[^\\s<>]+)>', // 10: <URL>
].join('|'));

export function inline(text) {
  const out = [];
  let rest = String(text);
  while (rest.length) {
    const m = INLINE.exec(rest);
    if (!m) {
      out.push(rest);
      break;
    }
    if (m.index > 0) out.push(rest.slice(0, m.index));
    if (m[1] !== undefined) out.push(el('code', m[2].replace(/^ (.*) $/, '$1')));
    else if (m[3] !== undefined) out.push(link(m[4], inline(m[3])));
    else if (m[5] !== undefined) out.push(el('strong', ...inline(m[5])));
    else if (m[6] !== undefined) out.push(el('strong', ...inline(m[6])));
    else if (m[7] !== undefined) out.push(el('em', ...inline(m[7])));
    else if (m[8] !== undefined) out.push(el('em', ...inline(m[8])));
    else if (m[9] !== undefined) out.push(link(m[9], [m[9]]));
    else out.push(link(m[10], [m[10]]));
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

// An <a> for http(s) URLs only; anything else is its label as plain text.
export function isSafeUrl(url) {
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return false;
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && /^https?:\/\//i.test(url);
  } catch {
    return false;
  }
}

function link(url, label) {
  if (!isSafeUrl(url)) {
    const span = document.createElement('span');
    span.append(...label);
    return span;
  }
  const a = el('a', ...label);
  a.href = url;
  a.rel = 'nofollow noopener noreferrer';
  a.target = '_blank';
  return a;
}
