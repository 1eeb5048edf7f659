// The single-page app: hash routes, the navigation bar, and the session.
import {h} from './dom.js';
import {api, currentUser, clearSession, setSession, token, isAdmin} from './api.js';
import searchPage from './pages/search.js';
import detailPage from './pages/detail.js';
import submitPage from './pages/submit.js';
import minePage from './pages/mine.js';
import tokensPage from './pages/tokens.js';
import {loginPage, registerPage, accountPage} from './pages/account.js';
import adminPage from './pages/admin.js';

// [pattern, page, title, needs]  needs: 'user' | 'admin' | undefined
const ROUTES = [
  [/^\/(search)?$/, searchPage, 'Search'],
  [/^\/learnware\/([^/]+)$/, detailPage, 'Learnware'],
  [/^\/submit$/, submitPage, 'Submit', 'user'],
  [/^\/mine$/, minePage, 'My learnwares', 'user'],
  [/^\/tokens$/, tokensPage, 'API tokens', 'user'],
  [/^\/account$/, accountPage, 'Account', 'user'],
  [/^\/login$/, loginPage, 'Log in'],
  [/^\/register$/, registerPage, 'Register'],
  [/^\/admin$/, adminPage, 'Admin', 'admin'],
];

const main = document.getElementById('main');
let leaving = [];
let generation = 0;

export function go(path) {
  if (location.hash === `#${path}`) route();
  else location.hash = path;
}

function parseHash() {
  let raw = location.hash.replace(/^#/, '') || '/';
  try {
    raw = decodeURI(raw);
  } catch {
    /* keep it as it is */
  }
  const [path, query = ''] = raw.split('?');
  return {path, query: new URLSearchParams(query)};
}

async function route() {
  for (const fn of leaving) {
    try {
      fn();
    } catch {
      /* a page's clean-up must not stop the next page */
    }
  }
  leaving = [];
  const gen = ++generation;
  const {path, query} = parseHash();
  let match = null;
  let entry = null;
  for (const r of ROUTES) {
    match = path.match(r[0]);
    if (match) {
      entry = r;
      break;
    }
  }
  renderNav(path);
  main.replaceChildren();
  if (!entry) {
    document.title = 'Not found · learnware dock';
    main.append(h('h1', {}, 'Not found'), h('p', {}, 'No page here. ', h('a', {href: '#/'}, 'Search the dock')));
    return;
  }
  const [, page, title, needs] = entry;
  document.title = `${title} · learnware dock`;
  if (needs && !token()) {
    main.append(h('h1', {}, title), h('p', {class: 'notice'}, 'Please ',
      h('a', {href: `#/login?next=${encodeURIComponent(path)}`}, 'log in'), ' to see this page.'));
    return;
  }
  if (needs === 'admin' && !isAdmin()) {
    main.append(h('h1', {}, title), h('p', {class: 'message error', role: 'alert'}, 'This page is for administrators.'));
    return;
  }
  const ctx = {
    params: match.slice(1),
    query,
    alive: () => gen === generation,
    onLeave: (fn) => leaving.push(fn),
    go,
  };
  try {
    await page(main, ctx);
  } catch (err) {
    if (gen !== generation) return;
    if (!main.querySelector('h1')) main.prepend(h('h1', {}, title));
    main.append(h('p', {class: 'message error', role: 'alert'}, err.message || String(err)));
  }
}

function renderNav(path) {
  const user = currentUser();
  const links = [['#/', 'Search', /^\/(search|learnware\/.*)?$/]];
  if (user) {
    links.push(['#/submit', 'Submit', /^\/submit$/], ['#/mine', 'My learnwares', /^\/mine$/],
      ['#/tokens', 'API tokens', /^\/tokens$/], ['#/account', 'Account', /^\/account$/]);
    if (user.role === 'admin') links.push(['#/admin', 'Admin', /^\/admin$/]);
  } else {
    links.push(['#/login', 'Log in', /^\/login$/], ['#/register', 'Register', /^\/register$/]);
  }
  document.getElementById('nav').replaceChildren(...links.map(([href, text, re]) =>
    h('a', {href, 'aria-current': re.test(path) ? 'page' : null}, text)));
  const who = document.getElementById('who');
  if (user) {
    who.replaceChildren(
      h('a', {class: 'who-name', href: '#/account', title: user.email || ''}, user.name || user.email || 'signed in'),
      ...(user.role === 'admin' ? [h('span', {class: 'badge role-admin'}, 'admin')] : []),
      h('button', {type: 'button', class: 'link-button', onclick: logout}, 'Log out'));
  } else {
    who.replaceChildren();
  }
}

async function logout() {
  try {
    await api('POST', '/auth/logout');
  } catch {
    /* the token may already be gone; forget it anyway */
  }
  clearSession();
  go('/login');
}

window.addEventListener('hashchange', route);
window.addEventListener('session-changed', () => renderNav(parseHash().path));
document.getElementById('skip-link').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});

// Refresh who we are (a role may have changed); a dead token is dropped by api().
if (token()) {
  api('GET', '/me').then((user) => setSession(null, user)).catch(() => {});
}
route();
