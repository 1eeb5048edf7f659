// Search: text, tag filters, an optional RKME file (table, text or image)
// with optional column descriptions; ranked results with scores, the
// recommended mixture with its weights, learnwares of other feature spaces
// (the dock's heterogeneous map), paging.
import {h, field, messageBox, pager, formatNumber, newId} from '../dom.js';
import {api, taxonomy} from '../api.js';
import {searchFilters, tagList, tagKeys} from '../semantic.js';
import {weightBars} from '../charts.js';
import {markdownText} from '../markdown.js';

const LIMIT = 10;
// The last search (text, filters, RKME file, column descriptions, page),
// kept while the user opens a result and comes back.
let last = null;

// What an RKME file's JSON "type" says it is.
const KINDS = {
  RKMETableSpecification: 'table',
  RKMETextSpecification: 'text',
  RKMEImageSpecification: 'image',
};
// Each chosen File is read once: {kind, dim} or {error}.
const specInfo = new WeakMap();

function inspect(file) {
  if (!specInfo.has(file)) {
    specInfo.set(file, file.text().then(parseSpec, () => ({error: 'the file cannot be read'})));
  }
  return specInfo.get(file);
}

function parseSpec(text) {
  let j;
  try {
    j = JSON.parse(text);
  } catch {
    return {error: 'the file is not JSON'};
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) return {error: 'the file is not an RKME specification'};
  const type = typeof j.type === 'string' ? j.type : '';
  // No "type": a table specification, as the dock reads it.
  const kind = type ? KINDS[type] || null : 'table';
  const dim = Array.isArray(j.z) && Array.isArray(j.z[0]) ? j.z[0].length : null;
  return {kind, type, dim};
}

export default async function searchPage(main, ctx) {
  const tax = await taxonomy();
  const text = h('input', {type: 'search', placeholder: 'e.g. diamond price', autocomplete: 'off', value: last ? last.text : ''});
  const filters = searchFilters(tax, last ? last.filters : {});
  const rkme = h('input', {type: 'file', accept: '.json,application/json'});
  // A file input cannot be refilled: the last search's File is kept here.
  let keptFile = last ? last.file : null;
  const kept = h('p', {class: 'hint kept', hidden: !keptFile});
  // Column descriptions: for a table specification, they let the dock also
  // search learnwares of other feature spaces (its heterogeneous map).
  const describe = h('textarea', {rows: 4, spellcheck: 'false',
    placeholder: 'age of the customer\nyearly income in euros\n…', value: last ? last.describe : ''});
  const describeHint = h('small', {class: 'hint', id: newId('hint')});
  describe.setAttribute('aria-describedby', describeHint.id);
  const describeMsg = messageBox();
  const describeBox = h('div', {class: 'describe-columns', hidden: true},
    field('Describe your columns', describe));
  describeBox.firstChild.append(describeHint, describeMsg);
  const chosenFile = () => rkme.files[0] || keptFile;
  const showDescribe = async () => {
    const file = chosenFile();
    describeMsg.clear();
    describeBox.hidden = !file;
    if (!file) return;
    const info = await inspect(file);
    if (file !== chosenFile() || !ctx.alive()) return;
    const table = info.kind === 'table' && info.dim > 0;
    describe.disabled = !table;
    describeHint.textContent = table
      ? `Optional: one description per line, in column order (“${file.name}” has ${info.dim} ` +
        `${info.dim === 1 ? 'column' : 'columns'}; a blank line leaves one undescribed). ` +
        'The dock then also looks for learnwares trained on tables with other columns.'
      : info.error ? `Cannot read “${file.name}”: ${info.error}.`
        : 'Column descriptions apply to table specifications only.';
  };
  const showKept = () => {
    kept.hidden = !keptFile;
    if (keptFile) {
      kept.replaceChildren(`Using “${keptFile.name}” from your last search. `,
        h('button', {type: 'button', class: 'link-button', onclick: () => {
          keptFile = null;
          showKept();
          showDescribe();
        }}, 'Forget it'));
    }
  };
  showKept();
  showDescribe();
  rkme.addEventListener('change', () => {
    keptFile = null;
    showKept();
    showDescribe();
  });
  const msg = messageBox();
  const results = h('section', {class: 'results', 'aria-live': 'polite'});
  const form = h('form', {class: 'card search-form', role: 'search'},
    h('div', {class: 'row'},
      h('div', {class: 'grow'}, field('Name or description', text)),
      h('div', {}, field('RKME specification (JSON)', rkme,
        'the statistical summary of your data: learnware spec table, text or image'), kept)),
    describeBox,
    filters,
    h('div', {class: 'actions'},
      h('button', {type: 'submit'}, 'Search'),
      h('button', {type: 'reset', class: 'secondary'}, 'Clear')));
  main.append(h('h1', {}, 'Search learnwares'), form, msg, results);

  // semantic.Input from the descriptions, null when there are none, or
  // a sentence saying what is wrong with them.
  async function columnInput(file) {
    if (!file || describe.disabled || !describe.value.trim()) return {input: null};
    const info = await inspect(file);
    if (info.kind !== 'table' || !(info.dim > 0)) {
      return {error: `Column descriptions need a table specification, and “${file.name}” is ` +
        `${info.error ? `unreadable: ${info.error}` : `a ${info.kind || info.type || 'specification of unknown type'}`}.`};
    }
    const lines = describe.value.replace(/\s+$/, '').split(/\r?\n/);
    if (lines.length !== info.dim) {
      return {error: `You described ${lines.length} ${lines.length === 1 ? 'column' : 'columns'}, but “${file.name}” ` +
        `has ${info.dim}: give one line per column, in order (a blank line for a column you leave undescribed).`};
    }
    const Description = {};
    lines.forEach((line, i) => {
      if (line.trim()) Description[String(i)] = line.trim();
    });
    return {input: {Dimension: info.dim, Description}};
  }

  async function run(page) {
    msg.clear();
    describeMsg.clear();
    const chosen = filters.read();
    const semantic = {...chosen};
    if (text.value.trim()) semantic.Name = {Type: 'String', Values: text.value.trim()};
    const file = chosenFile();
    const columns = await columnInput(file);
    if (!ctx.alive()) return;
    if (columns.error) {
      describeMsg.show(columns.error);
      describe.focus();
      return;
    }
    if (columns.input) semantic.Input = columns.input;
    const info = file ? await inspect(file) : null;
    let answer;
    results.setAttribute('aria-busy', 'true');
    try {
      if (file) {
        const data = new FormData();
        data.append('semantic', JSON.stringify(semantic));
        data.append('rkme', file, file.name);
        data.append('page', String(page));
        data.append('limit', String(LIMIT));
        answer = await api('POST', '/search', {form: data});
      } else {
        answer = await api('POST', '/search', {body: {semantic, page, limit: LIMIT}});
      }
    } catch (err) {
      if (!ctx.alive()) return;
      msg.show(err.message);
      results.replaceChildren();
      return;
    } finally {
      results.removeAttribute('aria-busy');
    }
    if (!ctx.alive()) return;
    last = {text: text.value, filters: chosen, file, describe: describe.value, page};
    show(answer, tax, results, run, {file, kind: info && info.kind, described: Boolean(columns.input)});
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run(1);
  });
  form.addEventListener('reset', () => {
    keptFile = null;
    showKept();
    setTimeout(() => {
      showDescribe();
      run(1);
    }, 0);
  });
  run(last ? last.page : 1);
}

function show(answer, tax, results, run, {file, kind, described}) {
  const items = answer.items || [];
  const keys = tagKeys(tax);
  const statistical = answer.kind === 'statistical';
  const het = answer.heterogeneous && typeof answer.heterogeneous === 'object' ? answer.heterogeneous : null;
  const hetItems = het && Array.isArray(het.items) ? het.items : [];
  const n = (k, one, many) => `${k} ${k === 1 ? one : many}`;
  const spec = `${kind ? `your ${kind} specification` : 'your RKME'}${file ? ` “${file.name}”` : ''}`;
  const summary = statistical
    ? `${n(answer.total, 'learnware', 'learnwares')} ranked by how well their data match ${spec}` +
      (answer.candidates !== undefined && answer.semantic_matches !== undefined
        ? ` (${answer.candidates} compared, of ${answer.semantic_matches} that passed the tag filter)` : '')
    : `${n(answer.total, 'learnware matches', 'learnwares match')}${answer.fuzzy ? ' (closest names: no exact match)' : ''}`;
  const parts = [h('p', {class: 'summary'}, summary)];
  if (statistical) parts.push(mixtureView(answer.mixture, 'Recommended combination', 'h2'));
  if (!items.length) {
    parts.push(h('p', {class: 'empty'}, statistical && answer.total === 0
      ? `No learnware matches your data (none has its ${kind && kind !== 'table' ? 'kind of data' : 'dimension'}, or the tags rule them out).`
      : hetItems.length ? 'No more learnwares of your feature space on this page.' : 'No learnware matches.'));
  } else {
    parts.push(resultList(items, answer, keys, statistical));
  }
  if (het && (hetItems.length || described)) {
    parts.push(h('section', {class: 'card heterogeneous', 'aria-label': 'Learnwares of other feature spaces'},
      h('h2', {}, 'Learnwares of other feature spaces'),
      h('p', {class: 'muted'}, 'These learnwares were trained on tables with other columns; the dock matched them to ' +
        'your data through its shared feature space' + (het.map_id ? ` (map ${het.map_id})` : '') +
        ', using your column descriptions. Reuse them with ', h('code', {}, 'learnware reuse --input-desc'), '.'),
      h('p', {class: 'summary'}, `${n(het.total || 0, 'learnware', 'learnwares')} of other feature spaces ranked` +
        (het.candidates !== undefined ? ` (${het.candidates} compared)` : '')),
      mixtureView(het.mixture, 'Recommended combination of other feature spaces', 'h3'),
      hetItems.length ? resultList(hetItems, het, keys, true)
        : h('p', {class: 'empty'}, (het.total || 0) > 0 ? 'None on this page.' : 'None of them matches your data.')));
  } else if (described && answer.heterogeneous_why) {
    parts.push(h('p', {class: 'muted hetero-why'},
      `No search of other feature spaces: ${answer.heterogeneous_why}.`.replace(/\.\.$/, '.')));
  }
  // One pager for both lists: the page number pages them together.
  const total = Math.max(answer.total || 0, (het && het.total) || 0);
  if (items.length || hetItems.length) parts.push(pager({...answer, total}, run));
  results.replaceChildren(...parts.filter(Boolean));
}

function mixtureView(mix, title, heading) {
  if (!mix || !Array.isArray(mix.items) || !mix.items.length) return null;
  return h('section', {class: 'card mixture', 'aria-label': title},
    h(heading, {}, title),
    h('p', {class: 'muted'}, `Together these ${mix.items.length} learnwares fit your data with score ${formatNumber(mix.score, 3)} ` +
      `(MMD² ${formatNumber(mix.mmd2)}); reuse them with these weights:`),
    weightBars(mix.items),
    h('p', {}, h('a', {class: 'button secondary', href: downloadAll(mix.items), download: 'learnwares.zip'}, 'Download all')));
}

function resultList(items, answer, keys, statistical) {
  return h('ol', {class: 'result-list', start: ((answer.page || 1) - 1) * (answer.limit || LIMIT) + 1},
    items.map((it) => h('li', {class: 'card result'},
      h('div', {class: 'result-head'},
        h('a', {class: 'result-name', href: `#/learnware/${encodeURIComponent(it.id)}`}, it.name || it.id),
        h('span', {class: 'result-id'}, it.id),
        scoreView(it, statistical)),
      tagList(it.semantic || {}, keys),
      description(it.semantic))));
}

function scoreView(it, statistical) {
  const score = Number(it.score);
  return h('span', {class: 'score', title: statistical ? `MMD² ${formatNumber(it.mmd2)}` : 'match score'},
    h('span', {class: 'score-track', 'aria-hidden': 'true'},
      h('span', {class: 'score-bar', style: {width: `${Math.max(0, Math.min(1, score || 0)) * 100}%`}})),
    h('span', {class: 'score-value'}, `score ${formatNumber(score, 3)}`),
    statistical ? h('span', {class: 'mmd muted'}, `MMD² ${formatNumber(it.mmd2, 3)}`) : null);
}

function description(semantic) {
  const d = semantic && semantic.Description && semantic.Description.Values;
  if (!d) return null;
  const s = markdownText(Array.isArray(d) ? d.join(' ') : d);
  return h('p', {class: 'result-desc'}, s.length > 220 ? `${s.slice(0, 219)}…` : s);
}

function downloadAll(items) {
  return `/api/v1/download?ids=${items.slice(0, 10).map((it) => encodeURIComponent(it.id)).join(',')}`;
}
