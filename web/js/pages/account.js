// Log in, register, and the account page (profile name, password, log out).
import {h, field, messageBox, formatTime} from '../dom.js';
import {api, currentUser, setSession} from '../api.js';

export async function loginPage(main, ctx) {
  const email = h('input', {type: 'email', autocomplete: 'username', required: true, value: ctx.query.get('email') || ''});
  const password = h('input', {type: 'password', autocomplete: 'current-password', required: true});
  const msg = messageBox();
  if (ctx.query.get('registered')) msg.show('Your account is ready: log in.', 'ok');
  const form = h('form', {class: 'card narrow', 'aria-label': 'Log in'},
    field('E-mail', email), field('Password', password), msg,
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Log in')),
    h('p', {class: 'muted'}, 'No account? ', h('a', {href: '#/register'}, 'Register')));
  main.append(h('h1', {}, 'Log in'), form);
  (email.value ? password : email).focus();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.clear();
    try {
      const answer = await api('POST', '/auth/login', {body: {email: email.value.trim(), password: password.value}});
      setSession(answer.token, answer.user);
      const next = ctx.query.get('next');
      ctx.go(next && next.startsWith('/') ? next : '/');
    } catch (err) {
      msg.show(err.message);
    }
  });
}

export async function registerPage(main, ctx) {
  const name = h('input', {type: 'text', autocomplete: 'name', required: true, maxlength: 100});
  const email = h('input', {type: 'email', autocomplete: 'username', required: true});
  const password = h('input', {type: 'password', autocomplete: 'new-password', required: true, minlength: 8});
  const msg = messageBox();
  const form = h('form', {class: 'card narrow', 'aria-label': 'Register'},
    field('Name', name), field('E-mail', email), field('Password', password, 'at least 8 characters'), msg,
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Register')),
    h('p', {class: 'muted'}, 'Have an account? ', h('a', {href: '#/login'}, 'Log in')));
  main.append(h('h1', {}, 'Register'), form);
  name.focus();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.clear();
    if (password.value.length < 8) {
      msg.show('The password needs at least 8 characters.');
      return;
    }
    try {
      await api('POST', '/auth/register', {body: {email: email.value.trim(), password: password.value, name: name.value.trim()}});
      ctx.go(`/login?registered=1&email=${encodeURIComponent(email.value.trim())}`);
    } catch (err) {
      msg.show(err.message);
    }
  });
}

export async function accountPage(main, ctx) {
  let user = currentUser();
  try {
    user = await api('GET', '/me');
    setSession(null, user);
  } catch (err) {
    if (!ctx.alive()) return;
    if (err.status === 401) {
      ctx.go('/login');
      return;
    }
  }
  const facts = h('dl', {class: 'facts'},
    h('dt', {}, 'E-mail'), h('dd', {}, user.email || '–'),
    h('dt', {}, 'Role'), h('dd', {}, user.role || '–'),
    h('dt', {}, 'Member since'), h('dd', {}, formatTime(user.created)));

  const name = h('input', {type: 'text', required: true, maxlength: 100, value: user.name || ''});
  const nameMsg = messageBox();
  const profile = h('form', {class: 'card', 'aria-label': 'Profile'}, h('h2', {}, 'Profile'), facts,
    field('Display name', name), nameMsg, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save name')));
  profile.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const u = await api('PATCH', '/me', {body: {name: name.value.trim()}});
      setSession(null, u);
      nameMsg.show('Name saved.', 'ok');
    } catch (err) {
      nameMsg.show(err.message);
    }
  });

  const oldPw = h('input', {type: 'password', autocomplete: 'current-password', required: true});
  const newPw = h('input', {type: 'password', autocomplete: 'new-password', required: true, minlength: 8});
  const again = h('input', {type: 'password', autocomplete: 'new-password', required: true});
  const pwMsg = messageBox();
  const pwForm = h('form', {class: 'card', 'aria-label': 'Change password'}, h('h2', {}, 'Change password'),
    field('Current password', oldPw), field('New password', newPw, 'at least 8 characters; your other sessions are logged out'),
    field('Repeat the new password', again), pwMsg,
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Change password')));
  pwForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (newPw.value !== again.value) {
      pwMsg.show('The two new passwords differ.');
      return;
    }
    if (newPw.value.length < 8) {
      pwMsg.show('The new password needs at least 8 characters.');
      return;
    }
    try {
      await api('POST', '/me/password', {body: {old_password: oldPw.value, new_password: newPw.value}, keepSession: true});
      pwForm.reset();
      pwMsg.show('Password changed; your other sessions were logged out.', 'ok');
    } catch (err) {
      pwMsg.show(err.message);
    }
  });

  main.append(h('h1', {}, 'Account'),
    h('div', {class: 'two-col'}, profile, pwForm),
    h('p', {class: 'muted'}, 'Tokens for programs, and your open sessions, are on the ',
      h('a', {href: '#/tokens'}, 'API tokens'), ' page; “Log out” at the top ends this session.'));
}
