// The console in a real browser (issue 15): starts the real `spotcheck serve` on a fresh data
// folder and a free loopback port, and walks a whole month through the pages in Debian's Chromium
// on data/sample — sign in, upload the four tables, look at the rejects, score (progress page),
// look at the month's summary, announce a seed, draw, download the Excel and check its rows; an
// inspector of a drawn team signs in, sees their tasks and enters one result through the form;
// the analyst sees it counted, uploads the rest and sees the estimates with their charts; build
// the positive list, read the audit log, sign out — then, as an anonymous visitor, opens the
// published pages and verifies the draw. Fails on any console error, page error, request to a host other than the loopback, or a
// page wider than the 1366×768 window. Screenshots of every page go to target/screenshots/.
//
// Run: cargo build && cd tests/browser && npm ci && node --test
// Environment: SPOTCHECK_BIN (default ../../target/debug/spotcheck), CHROMIUM (default
// /usr/bin/chromium).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const bin = process.env.SPOTCHECK_BIN || join(root, 'target', 'debug', 'spotcheck');
const shots = join(root, 'target', 'screenshots');
const sample = join(root, 'data', 'sample');
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });

const data = mkdtempSync(join(tmpdir(), 'spotcheck-console-'));
let server;
let browser;
after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  rmSync(data, { recursive: true, force: true });
});

/** `spotcheck users add NAME --role ROLE`: the printed password. */
function addUser(name, role) {
  const out = execFileSync(bin, ['users', 'add', name, '--role', role, '--data', data], { encoding: 'utf8' });
  const m = out.match(/^password: (\S+)$/m);
  assert.ok(m, `users add printed no password: ${out}`);
  return m[1];
}

/** Starts the server on a free loopback port; resolves to its base URL. */
function startServer() {
  return new Promise((resolveUrl, reject) => {
    server = spawn(bin, ['serve', '--data', data, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    server.stdout.on('data', (b) => {
      out += b;
      const m = out.match(/http:\/\/(127\.0\.0\.1:\d+)\//);
      if (m) resolveUrl(`http://${m[1]}`);
    });
    server.stderr.on('data', (b) => { err += b; });
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error(`server did not start: ${out} ${err}`)), 30000);
  });
}

/** The rows of the first worksheet of an .xlsx (a zip), read with node's zlib alone. */
function xlsxSheetRows(buf) {
  // End of central directory: the last 0x06054b50 signature.
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'not a zip file');
  const entries = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = {};
  for (let i = 0; i < entries; i++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const lStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(lStart, lStart + size);
    files[name] = method === 8 ? inflateRawSync(raw) : raw;
    p += 46 + nameLen + extraLen + commentLen;
  }
  const sheet = files['xl/worksheets/sheet1.xml'];
  assert.ok(sheet, `no first worksheet among ${Object.keys(files)}`);
  const shared = (files['xl/sharedStrings.xml'] || Buffer.from('')).toString('utf8');
  const strings = [...shared.matchAll(/<si>(.*?)<\/si>/gs)].map((m) => m[1].replace(/<[^>]+>/g, ''));
  const rows = [...sheet.toString('utf8').matchAll(/<row[^>]*>(.*?)<\/row>/gs)].map((r) =>
    [...r[1].matchAll(/<c([^>]*?)(?:\/>|>(.*?)<\/c>)/gs)].map((c) => {
      const v = (c[2] || '').match(/<v>(.*?)<\/v>/s);
      const t = (c[2] || '').match(/<t[^>]*>(.*?)<\/t>/s);
      if (/t="s"/.test(c[1]) && v) return strings[Number(v[1])];
      return t ? t[1] : v ? v[1] : '';
    }));
  return rows;
}

test('a whole month through the console, then an anonymous verification', { timeout: 300000 }, async () => {
  const analystPw = addUser('ana', 'analyst');
  const adminPw = addUser('root', 'admin');
  const base = await startServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });

  const problems = [];
  let allowedStatus = null; // an error status a step expects the document to answer
  let n = 0;
  const newContext = async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true, locale: 'zh-CN' });
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === '127.0.0.1' || u.hostname === 'localhost') return route.continue();
      problems.push(`request left the machine: ${u.href}`);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (allowedStatus && m.text().includes(`status of ${allowedStatus}`)) return;
      problems.push(`console error on ${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
    page.on('requestfailed', (r) => {
      const f = r.failure()?.errorText || '';
      if (!f.includes('ERR_ABORTED')) problems.push(`request failed: ${r.url()} ${f}`);
    });
    return { context, page };
  };
  /** Screenshot and the 1366-px check for the page as it is now. */
  const look = async (page, name) => {
    n += 1;
    await page.screenshot({ path: join(shots, `${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
    const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(sw <= iw, `${name}: the page is ${sw} px wide in a ${iw} px window`);
    // Every visible input has a label.
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input:not([type=hidden]), select')]
        .filter((e) => !(e.labels && e.labels.length))
        .map((e) => e.name || e.id));
    assert.deepEqual(unlabelled, [], `${name}: inputs without a label`);
  };

  const { context, page } = await newContext();

  // Signed out, a month page sends to the sign-in page, in Chinese.
  await page.goto(`${base}/months/2026-12`);
  assert.match(page.url(), /\/signin\?next=%2Fmonths%2F2026-12|\/signin\?next=\/months\/2026-12/);
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
  await look(page, 'signin');

  // A wrong password: the error beside the field and in the summary, in Chinese.
  await page.fill('#name', 'ana');
  await page.fill('#password', 'not-the-password');
  allowedStatus = 401;
  await page.click('button[type=submit]');
  await page.waitForSelector('.error-summary');
  allowedStatus = null;
  assert.match(await page.locator('#password-error').innerText(), /用户名或密码不正确/);
  await look(page, 'signin-error');

  await page.fill('#name', 'ana');
  await page.fill('#password', analystPw);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/months/2026-12`);
  assert.match(await page.locator('h1').innerText(), /2026-12/);
  await look(page, 'month-empty');

  // Upload the four sample tables.
  const acceptedOf = {};
  for (const kind of ['enterprises', 'emissions', 'history', 'inspectors']) {
    await page.goto(`${base}/months/2026-12`);
    await page.setInputFiles(`#file-${kind}`, join(sample, `${kind}.csv`));
    await page.locator(`form[action="/months/2026-12/inputs/${kind}"] button`).click();
    await page.waitForURL(`${base}/months/2026-12/inputs/${kind}`);
    const read = Number(await page.locator('#read').innerText());
    const accepted = Number(await page.locator('#accepted').innerText());
    const rejected = Number(await page.locator('#rejected').innerText());
    assert.ok(read > 0, `${kind}: read ${read}`);
    assert.equal(read, accepted + rejected, `${kind}: read = accepted + rejected`);
    acceptedOf[kind] = accepted;
    if (kind === 'enterprises') await look(page, 'upload-enterprises');
  }

  // A table with bad rows: the rejects as a table with row, column, value and reason.
  const bad = join(data, 'bad-enterprises.csv');
  const header = readFileSync(join(sample, 'enterprises.csv'), 'utf8').split('\n')[0];
  const good = readFileSync(join(sample, 'enterprises.csv'), 'utf8').split('\n')[1];
  const broken = good.replace(/^[^,]+/, 'NOT-A-USCC');
  (await import('node:fs')).writeFileSync(bad, `${header}\n${broken}\n`);
  await page.goto(`${base}/months/2026-11`);
  await page.setInputFiles('#file-enterprises', bad);
  await page.locator('form[action="/months/2026-11/inputs/enterprises"] button').click();
  await page.waitForURL(`${base}/months/2026-11/inputs/enterprises`);
  assert.equal(await page.locator('#rejected').innerText(), '1');
  const rejectsText = await page.locator('table').innerText();
  assert.match(rejectsText, /NOT-A-USCC/);
  assert.match(rejectsText, /row/);
  await look(page, 'rejects');
  const [rejDl] = await Promise.all([page.waitForEvent('download'), page.click('a[download]')]);
  assert.match(readFileSync(await rejDl.path(), 'utf8'), /NOT-A-USCC/);

  // Score: the progress page until done.
  await page.goto(`${base}/months/2026-12`);
  await page.click('#score');
  await page.waitForURL(/\/months\/2026-12\/jobs\/\d+/);
  await page.waitForSelector('#job-state[data-state=done]', { timeout: 120000 });
  assert.equal(await page.locator('#progress').getAttribute('value'), '100');
  await look(page, 'score-done');

  // The month page now summarises the scored month by class, tier and district (the report's
  // numbers), in Chinese.
  await page.goto(`${base}/months/2026-12`);
  assert.equal(Number(await page.locator('#summary-enterprises').innerText()), acceptedOf.enterprises);
  const classCounts = await page.locator('#summary-class tbody tr td:nth-child(2)').allInnerTexts();
  assert.equal(classCounts.length, 4, 'four credit classes');
  assert.equal(classCounts.reduce((a, b) => a + Number(b), 0), acceptedOf.enterprises, 'the classes add up');
  const tierCounts = await page.locator('#summary-tier tbody tr td:nth-child(2)').allInnerTexts();
  assert.equal(tierCounts.reduce((a, b) => a + Number(b), 0), acceptedOf.enterprises, 'the tiers add up');
  const districtTotal = await page.locator('#summary-district tr.total td:nth-child(3)').innerText();
  assert.equal(Number(districtTotal), acceptedOf.enterprises, 'the districts add up');
  assert.match(await page.locator('#summary h2').innerText(), /评分概况/);
  await look(page, 'month-summary');

  // Look an enterprise up: the library's explanation, in Chinese.
  const someUscc = good.split(',')[0];
  await page.goto(`${base}/months/2026-12`);
  await page.fill('#uscc', someUscc);
  await page.click('#lookup button');
  await page.waitForURL(new RegExp(`/months/2026-12/enterprises\\?uscc=${someUscc}`));
  const explained = await page.locator('#explain').innerText();
  assert.ok(explained.includes(someUscc), explained);
  assert.match(explained, /信用/);
  await look(page, 'explain');

  // Announce the seed, draw.
  await page.goto(`${base}/months/2026-12`);
  await page.selectOption('#seed-department', 'market');
  await page.fill('#seed', '2026-12 福彩 03 11 17 22 28 31 + 09');
  await page.click('form[action="/months/2026-12/seeds"] button');
  await page.waitForURL(`${base}/months/2026-12#seeds`);
  assert.match(await page.locator('#seeds table').innerText(), /福彩/);
  await page.selectOption('#draw-department', 'market');
  await page.click('form[action="/months/2026-12/draws"] button');
  await page.waitForURL(`${base}/months/2026-12/draws/market`);
  const visits = Number(await page.locator('#visits').innerText());
  assert.ok(visits > 0, `visits ${visits}`);
  const sampleRows = await page.locator('table tbody tr').count();
  assert.equal(sampleRows, Math.min(visits, 500));
  await look(page, 'draw');

  // The Excel for the teams: one row per visit under a header.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-xlsx')]);
  assert.match(dl.suggestedFilename(), /sample-2026-12-market\.xlsx/);
  const rows = xlsxSheetRows(readFileSync(await dl.path()));
  assert.equal(rows.length, visits + 1, 'the Excel has a header and one row per visit');
  const firstUscc = (await page.locator('table tbody tr').first().innerText());
  assert.ok(rows.slice(1).some((r) => r.some((c) => firstUscc.includes(c) && c.length === 18)), 'the Excel holds the page\'s first enterprise');

  // An inspector of a drawn team signs in (their inspector_id is their user name), sees only
  // their team's tasks, enters one enterprise's result through the form, and sees it counted.
  const icol = rows[0].indexOf('inspectors');
  assert.ok(icol >= 0, `no inspectors column in ${rows[0]}`);
  const inspectorId = rows[1][icol].split(';')[0];
  assert.match(inspectorId, /\S/, 'the first task has a team');
  const inspectorPw = addUser(inspectorId, 'inspector');
  const insp = await newContext();
  await insp.page.goto(`${base}/signin`);
  await insp.page.fill('#name', inspectorId);
  await insp.page.fill('#password', inspectorPw);
  await insp.page.click('main button[type=submit]');
  await insp.page.waitForURL(`${base}/tasks`);
  const total = Number(await insp.page.locator('#tasks-total').innerText());
  assert.ok(total > 0, 'the inspector has tasks');
  assert.equal(Number(await insp.page.locator('#tasks-done').innerText()), 0);
  const teams = await insp.page.locator('#tasks tbody tr td:nth-child(7)').allInnerTexts();
  assert.equal(teams.length, total);
  assert.ok(teams.every((t) => t.includes(inspectorId)), 'only the inspector\'s own team\'s tasks');
  await look(insp.page, 'tasks');
  // The month's pages are not for inspectors.
  allowedStatus = 403;
  await insp.page.goto(`${base}/months/2026-12`);
  allowedStatus = null;
  assert.match(await insp.page.locator('h1').innerText(), /无权/);
  await insp.page.goto(`${base}/tasks`);
  const taskUscc = await insp.page.locator('#tasks tbody tr td:nth-child(4)').first().innerText();
  await insp.page.locator('#tasks tbody tr a').first().click();
  await insp.page.waitForURL(new RegExp(`/months/2026-12/entries/\\w+/${taskUscc}$`));
  assert.equal(await insp.page.locator('#entry-uscc').innerText(), taskUscc);
  await look(insp.page, 'entry');
  // Without a date: the error beside the field, in Chinese, nothing recorded.
  await insp.page.selectOption('#result', 'problem_corrected');
  allowedStatus = 400;
  await insp.page.click('main form button[type=submit]');
  await insp.page.waitForSelector('.error-summary');
  allowedStatus = null;
  assert.match(await insp.page.locator('#inspected_on-error').innerText(), /请输入检查日期/);
  assert.equal(await insp.page.locator('#result').inputValue(), 'problem_corrected', 'the choice is kept');
  await look(insp.page, 'entry-error');
  await insp.page.fill('#inspected_on', '2026-12-10');
  await insp.page.fill('#note', '现场检查发现问题，已责令改正');
  await insp.page.click('main form button[type=submit]');
  await insp.page.waitForURL(new RegExp(`${base}/tasks#task-`));
  assert.equal(Number(await insp.page.locator('#tasks-done').innerText()), 1, 'the entry is counted');
  assert.match(await insp.page.locator(`#tasks tbody tr:has-text("${taskUscc}") td.result`).first().innerText(), /发现问题经责令已改正/);
  await look(insp.page, 'tasks-entered');
  await insp.context.close();

  // The analyst sees the entry counted in the month's estimates, with the report's charts.
  await page.goto(`${base}/months/2026-12/estimates`);
  assert.equal(Number(await page.locator('#results-rows').innerText()), 1);
  assert.ok(await page.locator('#estimate-charts svg').count() >= 1, 'the estimates page draws a chart');
  await look(page, 'estimates-one-entry');

  // Results for every drawn enterprise (one in three with a problem), then the estimates.
  const ucol = rows[0].indexOf('uscc');
  assert.ok(ucol >= 0, `no uscc column in ${rows[0]}`);
  const resultsCsv = ['uscc,month,department,inspected_on,result',
    ...rows.slice(1).map((r, i) => `${r[ucol]},2026-12,market,2026-12-15,${i % 3 === 0 ? 'problem_pending' : 'no_problem'}`)].join('\n') + '\n';
  const resultsFile = join(data, 'results.csv');
  (await import('node:fs')).writeFileSync(resultsFile, resultsCsv);
  await page.goto(`${base}/months/2026-12`);
  await page.setInputFiles('#file-results', resultsFile);
  await page.click('form[action="/months/2026-12/results"] button');
  await page.waitForURL(`${base}/months/2026-12/estimates`);
  assert.equal(Number(await page.locator('#results-accepted').innerText()), visits);
  assert.equal(Number(await page.locator('#results-rejected').innerText()), 0);
  // The upload merges: every drawn enterprise has a result now (the entered one replaced by the
  // file's later row for it).
  assert.equal(Number(await page.locator('#results-rows').innerText()), visits);
  assert.ok(await page.locator('table tbody tr').count() > 0, 'the estimates table has rows');
  // The report's two charts, inline SVG: the rate with its interval, the lift per credit class.
  assert.equal(await page.locator('#estimate-charts svg').count(), 2);
  assert.match(await page.locator('#estimate-charts').innerHTML(), /置信区间/);
  assert.match(await page.locator('#estimate-charts').innerHTML(), /靶向提升倍数/);
  await look(page, 'estimates');
  const [est] = await Promise.all([page.waitForEvent('download'), page.click('#estimates-xlsx')]);
  assert.ok(xlsxSheetRows(readFileSync(await est.path())).length > 1);

  // A second draw of the same month and department is refused, beside the field.
  await page.goto(`${base}/months/2026-12`);
  await page.selectOption('#draw-department', 'market');
  allowedStatus = 409;
  await page.click('form[action="/months/2026-12/draws"] button');
  await page.waitForSelector('.error-summary');
  allowedStatus = null;
  assert.match(await page.locator('#draw-department-error').innerText(), /已抽取/);
  await look(page, 'month-done');

  // The positive list.
  await page.goto(`${base}/whitelist`);
  await page.fill('#as_of', '2026-12-31');
  await page.click('form[action="/whitelist"] button');
  await page.waitForURL(`${base}/whitelist`);
  assert.ok(Number(await page.locator('#listed').innerText()) >= 0);
  const [wl] = await Promise.all([page.waitForEvent('download'), page.click('#list-xlsx')]);
  assert.ok(xlsxSheetRows(readFileSync(await wl.path())).length >= 1);
  await look(page, 'whitelist');

  // English switch.
  await page.goto(`${base}/months/2026-12?lang=en`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.match(await page.locator('h1').innerText(), /monthly spot check/);
  await look(page, 'month-en');
  await page.goto(`${base}/months?lang=zh`);
  await look(page, 'months');

  // An analyst may not read the audit log; sign out, sign in as admin and read it.
  allowedStatus = 403;
  await page.goto(`${base}/audit`);
  allowedStatus = null;
  assert.match(await page.locator('h1').innerText(), /无权/);
  await page.click('header button.link');
  await page.waitForURL(`${base}/public`);
  await page.goto(`${base}/signin?next=/audit`);
  await page.fill('#name', 'root');
  await page.fill('#password', adminPw);
  await page.click('main button[type=submit]');
  await page.waitForURL(`${base}/audit`);
  const audit = await page.locator('#audit').innerText();
  for (const act of ['login', 'upload enterprises', 'score', 'seed', 'draw', 'result entry', 'results', 'whitelist']) {
    assert.ok(audit.includes(act), `the audit log shows ${act}`);
  }
  assert.match(audit, /failed/);
  await look(page, 'audit');
  await context.close();

  // An anonymous visitor: the published pages and the verification.
  const anon = await newContext();
  await anon.page.goto(`${base}/public`);
  await look(anon.page, 'public');
  assert.match(await anon.page.locator('#draws').innerText(), /2026-12/);
  await anon.page.click('#draws a[href^="/public/draws/"]');
  await anon.page.waitForURL(`${base}/public/draws/2026-12/market`);
  assert.equal(await anon.page.locator('table tbody tr').count(), Math.min(visits, 5000));
  await look(anon.page, 'public-draw');
  await anon.page.goto(`${base}/public`);
  await anon.page.click('#draws a[href^="/public/verify"]');
  await anon.page.waitForSelector('#verdict');
  assert.equal(await anon.page.locator('#verdict').getAttribute('data-verified'), 'true');
  assert.equal(Number(await anon.page.locator('#verified-visits').innerText()), visits);
  await look(anon.page, 'verify');
  await anon.page.goto(`${base}/public/whitelist`);
  await look(anon.page, 'public-whitelist');
  // The anonymous visitor cannot open the month.
  await anon.page.goto(`${base}/months/2026-12`);
  assert.match(anon.page.url(), /\/signin/);
  await anon.context.close();

  assert.deepEqual(problems, [], 'no console error, page error or request leaving the machine');
});
