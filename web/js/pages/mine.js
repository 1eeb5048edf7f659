// The user's own learnwares, every status, refreshed while any is pending.
import {h, messageBox, pager, formatTime, formatSize, statusBadge, verdictBadge} from '../dom.js';
import {api} from '../api.js';

const PENDING = new Set(['waiting', 'queued', 'processing']);

export default async function minePage(main, ctx) {
  const msg = messageBox();
  const list = h('div', {class: 'list'});
  let page = 1;
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));
  main.append(h('div', {class: 'title-row'}, h('h1', {}, 'My learnwares'),
    h('a', {class: 'button', href: '#/submit'}, 'Submit a learnware')), msg, list);

  async function load(p) {
    page = p;
    clearTimeout(timer);
    let answer;
    try {
      answer = await api('GET', '/learnwares', {query: {mine: 1, page, limit: 20}});
    } catch (err) {
      msg.show(err.message);
      return;
    }
    if (!ctx.alive()) return;
    msg.clear();
    const items = answer.items || [];
    if (!items.length) {
      list.replaceChildren(h('p', {class: 'empty'}, 'You have not submitted a learnware yet.'));
      return;
    }
    list.replaceChildren(learnwareTable(items), pager(answer, load));
    if (items.some((lw) => PENDING.has(lw.status))) timer = setTimeout(() => load(page), 2000);
  }
  await load(1);
}

export function learnwareTable(items, opts = {}) {
  return h('div', {class: 'table-wrap'}, h('table', {class: 'table'},
    h('thead', {}, h('tr', {},
      ['Id', 'Name', opts.owner ? 'Owner' : null, 'Status', 'Verdict', 'Size', 'Updated']
        .filter(Boolean).map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, items.map((lw) => h('tr', {},
      h('td', {class: 'mono'}, lw.id),
      h('td', {}, h('a', {href: `#/learnware/${encodeURIComponent(lw.id)}`}, lw.name || lw.id)),
      opts.owner ? h('td', {}, lw.owner ? lw.owner.name || String(lw.owner.id) : '–') : null,
      h('td', {}, statusBadge(lw.status)),
      h('td', {}, verdictBadge(lw.verdict)),
      h('td', {class: 'num'}, formatSize(lw.size)),
      h('td', {}, formatTime(lw.updated)))))));
}
