// A learnware: its tags, description (Markdown), features, a picture of its
// RKME, the verification, download, and for its owner or an admin, edit
// and delete.
import {h, messageBox, formatTime, formatSize, statusBadge, verdictBadge} from '../dom.js';
import {api, currentUser, fetchBlob, taxonomy} from '../api.js';
import {renderMarkdown} from '../markdown.js';
import {semanticEditor, tagList, tagKeys, featureTable, textOf} from '../semantic.js';
import {specScatter} from '../charts.js';

const PENDING = new Set(['waiting', 'queued', 'processing']);

export default async function detailPage(main, ctx) {
  const id = ctx.params[0];
  const [tax, lw] = await Promise.all([taxonomy(), api('GET', `/learnwares/${encodeURIComponent(id)}`)]);
  if (!ctx.alive()) return;
  const user = currentUser();
  const mayEdit = Boolean(user && (user.role === 'admin' || (lw.owner && lw.owner.id === user.id)));
  const sem = lw.semantic || {};
  const msg = messageBox();
  document.title = `${lw.name || id} · learnware dock`;

  const downloadBtn = h('button', {type: 'button', onclick: () => download(lw, msg)}, 'Download');
  const actions = h('div', {class: 'actions'}, downloadBtn);
  const editArea = h('div', {class: 'edit-area'});
  if (mayEdit) {
    actions.append(
      h('button', {type: 'button', class: 'secondary', onclick: () => edit(tax, lw, editArea, msg, ctx)}, 'Edit semantic'),
      h('button', {type: 'button', class: 'danger', onclick: () => remove(lw, msg, ctx)}, 'Delete'));
  }

  const specArea = h('section', {class: 'card spec', 'aria-label': 'Specification'}, h('h2', {}, 'Statistical specification'));
  const verifyArea = h('section', {class: 'card verification', 'aria-label': 'Verification'}, h('h2', {}, 'Verification'));

  main.append(
    h('p', {class: 'crumbs'}, h('a', {href: '#/'}, '← Search')),
    h('div', {class: 'title-row'}, h('h1', {class: 'lw-name'}, lw.name || textOf(sem, 'Name') || id), actions),
    msg,
    editArea,
    h('div', {class: 'detail-grid'},
      h('div', {class: 'detail-main'},
        tagList(sem, tagKeys(tax)),
        h('section', {class: 'card description', 'aria-label': 'Description'},
          h('h2', {}, 'Description'),
          h('div', {class: 'markdown'}, renderMarkdown(textOf(sem, 'Description')))),
        h('section', {class: 'card'}, h('h2', {}, 'Features'),
          featureTable('Input', sem.Input) || h('p', {class: 'muted'}, 'No input block.'),
          featureTable('Output', sem.Output) || h('p', {class: 'muted'}, 'No output block.')),
        specArea),
      h('aside', {class: 'detail-side'},
        h('section', {class: 'card'}, h('h2', {}, 'About'), facts(lw)),
        verifyArea)));

  showSpec(lw, specArea);
  if (mayEdit) showVerification(lw, verifyArea, ctx);
  else verifyArea.append(h('p', {}, 'Status ', statusBadge(lw.status), ' verdict ', verdictBadge(lw.verdict)));
}

function facts(lw) {
  const row = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
  return h('dl', {class: 'facts'},
    row('Id', lw.id),
    row('Owner', lw.owner ? lw.owner.name || `user ${lw.owner.id}` : '–'),
    row('Status', statusBadge(lw.status)),
    row('Verdict', verdictBadge(lw.verdict)),
    row('Size', formatSize(lw.size)),
    row('SHA-256', h('code', {class: 'hash', title: lw.sha256 || ''}, lw.sha256 ? `${String(lw.sha256).slice(0, 16)}…` : '–')),
    row('Specifications', (lw.specs || []).map((s) => `${s.type}${s.dim !== undefined ? ` (${s.dim} dimensions)` : ''}`).join(', ') || '–'),
    row('Created', formatTime(lw.created)),
    row('Updated', formatTime(lw.updated)));
}

async function showSpec(lw, area) {
  const types = (lw.specs || []).map((s) => s.type);
  const type = types.includes('RKMETableSpecification') ? 'RKMETableSpecification' : types[0];
  if (!type) {
    area.append(h('p', {class: 'muted'}, 'This learnware has no statistical specification.'));
    return;
  }
  try {
    const spec = await api('GET', `/learnwares/${encodeURIComponent(lw.id)}/specs/${encodeURIComponent(type)}`);
    if (Array.isArray(spec.z) && spec.z.length) area.append(specScatter(spec));
    else area.append(h('p', {class: 'muted'}, `A ${type}; no picture for this kind.`));
  } catch (err) {
    area.append(h('p', {class: 'message error'}, `Cannot load the specification: ${err.message}`));
  }
}

async function showVerification(lw, area, ctx) {
  const status = h('p', {class: 'verify-status'});
  const log = h('pre', {class: 'log', 'aria-label': 'Verification log'});
  const job = h('p', {class: 'muted small'});
  area.append(status, job, log);
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));
  const poll = async () => {
    let v;
    try {
      v = await api('GET', `/learnwares/${encodeURIComponent(lw.id)}/verification`);
    } catch (err) {
      status.textContent = `Cannot read the verification: ${err.message}`;
      return;
    }
    if (!ctx.alive()) return;
    status.replaceChildren('Status ', statusBadge(v.status), ' verdict ', verdictBadge(v.verdict));
    log.textContent = v.log || '(no log yet)';
    const j = v.job;
    job.textContent = j ? `Job ${j.state}, attempt ${j.attempts}${j.worker ? ` on ${j.worker}` : ''}; ` +
      `queued ${formatTime(j.created)}${j.started ? `, started ${formatTime(j.started)}` : ''}` +
      `${j.finished ? `, finished ${formatTime(j.finished)}` : ''}` : '';
    if (PENDING.has(v.status)) timer = setTimeout(poll, 1500);
  };
  poll();
}

async function download(lw, msg) {
  msg.clear();
  try {
    const blob = await fetchBlob(`/learnwares/${encodeURIComponent(lw.id)}/file`);
    const url = URL.createObjectURL(blob);
    const a = h('a', {href: '#', download: `learnware-${lw.id}.zip`, hidden: true});
    a.href = url; // a blob: URL, set directly (h() allows only http(s) and in-app links)
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (err) {
    msg.show(`Download failed: ${err.message}`);
  }
}

function edit(tax, lw, area, msg, ctx) {
  if (area.firstChild) {
    area.replaceChildren();
    return;
  }
  const editor = semanticEditor(tax, lw.semantic || {});
  const problemsBox = messageBox();
  const form = h('form', {class: 'card', 'aria-label': 'Edit semantic specification'},
    h('h2', {}, 'Edit the semantic specification'),
    h('p', {class: 'muted'}, 'Only the description changes: the package, its status and verdict stay.'),
    editor, problemsBox,
    h('div', {class: 'actions'},
      h('button', {type: 'submit'}, 'Save'),
      h('button', {type: 'button', class: 'secondary', onclick: () => area.replaceChildren()}, 'Cancel')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const spec = editor.read();
    const problems = editor.problems(spec);
    if (problems.length) {
      problemsBox.show(problems.join('\n'));
      return;
    }
    try {
      await api('PATCH', `/learnwares/${encodeURIComponent(lw.id)}`, {body: {semantic: spec}});
      ctx.go(`/learnware/${lw.id}`);
    } catch (err) {
      problemsBox.show(err.message);
    }
  });
  area.replaceChildren(form);
  msg.clear();
}

async function remove(lw, msg, ctx) {
  if (!window.confirm(`Delete learnware ${lw.id} (${lw.name || ''})? This cannot be undone.`)) return;
  try {
    await api('DELETE', `/learnwares/${encodeURIComponent(lw.id)}`);
    ctx.go('/mine');
  } catch (err) {
    msg.show(err.message);
  }
}
