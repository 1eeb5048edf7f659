// The web UI in headless Chromium against a real `learnware serve`:
// register, log in, submit (multipart and resumable), search with an RKME,
// the detail page and its picture, download, API tokens, log out, the admin
// summary, and injection strings rendered inert.  Then, on a second dock
// with a heterogeneous map: column descriptions (a wrong count refused in
// the form), learnwares of other feature spaces, a text specification.
//
// Needs: the learnware binary ($LW, default build/learnware), /usr/bin/chromium
// ($CHROMIUM), and playwright-core (npm ci in tests/browser).  Screenshots
// go to $LW_BROWSER_SHOTS, else to shots/ in the test's temporary folder,
// which is kept when a test fails or LW_BROWSER_KEEP is set.
import {describe, it, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {tmpDir, makeLearnware, makeUserRkme, makeHeteroDock, makeTextRkme, startServer, launchBrowser} from './helpers.mjs';

const XSS = '<img src=x onerror=window.__xss=1>';
const ADMIN = {email: 'admin@example.org', password: 'admin-password-1'};
const USER = {name: 'Ada Tester', email: 'ada@example.org', password: 'ada-password-1'};
const STEP_MS = 60000; // a verification runs the model in the sandbox

describe('learnware dock web UI', {timeout: 300000}, () => {
  let dir;
  let shots;
  let server;
  let browser;
  let page;
  let failed = false;
  const pageErrors = [];
  const fx = {};

  const shot = (name) => page.screenshot({path: path.join(shots, `${name}.png`), fullPage: true});
  const open = async (hash) => {
    const url = `${server.url}/#${hash}`;
    if (page.url() === url) await page.reload(); // the same hash would not route again
    else await page.goto(url);
    await page.locator('main h1').first().waitFor();
  };
  const xssFired = () => page.evaluate(() => window.__xss);

  before(async () => {
    dir = tmpDir();
    shots = process.env.LW_BROWSER_SHOTS || path.join(dir, 'shots');
    fs.mkdirSync(shots, {recursive: true});
    fx.plain = makeLearnware(dir, {slug: 'gauss-zero', name: 'Gaussian sums near zero',
      description: 'plain package description', centre: 0, seed: 1});
    fx.xss = makeLearnware(dir, {slug: 'gauss-four', name: `evil ${XSS}`,
      description: `evil ${XSS}`, centre: 4, seed: 2});
    fx.nearZero = makeUserRkme(dir, 'user_near_zero', [0]);
    fx.both = makeUserRkme(dir, 'user_both', [0, 4]);
    server = await startServer(dir, ADMIN);
    browser = await launchBrowser();
    const context = await browser.newContext({acceptDownloads: true, viewport: {width: 1280, height: 900}});
    page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('dialog', (d) => d.accept());
  });

  after(async (t) => {
    if (browser) await browser.close();
    if (server) await server.stop();
    if (failed || process.env.LW_BROWSER_KEEP) {
      console.log(`# browser test files kept in ${dir} (screenshots in ${shots})`);
    } else if (dir) {
      fs.rmSync(dir, {recursive: true, force: true});
    }
    void t;
  });

  // Each step depends on the ones before it; after a failure the rest are skipped.
  const step = (name, fn) => it(name, async (t) => {
    if (failed) return t.skip('an earlier step failed');
    try {
      await fn();
    } catch (err) {
      failed = true;
      if (page) await shot(`FAILED-${name.replace(/\W+/g, '-')}`).catch(() => {});
      throw err;
    }
  });

  step('registers a user and logs in', async () => {
    await open('/register');
    await page.getByLabel('Name', {exact: true}).fill(USER.name);
    await page.getByLabel('Password').fill(USER.password);
    // the admin's e-mail is taken: the API's 409 is shown
    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByRole('button', {name: 'Register'}).click();
    await page.getByRole('alert').filter({hasText: /\S/}).waitFor();
    await page.getByLabel('E-mail').fill(USER.email);
    await page.getByRole('button', {name: 'Register'}).click();
    await page.getByText('Your account is ready').waitFor();
    await shot('login');
    assert.equal(await page.getByLabel('E-mail').inputValue(), USER.email);
    // a wrong password shows the API's message
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', {name: 'Log in'}).click();
    await page.getByRole('alert').filter({hasText: /wrong e-mail or password/i}).waitFor();
    await page.getByLabel('Password').fill(USER.password);
    await page.getByRole('button', {name: 'Log in'}).click();
    await page.locator('.who-name', {hasText: USER.name}).waitFor();
    assert.ok(await page.evaluate(() => localStorage.getItem('learnware.token')));
  });

  step('shows why a package is refused', async () => {
    const bad = path.join(dir, 'not-a-package.zip');
    fs.writeFileSync(bad, 'this is not a zip file');
    await open('/submit');
    await page.getByLabel('Learnware package (zip)').setInputFiles(bad);
    await page.getByLabel('Use the semantic specification inside the package').check();
    await page.getByRole('button', {name: 'Upload'}).click();
    await page.getByRole('alert').filter({hasText: /^Upload failed: \S/}).waitFor();
    await shot('submit-refused');
  });

  step('submits a learnware with the form and waits for its verification', async () => {
    await open('/submit');
    await page.getByLabel('Learnware package (zip)').setInputFiles(fx.plain);
    await page.getByLabel('Name', {exact: true}).fill('Gaussian sums near zero');
    await page.getByLabel('Description', {exact: true}).fill(
      '# About\n\nSums **four** features; see [the docs](https://example.org/docs) and ' +
      '[this](javascript:window.__xss=2).\n\n- first item\n- second `item`\n');
    await page.getByLabel('Data', {exact: true}).selectOption('Table');
    await page.getByLabel('Task', {exact: true}).selectOption('Regression');
    await page.getByLabel('Library', {exact: true}).selectOption('Others');
    await page.getByLabel('License', {exact: true}).selectOption('MIT');
    await page.getByRole('group', {name: 'Scenario'}).getByLabel('Business', {exact: true}).check();
    await page.getByLabel('Input feature descriptions').fill('x0: first\nx1: second\nx2: third\nx3: fourth');
    await page.getByLabel('Output dimension').fill('1');
    await page.getByLabel('Output feature descriptions').fill('the sum');
    await shot('submit-form');
    await page.getByRole('button', {name: 'Upload'}).click();
    await page.locator('.verify-status .badge', {hasText: 'success'}).waitFor({timeout: STEP_MS});
    await page.locator('.verify-status .badge', {hasText: 'usable'}).waitFor();
    assert.equal(await page.locator('progress').getAttribute('value'), '100');
    await shot('submit-done');
    fx.plainId = (await page.locator('.status-area h2 a').getAttribute('href')).split('/').pop();
    assert.match(fx.plainId, /^\d{8}$/);
  });

  step('submits a learnware whose name and description are injection strings (resumable upload)', async () => {
    await page.evaluate(() => localStorage.setItem('learnware.resumableOver', '1'));
    await open('/submit');
    await page.getByLabel('Learnware package (zip)').setInputFiles(fx.xss);
    await page.getByLabel('Name', {exact: true}).fill(`evil ${XSS}`);
    await page.getByLabel('Description', {exact: true}).fill(`evil ${XSS}\n\n<script>window.__xss=3</script>`);
    await page.getByLabel('Data', {exact: true}).selectOption('Table');
    await page.getByLabel('Task', {exact: true}).selectOption('Regression');
    await page.getByLabel('Library', {exact: true}).selectOption('Others');
    await page.getByRole('group', {name: 'Scenario'}).getByLabel('Business', {exact: true}).check();
    await page.getByLabel('Input dimension').fill('4');
    await page.getByLabel('Input feature descriptions').fill(XSS);
    await page.getByLabel('Output dimension').fill('1');
    await page.getByRole('button', {name: 'Upload'}).click();
    await page.locator('.verify-status .badge', {hasText: 'success'}).waitFor({timeout: STEP_MS});
    await page.evaluate(() => localStorage.removeItem('learnware.resumableOver'));
    fx.xssId = (await page.locator('.status-area h2 a').getAttribute('href')).split('/').pop();
    assert.equal(await page.locator('.status-area h2 a').textContent(), `evil ${XSS}`);
    assert.equal(await xssFired(), undefined);
  });

  step('lists my learnwares with their statuses', async () => {
    await open('/mine');
    await page.locator('tbody tr').nth(1).waitFor();
    assert.equal(await page.locator('tbody tr').count(), 2);
    assert.equal(await page.locator('tbody .badge', {hasText: 'success'}).count(), 2);
    await shot('mine');
  });

  step('searches with an RKME file and sees the learnware with a score', async () => {
    await open('/search');
    await page.locator('.result').first().waitFor(); // the initial listing
    await page.getByLabel('RKME specification (JSON)').setInputFiles(fx.nearZero);
    await page.getByRole('button', {name: 'Search', exact: true}).click();
    await page.locator('.summary', {hasText: 'ranked'}).waitFor();
    const first = page.locator('.result').first();
    assert.equal(await first.locator('a.result-name').getAttribute('href'), `#/learnware/${fx.plainId}`);
    assert.match(await first.locator('.score-value').textContent(), /^score \d/);
    assert.match(await first.locator('.mmd').textContent(), /^MMD² \d/);
    await shot('search');
    // open the result and come back: the search (with its file) is run again
    await first.locator('a.result-name').click();
    await page.locator('h1.lw-name').waitFor();
    await page.goBack();
    await page.locator('.summary', {hasText: 'ranked'}).waitFor();
    await page.getByText('Using “user_near_zero.json” from your last search').waitFor();
    // described columns: this dock has no heterogeneous map, and says why
    await page.getByLabel('Describe your columns').fill('first\nsecond\nthird\nfourth');
    await page.getByRole('button', {name: 'Search', exact: true}).click();
    await page.locator('.hetero-why', {hasText: /^No search of other feature spaces: .*map/}).waitFor();
    assert.equal(await page.locator('.result').first().locator('a.result-name').getAttribute('href'), `#/learnware/${fx.plainId}`);
    await page.getByLabel('Describe your columns').fill('');
  });

  step('searches with data from both learnwares and sees the mixture with its weights', async () => {
    await page.getByLabel('RKME specification (JSON)').setInputFiles(fx.both);
    await page.getByRole('button', {name: 'Search', exact: true}).click();
    const mix = page.locator('.mixture');
    await mix.waitFor();
    assert.equal(await mix.locator('.weight-row').count(), 2);
    const weights = (await mix.locator('.weight-value').allTextContents()).map(Number);
    assert.ok(weights.every((w) => w > 0.2), `weights ${weights}`);
    assert.ok(Math.abs(weights.reduce((s, w) => s + w, 0) - 1) < 0.01, `weights ${weights}`);
    for (const id of [fx.plainId, fx.xssId]) assert.equal(await mix.locator(`a[href="#/learnware/${id}"]`).count(), 1);
    // "Download all" fetches one zip holding both
    const all = await mix.getByRole('link', {name: 'Download all'}).getAttribute('href');
    const res = await page.request.get(server.url + all);
    assert.equal(res.status(), 200);
    assert.equal((await res.body()).subarray(0, 2).toString('latin1'), 'PK');
    // the injection learnware's name is text in the results and the mixture
    assert.ok((await mix.textContent()).includes(`evil ${XSS}`));
    assert.equal(await page.locator('main img').count(), 0);
    await shot('search-mixture');
    // a name search with a tag filter
    await page.getByRole('button', {name: 'Clear'}).click();
    await page.getByLabel('Name or description').fill('Gaussian');
    await page.getByLabel('Data', {exact: true}).selectOption('Table');
    await page.getByRole('button', {name: 'Search', exact: true}).click();
    await page.locator('.summary', {hasText: /^1 learnware matches/}).waitFor();
    assert.equal(await page.locator('.result').count(), 1);
    assert.equal(await xssFired(), undefined);
  });

  step('opens the detail page: Markdown, features and the specification picture', async () => {
    await page.locator(`a[href="#/learnware/${fx.plainId}"]`).first().click();
    await page.locator('h1.lw-name', {hasText: 'Gaussian sums near zero'}).waitFor();
    await page.locator('svg.spec-scatter circle.point').first().waitFor();
    assert.ok(await page.locator('svg.spec-scatter circle.point').count() >= 10);
    const md = page.locator('.markdown');
    assert.equal(await md.locator('h2', {hasText: 'About'}).count(), 1);
    assert.equal(await md.locator('strong', {hasText: 'four'}).count(), 1);
    assert.equal(await md.locator('li').count(), 2);
    assert.equal(await md.locator('a[href="https://example.org/docs"]').count(), 1);
    assert.equal(await md.locator('a').count(), 1, 'the javascript: link is not a link');
    assert.equal(await page.locator('.features td', {hasText: 'x2: third'}).count(), 1);
    await page.locator('.verification .badge', {hasText: 'success'}).waitFor();
    assert.match(await page.locator('.verification pre.log').textContent(), /usable/);
    await shot('detail');
  });

  step('downloads the package', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', {name: 'Download'}).click(),
    ]);
    const bytes = fs.readFileSync(await download.path());
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK');
    assert.equal(download.suggestedFilename(), `learnware-${fx.plainId}.zip`);
  });

  step('renders injection strings inert on the detail page', async () => {
    await open(`/learnware/${fx.xssId}`);
    await page.locator('h1.lw-name').waitFor();
    assert.equal(await page.locator('h1.lw-name').textContent(), `evil ${XSS}`);
    await page.locator('svg.spec-scatter circle.point').first().waitFor();
    const md = await page.locator('.markdown').textContent();
    assert.ok(md.includes(XSS) && md.includes('<script>'), md);
    assert.equal(await page.locator('.features td', {hasText: XSS}).count(), 1);
    assert.equal(await page.locator('img, script:not([type="module"])').count(), 0);
    await shot('detail-injection');
    assert.equal(await xssFired(), undefined);
  });

  step('edits the semantic specification', async () => {
    await page.getByRole('button', {name: 'Edit semantic'}).click();
    const form = page.getByRole('form', {name: 'Edit semantic specification'});
    await form.getByLabel('Description', {exact: true}).fill(`edited ${XSS}`);
    await form.getByRole('button', {name: 'Save'}).click();
    await page.locator('.markdown', {hasText: 'edited'}).waitFor();
    assert.equal(await xssFired(), undefined);
  });

  step('creates and deletes an API token', async () => {
    await open('/tokens');
    await page.getByLabel('Token name').fill('ci token');
    await page.getByLabel('Expires in (days)').fill('30');
    await page.getByRole('button', {name: 'Create token'}).click();
    const value = await page.getByLabel('New token').inputValue();
    assert.match(value, /^[A-Za-z0-9_-]{43}$/);
    const row = page.locator('tbody tr', {hasText: 'ci token'});
    await row.waitFor();
    await shot('tokens');
    await row.getByRole('button', {name: /Delete/}).click();
    await row.waitFor({state: 'detached'});
  });

  step('shows API errors: a wrong current password', async () => {
    await open('/account');
    await page.getByLabel('Current password').fill('wrong-password-9');
    await page.getByLabel('New password', {exact: true}).fill('another-password-2');
    await page.getByLabel('Repeat the new password').fill('another-password-2');
    await page.getByRole('button', {name: 'Change password'}).click();
    await page.getByRole('form', {name: 'Change password'}).getByRole('alert').filter({hasText: /\S/}).waitFor();
    await shot('account');
    assert.ok(await page.evaluate(() => localStorage.getItem('learnware.token')), 'still logged in');
  });

  step('logs out', async () => {
    await page.getByRole('button', {name: 'Log out'}).click();
    await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Log in'}).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('learnware.token')), null);
    await open('/submit');
    await page.getByText('to see this page').waitFor();
  });

  step('an admin sees the summary charts, users and learnwares', async () => {
    await open('/login');
    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', {name: 'Log in'}).click();
    await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Admin', exact: true}).click();
    const byStatus = page.locator('figure', {hasText: 'Learnwares by status'});
    await byStatus.waitFor();
    assert.ok(await byStatus.locator('svg rect').count() >= 1);
    await page.locator('figure', {hasText: 'Learnwares by Data'}).waitFor();
    await page.locator('td', {hasText: USER.email}).waitFor();
    // a role change, and a refused delete (the user owns learnwares: 409)
    const users = page.getByRole('region', {name: 'Users'});
    await users.getByLabel(`Role of ${USER.email}`).selectOption('admin');
    await users.getByRole('alert').filter({hasText: `${USER.email} is now admin`}).waitFor();
    await users.getByLabel(`Role of ${USER.email}`).selectOption('user');
    await users.getByRole('alert').filter({hasText: `${USER.email} is now user`}).waitFor();
    await users.getByRole('button', {name: `Delete user ${USER.email}`}).click();
    await users.getByRole('alert').filter({hasText: /learnware/}).waitFor();
    assert.equal(await users.locator('td', {hasText: USER.email}).count(), 1);
    const all = page.getByRole('region', {name: 'All learnwares'});
    await all.locator(`a[href="#/learnware/${fx.xssId}"]`).waitFor();
    await page.getByLabel('Status filter').selectOption('failed');
    await all.getByText('None.').waitFor();
    await shot('admin');
    assert.equal(await xssFired(), undefined);
  });

  step('the admin deletes a learnware', async () => {
    await open(`/learnware/${fx.xssId}`);
    await page.getByRole('button', {name: 'Delete'}).click();
    await page.locator('main h1', {hasText: 'My learnwares'}).waitFor();
    await open(`/learnware/${fx.xssId}`);
    await page.getByRole('alert').filter({hasText: /no learnware|not found/i}).waitFor();
  });

  step('raised no uncaught page errors', async () => {
    assert.deepEqual(pageErrors, []);
    assert.equal(await xssFired(), undefined);
  });
});

describe('search across feature spaces and kinds of specification', {timeout: 120000}, () => {
  let dir;
  let shots;
  let server;
  let browser;
  let page;
  let failed = false;
  const pageErrors = [];
  const searches = []; // the POST /api/v1/search requests, with their bodies
  const fx = {};

  before(async () => {
    dir = tmpDir();
    shots = process.env.LW_BROWSER_SHOTS || path.join(dir, 'shots');
    fs.mkdirSync(shots, {recursive: true});
    Object.assign(fx, makeHeteroDock(dir));
    fx.text = makeTextRkme(dir, 'user_text', ['the quick brown fox', 'jumps over the lazy dog', 'a learnware dock']);
    server = await startServer(dir, ADMIN);
    browser = await launchBrowser();
    page = await (await browser.newContext({viewport: {width: 1280, height: 900}})).newPage();
    page.setDefaultTimeout(15000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Routed (and let through) so that a multipart body's fields can be read.
    await page.route((url) => url.pathname === '/api/v1/search', (route) => {
      if (route.request().method() === 'POST') searches.push(route.request().postData() || '');
      return route.continue();
    });
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
    if (failed || process.env.LW_BROWSER_KEEP) console.log(`# browser test files kept in ${dir} (screenshots in ${shots})`);
    else if (dir) fs.rmSync(dir, {recursive: true, force: true});
  });

  const shot = (name) => page.screenshot({path: path.join(shots, `${name}.png`), fullPage: true});
  const step = (name, fn) => it(name, async (t) => {
    if (failed) return t.skip('an earlier step failed');
    try {
      await fn();
    } catch (err) {
      failed = true;
      if (page) await shot(`FAILED-${name.replace(/\W+/g, '-')}`).catch(() => {});
      throw err;
    }
  });
  const describeBox = () => page.getByLabel('Describe your columns');
  const search = () => page.getByRole('button', {name: 'Search', exact: true}).click();
  const featureLines = (k) => Array.from({length: k}, (_, i) => `feature ${i}`).join('\n');

  step('refuses column descriptions of the wrong count in the form, sending nothing', async () => {
    await page.goto(`${server.url}/#/search`);
    await page.locator('.result').first().waitFor(); // the initial listing
    assert.ok(await describeBox().isHidden(), 'no descriptions without an RKME file');
    await page.getByLabel('RKME specification (JSON)').setInputFiles(fx.userRkme);
    await describeBox().waitFor();
    await page.locator('.describe-columns .hint', {hasText: 'has 5 columns'}).waitFor();
    await describeBox().fill(featureLines(4));
    const before = searches.length;
    await search();
    await page.locator('.describe-columns').getByRole('alert')
      .filter({hasText: 'You described 4 columns, but “user5.json” has 5'}).waitFor();
    assert.equal(searches.length, before, 'no search request for a wrong count');
    await shot('search-describe-wrong');
  });

  step('finds learnwares of other feature spaces through the heterogeneous map', async () => {
    await describeBox().fill(featureLines(5));
    const before = searches.length;
    await search();
    const other = page.getByRole('region', {name: 'Learnwares of other feature spaces'});
    await other.waitFor();
    assert.equal(searches.length, before + 1);
    // multipart: the semantic field carries the RKME's dimension and one description per line
    const m = /name="semantic"\r?\n\r?\n(\{.*?\})\r?\n--/s.exec(searches.at(-1));
    assert.ok(m, `a semantic field in ${searches.at(-1)}`);
    assert.deepEqual(JSON.parse(m[1]).Input, {Dimension: 5,
      Description: {0: 'feature 0', 1: 'feature 1', 2: 'feature 2', 3: 'feature 3', 4: 'feature 4'}});
    // none of the dock's learnwares has the user's 5 columns; all 20 are compared in the shared space
    await page.locator('.summary', {hasText: /^0 learnwares ranked by how well their data match your table specification “user5\.json”/}).waitFor();
    assert.match(await other.locator('.summary').textContent(), /learnwares? of other feature spaces ranked \(20 compared\)/);
    assert.match(await other.textContent(), /trained on tables with other columns.*learnware reuse --input-desc/s);
    const results = other.locator('.result');
    assert.ok(await results.count() >= 1);
    assert.match(await results.first().locator('a.result-name').getAttribute('href'), /^#\/learnware\/\d{8}$/);
    assert.match(await results.first().locator('.score-value').textContent(), /^score \d/);
    assert.match(await results.first().locator('.mmd').textContent(), /^MMD² \d/);
    const weights = (await other.locator('.mixture .weight-value').allTextContents()).map(Number);
    assert.ok(weights.length >= 1 && Math.abs(weights.reduce((s, w) => s + w, 0) - 1) < 0.01, `weights ${weights}`);
    assert.doesNotMatch(await page.locator('.results').textContent(), /\b(null|undefined|NaN)\b/);
    await shot('search-heterogeneous');
  });

  step('searches with a text specification and says so', async () => {
    await page.getByLabel('RKME specification (JSON)').setInputFiles(fx.text);
    await page.locator('.describe-columns .hint', {hasText: 'table specifications only'}).waitFor();
    assert.ok(await describeBox().isDisabled());
    const before = searches.length;
    await search();
    await page.locator('.summary', {hasText: /ranked by how well their data match your text specification “user_text\.json”/}).waitFor();
    assert.equal(searches.length, before + 1);
    assert.match(searches.at(-1), /name="semantic"/);
    assert.ok(!searches.at(-1).includes('"Input"'), 'no column descriptions with a text specification');
    assert.equal(await page.getByRole('region', {name: 'Learnwares of other feature spaces'}).count(), 0);
  });

  step('raised no uncaught page errors', async () => {
    assert.deepEqual(pageErrors, []);
  });
});
