// Submit a learnware: the semantic specification as a form, the zip, an
// upload with a progress bar (multipart, or the resumable chunked upload
// for files over 8 MB), then the verification until it ends.
import {h, field, messageBox, formatSize, statusBadge, verdictBadge} from '../dom.js';
import {api, taxonomy, uploadMultipart, uploadResumable, canResume} from '../api.js';
import {semanticEditor} from '../semantic.js';

// Files over this many bytes go through the resumable upload.  The
// localStorage key "learnware.resumableOver" changes it (the browser tests
// set it to 1 to drive that path with a small package).
function resumableOver() {
  const n = Number(localStorage.getItem('learnware.resumableOver'));
  return Number.isFinite(n) && n > 0 ? n : 8 * 1024 * 1024;
}
const FINAL = new Set(['success', 'failed']);

export default async function submitPage(main, ctx) {
  const tax = await taxonomy();
  const editor = semanticEditor(tax, {});
  const fromPackage = h('input', {type: 'checkbox', id: 'from-package'});
  const file = h('input', {type: 'file', accept: '.zip,application/zip', required: true});
  const msg = messageBox();
  const progress = h('progress', {max: 100, value: 0, 'aria-label': 'Upload progress'});
  const progressText = h('span', {class: 'progress-text'});
  const progressBox = h('div', {class: 'progress-box', hidden: true}, progress, progressText);
  const submit = h('button', {type: 'submit'}, 'Upload');
  const statusArea = h('section', {class: 'card status-area', hidden: true, 'aria-live': 'polite'});

  fromPackage.addEventListener('change', () => {
    editor.hidden = fromPackage.checked;
  });

  const form = h('form', {class: 'card submit-form', novalidate: true},
    field('Learnware package (zip)', file, 'learnware pack writes one: the model, learnware.yaml and the specifications'),
    h('label', {class: 'check', for: 'from-package'}, fromPackage, ' Use the semantic specification inside the package'),
    editor,
    msg,
    progressBox,
    h('div', {class: 'actions'}, submit));
  main.append(h('h1', {}, 'Submit a learnware'), form, statusArea);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.clear();
    const zip = file.files[0];
    if (!zip) {
      msg.show('Choose the learnware zip to upload.');
      return;
    }
    let semantic = null;
    if (!fromPackage.checked) {
      semantic = editor.read();
      const problems = editor.problems(semantic);
      if (problems.length) {
        msg.show(`Please fix: ${problems.join('; ')}`);
        return;
      }
    }
    submit.disabled = true;
    progressBox.hidden = false;
    const onProgress = (sent, total) => {
      const pct = total ? Math.round((sent / total) * 100) : 0;
      progress.value = pct;
      progressText.textContent = `${pct}% (${formatSize(sent)} of ${formatSize(total)})`;
    };
    onProgress(0, zip.size);
    let answer;
    try {
      if (zip.size > resumableOver() && canResume()) {
        answer = await uploadResumable(zip, semantic, onProgress, (phase) => {
          if (phase === 'hashing') progressText.textContent = 'computing the checksum…';
          if (phase === 'finishing') progressText.textContent = 'checking the package…';
        });
      } else {
        const data = new FormData();
        data.append('file', zip, zip.name);
        if (semantic) data.append('semantic', JSON.stringify(semantic));
        answer = await uploadMultipart('POST', '/learnwares', data, onProgress);
      }
    } catch (err) {
      msg.show(`Upload failed: ${err.message}`);
      submit.disabled = false;
      return;
    }
    onProgress(zip.size, zip.size);
    progressText.textContent = 'uploaded';
    const lw = answer && answer.learnware;
    if (!lw) {
      msg.show('The dock answered without a learnware.');
      submit.disabled = false;
      return;
    }
    form.hidden = true;
    watch(lw, statusArea, ctx);
  });
}

// Poll the verification until success or failed.
function watch(lw, area, ctx) {
  const status = h('p', {class: 'verify-status'}, 'Status ', statusBadge(lw.status));
  const log = h('pre', {class: 'log', 'aria-label': 'Verification log'});
  area.replaceChildren(
    h('h2', {}, 'Uploaded: ', h('a', {href: `#/learnware/${encodeURIComponent(lw.id)}`}, lw.name || lw.id)),
    h('p', {class: 'muted'}, `Learnware ${lw.id}. The dock now checks it (its model runs in a sandbox).`),
    status, log,
    h('p', {}, h('a', {href: '#/mine'}, 'My learnwares'), ' · ',
      h('a', {href: '#/submit', onclick: (ev) => {
        ev.preventDefault();
        ctx.go('/submit');
      }}, 'Submit another')));
  area.hidden = false;
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));
  const poll = async () => {
    try {
      const v = await api('GET', `/learnwares/${encodeURIComponent(lw.id)}/verification`);
      if (!ctx.alive()) return;
      status.replaceChildren('Status ', statusBadge(v.status), ' verdict ', verdictBadge(v.verdict));
      log.textContent = v.log || '';
      if (!FINAL.has(v.status)) timer = setTimeout(poll, 1000);
    } catch (err) {
      status.textContent = `Cannot read the verification: ${err.message}`;
      if (ctx.alive()) timer = setTimeout(poll, 3000);
    }
  };
  poll();
}
