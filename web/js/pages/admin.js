// Admin: summary counts and charts, users (role, delete), every learnware
// with a status filter.
import {h, field, messageBox, pager, formatTime} from '../dom.js';
import {api, currentUser, setSession} from '../api.js';
import {barChart, pieChart} from '../charts.js';
import {learnwareTable} from './mine.js';

const STATUSES = ['waiting', 'queued', 'processing', 'success', 'failed'];
const STATUS_COLOURS = {waiting: '#a5b1c2', queued: '#f7b731', processing: '#2d98da', success: '#20bf6b', failed: '#eb3b5a'};
const VERDICT_COLOURS = {usable: '#20bf6b', nonusable: '#f7b731', invalid: '#eb3b5a', unchecked: '#a5b1c2'};

export default async function adminPage(main, ctx) {
  const summaryArea = h('section', {class: 'summary-area', 'aria-label': 'Summary'});
  const usersArea = h('section', {class: 'card', 'aria-label': 'Users'}, h('h2', {}, 'Users'));
  const lwArea = h('section', {class: 'card', 'aria-label': 'All learnwares'}, h('h2', {}, 'All learnwares'));
  main.append(h('h1', {}, 'Administration'), summaryArea, usersArea, lwArea);
  await Promise.all([summary(summaryArea), users(usersArea, ctx), learnwares(lwArea, ctx)]);
}

function entries(obj, colours) {
  return Object.entries(obj || {}).map(([label, value]) => ({label, value: Number(value) || 0, colour: colours && colours[label]}));
}

async function summary(area) {
  let s;
  try {
    s = await api('GET', '/admin/summary');
  } catch (err) {
    area.append(h('p', {class: 'message error', role: 'alert'}, err.message));
    return;
  }
  const lw = s.learnwares || {};
  const stat = (label, value) => h('div', {class: 'stat'}, h('span', {class: 'stat-value'}, String(value ?? 0)), h('span', {class: 'stat-label'}, label));
  const q = s.queue || {};
  const byStatus = STATUSES.map((k) => ({label: k, value: Number((lw.by_status || {})[k]) || 0, colour: STATUS_COLOURS[k]}));
  for (const e of entries(lw.by_status)) if (!STATUSES.includes(e.label)) byStatus.push(e);
  const charts = [
    barChart(byStatus, 'Learnwares by status'),
    pieChart(entries(lw.by_verdict, VERDICT_COLOURS), 'Learnwares by verdict'),
  ];
  for (const [key, counts] of Object.entries(s.by_tag || {})) {
    const data = entries(counts).sort((a, b) => b.value - a.value);
    charts.push(barChart(data, `Learnwares by ${key}`));
  }
  area.replaceChildren(
    h('div', {class: 'stats'},
      stat('users', s.users), stat('learnwares', lw.total), stat('downloads', s.downloads), stat('searches', s.searches),
      stat('jobs queued', q.queued), stat('jobs running', q.running), stat('jobs failed', q.failed)),
    h('div', {class: 'charts'}, charts));
}

async function users(area, ctx) {
  const msg = messageBox();
  const list = h('div');
  area.append(msg, list);
  const me = currentUser();
  async function load(page) {
    let answer;
    try {
      answer = await api('GET', '/admin/users', {query: {page, limit: 20}});
    } catch (err) {
      msg.show(err.message);
      return;
    }
    if (!ctx.alive()) return;
    const rows = (answer.items || []).map((u) => {
      const role = h('select', {'aria-label': `Role of ${u.email}`},
        ['user', 'admin'].map((r) => h('option', {value: r, selected: u.role === r}, r)));
      role.value = u.role;
      role.addEventListener('change', async () => {
        msg.clear();
        try {
          const updated = await api('PATCH', `/admin/users/${encodeURIComponent(u.id)}`, {body: {role: role.value}});
          msg.show(`${u.email} is now ${role.value}.`, 'ok');
          if (me && updated && updated.id === me.id) setSession(null, updated);
        } catch (err) {
          role.value = u.role;
          msg.show(err.message);
        }
      });
      const del = h('button', {type: 'button', class: 'danger small', 'aria-label': `Delete user ${u.email}`, onclick: async () => {
        if (!window.confirm(`Delete the user ${u.email}?`)) return;
        msg.clear();
        try {
          await api('DELETE', `/admin/users/${encodeURIComponent(u.id)}`);
          msg.show(`${u.email} deleted.`, 'ok');
          load(answer.page || 1);
        } catch (err) {
          msg.show(err.message);
        }
      }}, 'Delete');
      return h('tr', {}, h('td', {class: 'num'}, String(u.id)), h('td', {}, u.email), h('td', {}, u.name || '–'),
        h('td', {}, role), h('td', {}, formatTime(u.created)), h('td', {}, del));
    });
    list.replaceChildren(h('div', {class: 'table-wrap'}, h('table', {class: 'table'},
      h('thead', {}, h('tr', {}, ['Id', 'E-mail', 'Name', 'Role', 'Created', ''].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows))), pager(answer, load));
  }
  await load(1);
}

async function learnwares(area, ctx) {
  const filter = h('select', {}, h('option', {value: ''}, 'every status'), STATUSES.map((s) => h('option', {value: s}, s)));
  const msg = messageBox();
  const list = h('div');
  area.append(h('div', {class: 'row'}, field('Status filter', filter)), msg, list);
  async function load(page) {
    let answer;
    try {
      answer = await api('GET', '/admin/learnwares', {query: {page, limit: 20, status: filter.value}});
    } catch (err) {
      msg.show(err.message);
      return;
    }
    if (!ctx.alive()) return;
    msg.clear();
    const items = answer.items || [];
    list.replaceChildren(items.length ? learnwareTable(items, {owner: true}) : h('p', {class: 'empty'}, 'None.'), pager(answer, load));
  }
  filter.addEventListener('change', () => load(1));
  await load(1);
}
