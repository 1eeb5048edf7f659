// The UI's pure modules in Chromium, without a dock: the safe Markdown
// renderer against injection strings, PCA by power iteration, and the
// specification picture.  web/ is served by a small static server here.
import {describe, it, before, after} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import {repo, launchBrowser} from './helpers.mjs';

const web = path.join(repo, 'web');
const TYPES = {'.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html'};

describe('web UI modules', {timeout: 120000}, () => {
  let server;
  let browser;
  let page;
  let base;

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname === '/blank.html') {
        res.writeHead(200, {'Content-Type': 'text/html'});
        return res.end('<!doctype html><meta charset="utf-8"><title>t</title><body><div id="out"></div>');
      }
      const file = path.join(web, path.normalize(url.pathname));
      if (!file.startsWith(web + path.sep) || !fs.existsSync(file)) {
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200, {'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream'});
      res.end(fs.readFileSync(file));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${server.address().port}`;
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(`${base}/blank.html`);
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) server.close();
  });

  // Render Markdown into #out; answer the HTML the browser serialises and facts.
  const md = (source) => page.evaluate(async (src) => {
    const {renderMarkdown} = await import('/js/markdown.js');
    const out = document.getElementById('out');
    out.replaceChildren(renderMarkdown(src));
    const all = [...out.querySelectorAll('*')];
    return {
      html: out.innerHTML,
      text: out.textContent,
      tags: all.map((e) => e.tagName.toLowerCase()),
      links: [...out.querySelectorAll('a')].map((a) => a.getAttribute('href')),
      attrs: [...new Set(all.flatMap((e) => [...e.attributes].map((a) => a.name)))].sort(),
      xss: window.__xss,
    };
  }, source);

  it('renders HTML in the source as text', async () => {
    const hostile = [
      '<img src=x onerror=window.__xss=1>',
      '<script>window.__xss=2</script>',
      '"><svg onload=window.__xss=3>',
      '<a href="javascript:window.__xss=4">x</a>',
      '**<img src=x onerror=window.__xss=5>**',
      '`<img src=x onerror=window.__xss=6>`',
      '```\n<img src=x onerror=window.__xss=7>\n```',
      '# <img src=x onerror=window.__xss=8>',
      '- <iframe src="javascript:window.__xss=9">',
      '&lt;img src=x onerror=window.__xss=10&gt;',
    ];
    for (const src of hostile) {
      const r = await md(src);
      assert.deepEqual(r.tags.filter((t) => !['p', 'strong', 'code', 'pre', 'h2', 'ul', 'li'].includes(t)), [], src);
      assert.ok(!r.attrs.some((a) => a.startsWith('on') || a === 'src'), `${src}: ${r.attrs}`);
      assert.equal(r.xss, undefined, src);
    }
    const r = await md('a <b>b</b> & c');
    assert.equal(r.text, 'a <b>b</b> & c');
    assert.equal(r.html, '<p>a &lt;b&gt;b&lt;/b&gt; &amp; c</p>');
  });

  it('makes links only for http(s) URLs', async () => {
    const bad = ['javascript:window.__xss=1', 'JavaScript:window.__xss=1', 'data:text/html,<script>1</script>',
      'vbscript:msgbox', '//evil.example/x', '/relative', 'ftp://example.org/f', 'java\tscript:alert(1)'];
    for (const url of bad) {
      const r = await md(`[label](${url})`);
      assert.deepEqual(r.links, [], url);
      assert.ok(r.text.includes('label'), url);
    }
    let r = await md('[the docs](https://example.org/a?b=1&c=2) and <http://example.org>');
    assert.deepEqual(r.links, ['https://example.org/a?b=1&c=2', 'http://example.org']);
    assert.ok(!r.text.includes('<'));
    r = await md('see https://example.org/path. and more');
    assert.deepEqual(r.links, ['https://example.org/path']);
    r = await md('[x](https://example.org/"onmouseover="window.__xss=1)');
    assert.ok(!r.attrs.includes('onmouseover'));
    r = await md('[**bold** link](https://example.org)');
    assert.equal(r.html, '<p><a href="https://example.org" rel="nofollow noopener noreferrer" target="_blank"><strong>bold</strong> link</a></p>');
  });

  it('renders headings, paragraphs, lists, code and emphasis', async () => {
    const r = await md('# Title\n\nSome *em*, _em_, **strong**, __strong__ and `a < b`.\nSame paragraph.\n\n' +
      '- one\n- two\n  continued\n\n3. three\n4. four\n\n```js\nlet x = 1 < 2;\n```\n\n> quoted\n\n---\n\nsnake_case_name stays');
    assert.equal(r.html, [
      '<h2>Title</h2>',
      '<p>Some <em>em</em>, <em>em</em>, <strong>strong</strong>, <strong>strong</strong> and <code>a &lt; b</code>. Same paragraph.</p>',
      '<ul><li>one</li><li>two continued</li></ul>',
      '<ol start="3"><li>three</li><li>four</li></ol>',
      '<pre><code class="language-js">let x = 1 &lt; 2;</code></pre>',
      '<blockquote><p>quoted</p></blockquote>',
      '<hr>',
      '<p>snake_case_name stays</p>',
    ].join(''));
  });

  it('projects points with PCA by power iteration', async () => {
    const r = await page.evaluate(async () => {
      const {pca2} = await import('/js/pca.js');
      // points on a line in 5-D, plus a smaller spread on a second direction
      const pts = [];
      for (let i = 0; i < 50; i++) {
        const t = i - 25;
        const s = (i % 5) - 2;
        pts.push([t, 2 * t + s, 3, -t + 2 * s, 0.5 * s].map((v) => v + 10));
      }
      const {coords, variance} = pca2(pts);
      // the projection keeps distances along the first axis: the line's parameter up to scale and sign
      const ratio = coords.map((c, i) => c[0] / (i - 25 || 1));
      const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
      return {variance, first: coords[0], n: coords.length,
        corr: Math.abs(mean(coords.map((c, i) => c[0] * (i - 25))) / Math.sqrt(mean(coords.map((c) => c[0] ** 2)) * mean(coords.map((c, i) => (i - 25) ** 2)))),
        ratio: ratio.length, centred: Math.abs(mean(coords.map((c) => c[0]))) + Math.abs(mean(coords.map((c) => c[1]))),
        one: pca2([[1, 2], [1, 2]]), empty: pca2([]), oneDim: pca2([[1], [2], [4]])};
    });
    assert.equal(r.n, 50);
    assert.ok(r.variance[0] > 0.95 && r.variance[0] + r.variance[1] > 0.999, `${r.variance}`);
    assert.ok(r.corr > 0.99, `correlation ${r.corr}`);
    assert.ok(r.centred < 1e-9);
    assert.deepEqual(r.one.coords, [[0, 0], [0, 0]]);
    assert.deepEqual(r.empty.coords, []);
    assert.equal(r.oneDim.coords.length, 3);
    assert.ok(r.oneDim.coords.every((c) => c[1] === 0));
  });

  it('draws the specification with circle areas proportional to beta', async () => {
    const r = await page.evaluate(async () => {
      const {specScatter} = await import('/js/charts.js');
      const z = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]];
      const fig = specScatter({type: 'RKMETableSpecification', gamma: 0.1, z, beta: [0.4, 0.1, 0.1, 0.4]});
      document.getElementById('out').replaceChildren(fig);
      const circles = [...fig.querySelectorAll('circle.point')];
      return circles.map((c) => [Number(c.getAttribute('r')), c.querySelector('title').textContent]);
    });
    assert.equal(r.length, 4);
    const byBeta = Object.fromEntries(r.map(([radius, title]) => [title.match(/point (\d)/)[1], radius]));
    assert.ok(Math.abs((byBeta[0] / byBeta[1]) ** 2 - 4) < 0.05, JSON.stringify(byBeta));
    assert.ok(Math.abs(byBeta[0] - byBeta[3]) < 1e-9);
  });
});
