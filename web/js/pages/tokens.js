// API tokens: the user's sessions and named tokens; create one (shown
// once), revoke any.
import {h, field, messageBox, formatTime} from '../dom.js';
import {api} from '../api.js';

export default async function tokensPage(main, ctx) {
  const msg = messageBox();
  const list = h('div', {class: 'list'});
  const name = h('input', {type: 'text', required: true, maxlength: 100, placeholder: 'e.g. laptop CLI'});
  const days = h('input', {type: 'number', min: 1, max: 3650, value: 90, required: true});
  const created = h('div', {class: 'new-token', hidden: true, 'aria-live': 'polite'});
  const form = h('form', {class: 'card inline-form', 'aria-label': 'Create an API token'},
    h('h2', {}, 'Create a token'),
    h('div', {class: 'row'}, h('div', {class: 'grow'}, field('Token name', name)), field('Expires in (days)', days)),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Create token')));
  main.append(h('h1', {}, 'API tokens'),
    h('p', {class: 'muted'}, 'A token lets programs (the learnware CLI, scripts) act as you: send it as ',
      h('code', {}, 'Authorization: Bearer <token>'), '.'),
    msg, created, form, h('h2', {}, 'Your tokens'), list);

  async function load() {
    let answer;
    try {
      answer = await api('GET', '/me/tokens');
    } catch (err) {
      msg.show(err.message);
      return;
    }
    if (!ctx.alive()) return;
    const items = answer.items || [];
    if (!items.length) {
      list.replaceChildren(h('p', {class: 'empty'}, 'No tokens.'));
      return;
    }
    list.replaceChildren(h('div', {class: 'table-wrap'}, h('table', {class: 'table tokens'},
      h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Created', 'Expires', ''].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, items.map((t) => h('tr', {},
        h('td', {}, t.name || '–'),
        h('td', {}, t.kind),
        h('td', {}, formatTime(t.created)),
        h('td', {}, formatTime(t.expires)),
        h('td', {}, h('button', {type: 'button', class: 'danger small', 'aria-label': `Delete token ${t.name || t.id}`,
          onclick: () => remove(t)}, 'Delete'))))))));
  }

  async function remove(t) {
    const what = t.kind === 'session' ? 'this session (a browser or CLI login)' : `the token “${t.name}”`;
    if (!window.confirm(`Revoke ${what}? Programs using it stop working.`)) return;
    try {
      await api('DELETE', `/me/tokens/${encodeURIComponent(t.id)}`);
      msg.show('Token deleted.', 'ok');
    } catch (err) {
      msg.show(err.message);
    }
    if (ctx.alive()) load();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.clear();
    const n = Number(days.value);
    if (!name.value.trim()) {
      msg.show('Give the token a name.');
      return;
    }
    if (!Number.isInteger(n) || n < 1 || n > 3650) {
      msg.show('Expiry: a whole number of days from 1 to 3650.');
      return;
    }
    let t;
    try {
      t = await api('POST', '/me/tokens', {body: {name: name.value.trim(), expires_days: n}});
    } catch (err) {
      msg.show(err.message);
      return;
    }
    const value = h('input', {type: 'text', readonly: true, value: t.token, class: 'mono', id: 'new-token-value'});
    const copy = h('button', {type: 'button', class: 'secondary', onclick: async () => {
      value.select();
      try {
        await navigator.clipboard.writeText(t.token);
        copy.textContent = 'Copied';
      } catch {
        document.execCommand('copy');
        copy.textContent = 'Copied';
      }
    }}, 'Copy');
    created.replaceChildren(h('div', {class: 'card notice-ok'},
      h('h2', {}, `Token “${t.name}” created`),
      h('p', {}, 'Copy it now: it is shown this once and cannot be read again.'),
      h('div', {class: 'row token-row'}, h('label', {for: 'new-token-value', class: 'visually-hidden'}, 'New token'), value, copy)));
    created.hidden = false;
    name.value = '';
    load();
  });

  await load();
}
