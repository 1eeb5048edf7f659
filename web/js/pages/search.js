// Search: text, tag filters, an optional RKME file; ranked results with
// scores, the recommended mixture with its weights, paging.
import {h, field, messageBox, pager, formatNumber} from '../dom.js';
import {api, taxonomy} from '../api.js';
import {searchFilters, tagList, tagKeys} from '../semantic.js';
import {weightBars} from '../charts.js';
import {markdownText} from '../markdown.js';

const LIMIT = 10;
// The last search (text, filters, RKME file, page), kept while the user
// opens a result and comes back.
let last = null;

export default async function searchPage(main, ctx) {
  const tax = await taxonomy();
  const text = h('input', {type: 'search', placeholder: 'e.g. diamond price', autocomplete: 'off', value: last ? last.text : ''});
  const filters = searchFilters(tax, last ? last.filters : {});
  const rkme = h('input', {type: 'file', accept: '.json,application/json'});
  // A file input cannot be refilled: the last search's File is kept here.
  let keptFile = last ? last.file : null;
  const kept = h('p', {class: 'hint kept', hidden: !keptFile});
  const showKept = () => {
    kept.hidden = !keptFile;
    if (keptFile) {
      kept.replaceChildren(`Using “${keptFile.name}” from your last search. `,
        h('button', {type: 'button', class: 'link-button', onclick: () => {
          keptFile = null;
          showKept();
        }}, 'Forget it'));
    }
  };
  showKept();
  rkme.addEventListener('change', () => {
    keptFile = null;
    showKept();
  });
  const msg = messageBox();
  const results = h('section', {class: 'results', 'aria-live': 'polite'});
  const form = h('form', {class: 'card search-form', role: 'search'},
    h('div', {class: 'row'},
      h('div', {class: 'grow'}, field('Name or description', text)),
      h('div', {}, field('RKME specification (JSON)', rkme, 'the statistical summary of your data: learnware spec table'), kept)),
    filters,
    h('div', {class: 'actions'},
      h('button', {type: 'submit'}, 'Search'),
      h('button', {type: 'reset', class: 'secondary'}, 'Clear')));
  main.append(h('h1', {}, 'Search learnwares'), form, msg, results);

  async function run(page) {
    msg.clear();
    const chosen = filters.read();
    const semantic = {...chosen};
    if (text.value.trim()) semantic.Name = {Type: 'String', Values: text.value.trim()};
    const file = rkme.files[0] || keptFile;
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
    last = {text: text.value, filters: chosen, file, page};
    show(answer, tax, results, run, file);
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run(1);
  });
  form.addEventListener('reset', () => {
    keptFile = null;
    showKept();
    setTimeout(() => run(1), 0);
  });
  run(last ? last.page : 1);
}

function show(answer, tax, results, run, file) {
  const items = answer.items || [];
  const keys = tagKeys(tax);
  const statistical = answer.kind === 'statistical';
  const n = (k, one, many) => `${k} ${k === 1 ? one : many}`;
  const summary = statistical
    ? `${n(answer.total, 'learnware', 'learnwares')} ranked by how well their data match ${file ? `“${file.name}”` : 'your RKME'}` +
      (answer.candidates !== undefined ? ` (${answer.candidates} passed the tag filter)` : '')
    : `${n(answer.total, 'learnware matches', 'learnwares match')}${answer.fuzzy ? ' (closest names: no exact match)' : ''}`;
  const parts = [h('p', {class: 'summary'}, summary)];
  const mix = answer.mixture;
  if (statistical && mix && Array.isArray(mix.items) && mix.items.length) {
    parts.push(h('section', {class: 'card mixture', 'aria-label': 'Recommended combination'},
      h('h2', {}, 'Recommended combination'),
      h('p', {class: 'muted'}, `Together these ${mix.items.length} learnwares fit your data with score ${formatNumber(mix.score, 3)} ` +
        `(MMD² ${formatNumber(mix.mmd2)}); reuse them with these weights:`),
      weightBars(mix.items),
      h('p', {}, h('a', {class: 'button secondary', href: downloadAll(mix.items), download: 'learnwares.zip'}, 'Download all'))));
  }
  if (!items.length) {
    parts.push(h('p', {class: 'empty'}, statistical && answer.total === 0
      ? 'No learnware matches your data (none has its dimension, or the tags rule them out).'
      : 'No learnware matches.'));
  } else {
    parts.push(h('ol', {class: 'result-list', start: ((answer.page || 1) - 1) * (answer.limit || LIMIT) + 1},
      items.map((it) => h('li', {class: 'card result'},
        h('div', {class: 'result-head'},
          h('a', {class: 'result-name', href: `#/learnware/${encodeURIComponent(it.id)}`}, it.name || it.id),
          h('span', {class: 'result-id'}, it.id),
          scoreView(it, statistical)),
        tagList(it.semantic || {}, keys),
        description(it.semantic)))));
    parts.push(pager(answer, run));
  }
  results.replaceChildren(...parts);
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
