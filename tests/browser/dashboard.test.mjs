// tests/browser/dashboard.test.mjs — the btest-pro dashboard in a real browser
// (Debian's chromium driven by playwright-core), against a running
// `btest-pro serve --web` that has recorded exactly one finished test from this
// machine. Run by tests/integration/btest_pro_web_browser_test.sh, which starts
// the server and the test; this file only looks.
//
// The truth is always the JSON API (docs/api.md), fetched from the same browser
// context: the chart must draw exactly the recorded intervals, the quota bars
// must carry exactly the API's numbers, other addresses must be refused without
// the admin token and shown with it.
//
// Environment:
//   BASE_URL        http://127.0.0.1:PORT of the dashboard (required)
//   ADMIN_TOKEN     the server's --admin-token (required)
//   SCREENSHOT_DIR  where client.png and admin.png go (default: current dir)
//   EXPECT_SECONDS  length of the recorded test in seconds (default 5)
//   EXPECT_PROTO    tcp or udp (default tcp)
//   EXPECT_BPS      the -b cap in bits/s; each full second must be within
//                   ±25 % of it (0 or unset: magnitudes are not checked)
//
// Output: one line per check ("ok   ..." or "FAIL ...: why"), then
// "N passed, M failed". Exit 0 only when nothing failed. Every wait has a
// timeout and the whole run is cut off after 60 s.
import fs from 'node:fs';
import path from 'node:path';
import {chromium} from 'playwright-core';

const kWaitMs = 20000;   // longest single wait
const kTotalMs = 60000;  // the whole test
const kOtherIp = '10.1.2.3';

const BASE = (process.env.BASE_URL || '').replace(/\/+$/, '');
const TOKEN = process.env.ADMIN_TOKEN || '';
const SHOTS = process.env.SCREENSHOT_DIR || '.';
const SECONDS = Number(process.env.EXPECT_SECONDS || 5);
const PROTO = (process.env.EXPECT_PROTO || 'tcp').toLowerCase();
const EXPECT_BPS = Number(process.env.EXPECT_BPS || 0);

let passed = 0;
let failed = 0;

function ok(name) {
  passed += 1;
  console.log(`ok   ${name}`);
}

function fail(name, why) {
  failed += 1;
  const line = String(why === undefined ? '' : why).split('\n')[0];
  console.log(`FAIL ${name}${line ? `: ${line}` : ''}`);
}

function check(name, cond, why) {
  if (cond) {
    ok(name);
  } else {
    fail(name, why);
  }
  return !!cond;
}

function summary() {
  console.log(`${passed} passed, ${failed} failed`);
}

// Run one group of checks; an exception (a timed-out wait, a closed page)
// fails the group with its first line and the run goes on.
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    fail(name, e && e.message ? e.message : e);
  }
}

if (!BASE || !TOKEN) {
  console.log('FAIL setup: BASE_URL and ADMIN_TOKEN must be set');
  process.exit(2);
}

const watchdog = setTimeout(() => {
  fail('whole test', `did not finish within ${kTotalMs / 1000} s`);
  summary();
  process.exit(1);
}, kTotalMs);
watchdog.unref();

const enc = encodeURIComponent;

// GET through a browser context's request API (shares the context's cookies).
async function getJson(request, urlPath, headers) {
  const r = await request.get(BASE + urlPath, {timeout: kWaitMs, headers: headers || {}, failOnStatusCode: false});
  let body = null;
  try {
    body = await r.json();
  } catch (e) {
    body = null;
  }
  return {status: r.status(), body, headers: r.headers()};
}

// Points of the chart on screen, by series.
async function chartPoints(page) {
  const pts = await page.$$eval('#chart svg circle.pt', (els) => els.map((e) => ({
                                                                           cls: e.getAttribute('class') || '',
                                                                           second: e.getAttribute('data-second'),
                                                                           value: e.getAttribute('data-value'),
                                                                         })));
  const bySeries = {};
  for (const p of pts) {
    const series = p.cls.split(/\s+/).find((c) => c === 'in' || c === 'out' || c === 'lost');
    if (series) {
      (bySeries[series] = bySeries[series] || []).push(p);
    }
  }
  return bySeries;
}

// The quota bars of the page as {window/dir: {used, limit, ratio}}; ratio is
// the drawn fill width over the bar width.
async function quotaBars(page) {
  return page.$$eval('.quota-bar[data-window]', (bars) => bars.map((b) => {
    const fill = b.querySelector('.quota-fill');
    const track = b.getBoundingClientRect().width;
    return {
      window: b.getAttribute('data-window'),
      dir: b.getAttribute('data-dir'),
      used: b.getAttribute('data-used'),
      limit: b.getAttribute('data-limit'),
      ratio: fill && track > 0 ? fill.getBoundingClientRect().width / track : -1,
    };
  }));
}

// Which bars the page must draw for one window of /quota (see ip.html's rule).
function expectedBars(w) {
  const limit = w.limit || {};
  if (Number(limit.total) > 0) {
    return ['total'];
  }
  const dirs = ['in', 'out'].filter((d) => Number(limit[d]) > 0);
  return dirs.length ? dirs : ['total'];
}

// Compare the page's bars with one /quota answer; returns the first mismatch
// or '' when all agree.
function quotaMismatch(bars, quota) {
  for (const name of ['day', 'week', 'month']) {
    const w = quota.windows && quota.windows[name];
    if (!w) {
      return `the API has no "${name}" window`;
    }
    for (const dir of expectedBars(w)) {
      const bar = bars.find((b) => b.window === name && b.dir === dir);
      if (!bar) {
        return `no bar data-window="${name}" data-dir="${dir}"`;
      }
      const used = String(w.used[dir]);
      const limit = String(w.limit[dir]);
      if (bar.used !== used || bar.limit !== limit) {
        return `${name}/${dir}: page used=${bar.used} limit=${bar.limit}, API used=${used} limit=${limit}`;
      }
      if (Number(limit) > 0) {
        const want = Math.min(1, Number(used) / Number(limit));
        if (Math.abs(bar.ratio - want) > 0.01) {
          return `${name}/${dir}: bar is ${(bar.ratio * 100).toFixed(2)} % full, used/limit is ${
              (want * 100).toFixed(2)} %`;
        }
      }
    }
  }
  return '';
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  fs.mkdirSync(SHOTS, {recursive: true});
  const browser =
      await chromium.launch({executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], timeout: kWaitMs});
  try {
    await clientChecks(browser);
    await refusalChecks(browser);
    await adminChecks(browser);
  } finally {
    await browser.close().catch(() => {});
  }
}

function newPage(context) {
  return context.newPage().then((page) => {
    page.setDefaultTimeout(kWaitMs);
    page.setDefaultNavigationTimeout(kWaitMs);
    page.jsErrors = [];
    page.on('pageerror', (e) => page.jsErrors.push(e.message));
    return page;
  });
}

// ------------------------------------------------------------------ /me

async function clientChecks(browser) {
  const context = await browser.newContext({viewport: {width: 1200, height: 900}});
  const page = await newPage(context);
  const req = page.request;

  const server = await getJson(req, '/api/v1/server');
  if (!check(
          'GET /api/v1/server answers 200 with your_ip', server.status === 200 && server.body && server.body.your_ip,
          `status ${server.status}`)) {
    return;
  }
  const ip = server.body.your_ip;
  // The writer records the end of the test within about a second: wait
  // (bounded) until the newest session is no longer running.
  let list;
  let sessions = [];
  for (let attempt = 0; attempt < 20; attempt += 1) {
    list = await getJson(req, `/api/v1/ip/${enc(ip)}/sessions?limit=20`);
    sessions = (list.body && list.body.sessions) || [];
    if (list.status !== 200 || (sessions.length && sessions[0].status !== 'running')) break;
    await sleep(500);
  }
  if (!check(
          `the API lists the recorded test of ${ip}`, list.status === 200 && sessions.length >= 1,
          `status ${list.status}, ${sessions.length} sessions`)) {
    return;
  }
  const newest = sessions[0];
  check(
      `the newest session is ${PROTO}, finished ok`, newest.proto === PROTO && newest.status === 'ok',
      `proto ${newest.proto}, status ${newest.status}`);
  const ivRes = await getJson(req, `/api/v1/sessions/${newest.id}/intervals`);
  const intervals = (ivRes.body && ivRes.body.intervals) || [];
  check(
      `session ${newest.id} has ${SECONDS} (or ${SECONDS + 1}) intervals`,
      ivRes.status === 200 && (intervals.length === SECONDS || intervals.length === SECONDS + 1),
      `status ${ivRes.status}, ${intervals.length} intervals`);
  check(
      'the intervals count seconds 0..n-1 in order', intervals.every((iv, i) => iv.second === i),
      `seconds ${intervals.map((iv) => iv.second).join(',')}`);
  // The chart draws every interval that is not "partial" (a tail shorter than
  // 500 ms, docs/api.md); those must be EXPECT_SECONDS, or one more.
  const drawn = intervals.filter((iv) => !iv.partial);
  const n = drawn.length;
  check(
      `${SECONDS} (or ${SECONDS + 1}) intervals are not partial`, n === SECONDS || n === SECONDS + 1,
      `${n} of ${intervals.length} not partial`);
  const bySecond = new Map(drawn.map((iv) => [iv.second, iv]));

  await step('/me shows the sessions', async () => {
    const resp = await page.goto(`${BASE}/me`);
    check('GET /me answers 200', resp && resp.status() === 200, `status ${resp && resp.status()}`);
    await page.waitForSelector('#sessions-table tr[data-session-id]');
    const ids = await page.$$eval(
        '#sessions-table tr[data-session-id]', (rows) => rows.map((r) => Number(r.getAttribute('data-session-id'))));
    const want = sessions.map((s) => s.id);
    check(
        '/me lists the API\'s sessions, newest first', JSON.stringify(ids) === JSON.stringify(want),
        `page ${JSON.stringify(ids)}, API ${JSON.stringify(want)}`);
    const rowText = await page.textContent(`#sessions-table tr[data-session-id="${newest.id}"]`);
    check(
        'the newest row names its protocol and status',
        rowText.toUpperCase().includes(PROTO.toUpperCase()) && rowText.includes(newest.status),
        `row text "${rowText.replace(/\s+/g, ' ').trim()}"`);
  });

  await step('the newest session\'s chart', async () => {
    await page.click(`#sessions-table tr[data-session-id="${newest.id}"]`);
    await page.waitForFunction((id) => {
      const box = document.getElementById('chart');
      return box && box.dataset.sessionId === String(id) && box.querySelector('svg circle.pt');
    }, newest.id, {timeout: kWaitMs});
    const series = await chartPoints(page);
    const wanted = [];
    if (newest.direction === 'transmit' || newest.direction === 'both') wanted.push('in');
    if (newest.direction === 'receive' || newest.direction === 'both') wanted.push('out');
    if (newest.proto === 'udp') wanted.push('lost');
    check(
        `the chart draws the series ${wanted.join('+')}`, wanted.every((s) => series[s]),
        `drawn: ${Object.keys(series).join('+') || 'none'}`);
    for (const [name, pts] of Object.entries(series)) {
      check(`chart series "${name}" has one point per drawn interval (${n})`, pts.length === n, `${pts.length} points`);
      const seconds = pts.map((p) => Number(p.second)).sort((a, b) => a - b);
      const want = drawn.map((iv) => iv.second);
      check(
          `chart series "${name}" has one point for each of seconds ${want.join(',')}`,
          JSON.stringify(seconds) === JSON.stringify(want), `chart seconds ${seconds.join(',')}`);
      const field = name === 'lost' ? 'lost' : `bps_${name}`;
      const wrong = pts.find((p) => {
        const iv = bySecond.get(Number(p.second));
        return !iv || Math.abs(Number(p.value) - Number(iv[field])) > 0.5;
      });
      const apiValue = (p) => (bySecond.get(Number(p.second)) || {})[field];
      check(
          `chart series "${name}" values equal the API's ${field}`, !wrong,
          wrong && `second ${wrong.second}: chart ${wrong.value}, API ${apiValue(wrong)}`);
      if (EXPECT_BPS > 0 && name !== 'lost') {
        // Full seconds only (an extra last interval is shorter).
        const full = pts.filter((p) => {
          const iv = bySecond.get(Number(p.second));
          return iv && (iv.duration_ms === undefined ? Number(p.second) < SECONDS : iv.duration_ms >= 1000);
        });
        const off = full.find((p) => Math.abs(Number(p.value) - EXPECT_BPS) > 0.25 * EXPECT_BPS);
        check(
            `chart series "${name}" full seconds are within ±25 % of ${EXPECT_BPS} bps`, full.length > 0 && !off,
            off ? `second ${off.second}: ${off.value} bps` : 'no full second drawn');
      }
    }
    const links = await page.$$eval(
        '#session-export-json, #session-export-csv, #ip-export-json, #ip-export-csv',
        (as) => as.map((a) => a.getAttribute('href')));
    const wantLinks = [
      `/api/v1/sessions/${newest.id}/export?format=json`, `/api/v1/sessions/${newest.id}/export?format=csv`,
      `/api/v1/ip/${enc(ip)}/export?format=json`, `/api/v1/ip/${enc(ip)}/export?format=csv`
    ];
    check(
        'the export links point at the session\'s and the IP\'s exports',
        JSON.stringify(links) === JSON.stringify(wantLinks), `links ${JSON.stringify(links)}`);
    const exp = await getJson(req, wantLinks[0]);
    check(
        'the session export (json) has the intervals',
        exp.status === 200 && exp.body && Array.isArray(exp.body.intervals) &&
            exp.body.intervals.length === intervals.length,
        `status ${exp.status}`);
    const csv = await req.get(BASE + wantLinks[3], {timeout: kWaitMs, failOnStatusCode: false});
    check(
        'the IP export (csv) answers 200 as an attachment',
        csv.status() === 200 && /attachment/i.test(csv.headers()['content-disposition'] || ''),
        `status ${csv.status()}`);
  });

  await step('quota bars', async () => {
    // Bounded retry: the page polls every 2 s; the numbers must settle.
    let why = 'not compared';
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const q = await getJson(req, `/api/v1/ip/${enc(ip)}/quota`);
      if (q.status !== 200 || !q.body) {
        why = `GET quota: status ${q.status}`;
        break;
      }
      why = quotaMismatch(await quotaBars(page), q.body);
      if (!why) break;
      await sleep(1000);
    }
    check('the quota bars carry the API\'s used/limit and are drawn to scale', !why, why);
  });

  await step('client screenshot', async () => {
    await page.screenshot({path: path.join(SHOTS, 'client.png'), fullPage: true, timeout: kWaitMs});
    ok(`screenshot ${path.join(SHOTS, 'client.png')}`);
  });

  await step('the home page', async () => {
    const resp = await page.goto(`${BASE}/`);
    check('GET / answers 200', resp && resp.status() === 200, `status ${resp && resp.status()}`);
    await page.waitForFunction((want) => {
      const e = document.getElementById('your-ip');
      return e && e.textContent === want;
    }, ip, {timeout: kWaitMs});
    const text = await page.textContent('main');
    check(
        '/ shows the RouterOS and btest commands for this server',
        text.includes(`/tool bandwidth-test address=${server.body.address}`) &&
            text.includes(`btest -c ${server.body.address} -P ${server.body.btest.port}`),
        'command lines missing');
    check(
        '/ shows "your address" and links to /me', (await page.getAttribute('#me-link', 'href')) === '/me',
        'no link to /me');
  });

  check('no JavaScript errors on / and /me', page.jsErrors.length === 0, page.jsErrors[0]);
  await context.close();
}

// ------------------------------------------------------------------ another IP, no token

async function refusalChecks(browser) {
  const context = await browser.newContext({viewport: {width: 1200, height: 900}});
  const page = await newPage(context);
  await step(`/ip/${kOtherIp} without the token`, async () => {
    const api = await getJson(page.request, `/api/v1/ip/${kOtherIp}/sessions`);
    check(
        `GET /api/v1/ip/${kOtherIp}/sessions without the token is 403 with {"error"}`,
        api.status === 403 && api.body && typeof api.body.error === 'string' && api.body.error.length > 0,
        `status ${api.status}, body ${JSON.stringify(api.body)}`);
    const quota = await getJson(page.request, `/api/v1/ip/${kOtherIp}/quota`);
    check(`GET /api/v1/ip/${kOtherIp}/quota without the token is 403`, quota.status === 403, `status ${quota.status}`);
    const resp = await page.goto(`${BASE}/ip/${kOtherIp}`);
    check(
        `GET /ip/${kOtherIp} without the token answers 403`, resp && resp.status() === 403,
        `status ${resp && resp.status()}`);
    // The server's own refusal page, or ip.html showing the API's line in #error.
    const line = (api.body && api.body.error) || '';
    await page
        .waitForFunction(
            (want) => {
              const e = document.getElementById('error');
              const text = document.body ? document.body.innerText : '';
              return (e && e.textContent.trim()) || (want && text.includes(want));
            },
            line, {timeout: 5000})
        .catch(() => {});
    const shown = await page.evaluate(() => {
      const e = document.getElementById('error');
      return e ? e.textContent.trim() : document.body.innerText.trim();
    });
    check(
        `/ip/${kOtherIp} shows the refusal ("${line}") and no data`,
        (shown === line || shown.includes(line)) && line.length > 0 &&
            (await page.$('#sessions-table tr[data-session-id], .quota-bar')) === null,
        `page shows "${shown.slice(0, 160)}"`);
  });
  await context.close();
}

// ------------------------------------------------------------------ admin

async function adminChecks(browser) {
  const context = await browser.newContext({viewport: {width: 1280, height: 900}});
  const page = await newPage(context);
  const req = page.request;
  const server = await getJson(req, '/api/v1/server');
  const ip = server.body && server.body.your_ip;
  const list = await getJson(req, `/api/v1/ip/${enc(ip)}/sessions?limit=1`);
  const newest = list.body && list.body.sessions && list.body.sessions[0];

  await step('admin login', async () => {
    const live = await getJson(req, '/api/v1/admin/live');
    check('GET /api/v1/admin/live without the token is 401', live.status === 401, `status ${live.status}`);
    const resp = await page.goto(`${BASE}/admin`);
    check('GET /admin answers 200', resp && resp.status() === 200, `status ${resp && resp.status()}`);
    await page.waitForSelector('#login-form', {state: 'visible'});
    await page.fill('#token', 'not-the-token');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => {
      const e = document.getElementById('login-error');
      return e && e.textContent.trim().length > 0;
    }, null, {timeout: kWaitMs});
    ok('a wrong token is refused on the form');
    await page.fill('#token', TOKEN);
    await Promise.all([
      page.waitForEvent('load', {timeout: kWaitMs}),
      page.click('#login-form button[type=submit]'),
    ]);
    await page.waitForSelector('#admin-panel', {state: 'visible'});
    ok('logging in with the token shows the admin panel');
  });

  await step('admin tables', async () => {
    await page.waitForSelector(`#admin-sessions-table tr[data-session-id="${newest.id}"]`);
    const href = await page.getAttribute(`#admin-sessions-table tr[data-session-id="${newest.id}"] a[data-ip]`, 'href');
    check(
        `recent sessions list session ${newest.id} with a link to /ip/${ip}`, href === `/ip/${enc(ip)}`,
        `href ${href}`);
    await page.waitForSelector(`#top-ips-table tr[data-ip="${ip}"]`);
    ok(`top IPs (day) show ${ip}`);
    await Promise.all([
      page.waitForResponse(
          (r) => r.url().includes('/api/v1/admin/top-ips?window=month') && r.status() === 200, {timeout: kWaitMs}),
      page.selectOption('#top-window', 'month'),
    ]);
    await page.waitForSelector(`#top-ips-table tr[data-ip="${ip}"]`);
    ok(`top IPs (month) show ${ip}`);
    const other = await getJson(req, `/api/v1/ip/${kOtherIp}/sessions`);
    check(
        `with the admin cookie GET /api/v1/ip/${kOtherIp}/sessions is 200`, other.status === 200,
        `status ${other.status}`);
    await page.waitForSelector('#users-table tr[data-user="alice"]');
    ok('the users table lists alice');
    await page.screenshot({path: path.join(SHOTS, 'admin.png'), fullPage: true, timeout: kWaitMs});
    ok(`screenshot ${path.join(SHOTS, 'admin.png')}`);
  });

  await step('admin logout', async () => {
    await Promise.all([
      page.waitForEvent('load', {timeout: kWaitMs}),
      page.click('#logout'),
    ]);
    await page.waitForSelector('#login-form', {state: 'visible'});
    const live = await getJson(req, '/api/v1/admin/live');
    check('logging out drops admin access', live.status === 401, `status ${live.status}`);
  });

  check('no JavaScript errors on /admin', page.jsErrors.length === 0, page.jsErrors[0]);
  await context.close();
}

try {
  await main();
} catch (e) {
  fail('browser', e && e.message ? e.message : e);
}
summary();
process.exit(failed === 0 && passed > 0 ? 0 : 1);
