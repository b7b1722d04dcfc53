// app.js — the btest-pro dashboard, one script for every page.
//
// The page to build comes from <body data-page="index|ip|admin">. Everything is
// drawn from the JSON API described in docs/api.md; this file holds no data of
// its own and talks to no host but the one that served it.
//
// Invariants:
//  - Data from the server reaches the DOM only through textContent, attribute
//    values and properties (the el() helper below). Nothing here assigns
//    innerHTML, so a user name or an error line can never become markup.
//  - The chart is the server's SVG, parsed as XML by DOMParser and imported as
//    nodes; <script> and on* attributes are stripped before it is inserted.
//  - Every poll is a single chain of setTimeout calls (never setInterval), so a
//    slow server cannot pile up requests: the next poll is scheduled only after
//    the current one has finished.
'use strict';

(() => {
  // ---------------------------------------------------------------- helpers

  // el('td', {class: 'num', 'data-x': 1}, 'text', childNode, ...): an element
  // with attributes and children; strings become text nodes. Attribute values
  // are set with setAttribute, never parsed as HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) {
        continue;
      }
      if (name === 'onclick' || name === 'onchange' || name === 'onsubmit') {
        node.addEventListener(name.slice(2), value);
      } else {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) {
        continue;
      }
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function replaceChildren(node, ...children) {
    node.replaceChildren();
    return append(node, children);
  }

  const $ = (id) => document.getElementById(id);

  // One decimal, trailing ".0" dropped: 10 GB, 1.5 GB, 941.2 Mbps.
  function oneDecimal(v) {
    const s = v.toFixed(1);
    return s.endsWith('.0') ? s.slice(0, -2) : s;
  }

  // Decimal units (1 kB = 1000 B), as the CLI's SIZE arguments are.
  function fmtBytes(n) {
    const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
    let v = Number(n) || 0;
    let i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) {
      v /= 1000;
      i += 1;
    }
    return i === 0 ? `${Math.round(v)} B` : `${oneDecimal(v)} ${units[i]}`;
  }

  function fmtBps(n) {
    const units = ['bps', 'kbps', 'Mbps', 'Gbps', 'Tbps'];
    let v = Number(n) || 0;
    let i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) {
      v /= 1000;
      i += 1;
    }
    return i === 0 ? `${Math.round(v)} bps` : `${oneDecimal(v)} ${units[i]}`;
  }

  // A byte limit: 0 means unlimited (docs/api.md).
  const fmtLimit = (n) => (Number(n) > 0 ? fmtBytes(n) : 'unlimited');

  function fmtCount(n) {
    return (Number(n) || 0).toLocaleString('en-US');
  }

  function fmtDuration(seconds) {
    let s = Math.max(0, Math.round(Number(seconds) || 0));
    if (s < 60) {
      return `${s} s`;
    }
    const parts = [];
    const d = Math.floor(s / 86400);
    s -= d * 86400;
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    if (d) parts.push(`${d} d`);
    if (h) parts.push(`${h} h`);
    if (m && !d) parts.push(`${m} min`);
    if (s && !d && !h) parts.push(`${s} s`);
    return parts.join(' ');
  }

  const pad2 = (n) => String(n).padStart(2, '0');

  // Local time of the browser, "2026-11-22 14:03:05".
  function fmtTime(unixMs) {
    const ms = Number(unixMs);
    if (!ms) {
      return '–';
    }
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
        `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  }

  function isoTime(unixMs) {
    const ms = Number(unixMs);
    return ms ? new Date(ms).toISOString() : '';
  }

  // The session's length in seconds; a running one is measured up to now.
  function sessionSeconds(s) {
    const end = Number(s.ended_unix_ms) || (s.status === 'running' ? Date.now() : 0);
    const start = Number(s.started_unix_ms) || 0;
    return end > start ? (end - start) / 1000 : 0;
  }

  // The client's view of direction (docs/api.md: transmit = the client sends).
  const kDirectionText = {
    transmit: 'upload (client sends)',
    receive: 'download (client receives)',
    both: 'both ways',
  };

  // A status word as a CSS-safe class suffix.
  const statusClass = (status) => 'status-' + String(status || 'unknown').toLowerCase().replace(/[^a-z0-9_-]/g, '');

  function statusBadge(status) {
    return el('span', {class: `badge ${statusClass(status)}`}, status || 'unknown');
  }

  // Path segment for an address: "::1" -> "%3A%3A1".
  const ipPath = (ip) => encodeURIComponent(ip);
  const ipPageHref = (ip) => `/ip/${ipPath(ip)}`;

  // GET or POST, JSON back. Never throws for HTTP errors: {ok, status, body,
  // error}; error is the server's one line ({"error": ...}) or a description.
  async function api(url, options) {
    let res;
    try {
      res = await fetch(url, Object.assign({credentials: 'same-origin', cache: 'no-store'}, options));
    } catch (e) {
      return {ok: false, status: 0, body: null, error: 'cannot reach the server'};
    }
    let body = null;
    const type = res.headers.get('content-type') || '';
    if (res.status !== 204 && type.includes('json')) {
      try {
        body = await res.json();
      } catch (e) {
        body = null;
      }
    }
    let error = '';
    if (!res.ok) {
      error = (body && typeof body.error === 'string' && body.error) || `HTTP ${res.status} ${res.statusText}`.trim();
    }
    return {ok: res.ok, status: res.status, body, error};
  }

  // Show one line in #error and hide everything else in <main>.
  function showFatal(message) {
    const main = document.querySelector('main');
    const box = el('p', {id: 'error', class: 'error', role: 'alert'}, message);
    replaceChildren(main, box);
  }

  // A small per-page status line ("updated 14:03:05", "connection lost").
  function setStatusLine(text, bad) {
    const node = $('live-status');
    if (node) {
      node.textContent = text;
      node.classList.toggle('bad', !!bad);
    }
  }

  // Repeating task: run fn, then wait delay() ms (re-read after every run).
  // Returns {now()} to force an immediate run. One chain only.
  function poller(fn, delay) {
    let timer = null;
    let running = false;
    let again = false;
    async function tick() {
      clearTimeout(timer);
      timer = null;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        await fn();
      } catch (e) {
        setStatusLine(`update failed: ${e && e.message ? e.message : e}`, true);
      }
      running = false;
      if (again) {
        again = false;
        tick();
        return;
      }
      const ms = delay();
      if (ms > 0) {
        timer = setTimeout(tick, ms);
      }
    }
    tick();
    return {now: tick};
  }

  // A value with a smaller second line ("125 MB" over "200 Mbps").
  function twoLine(main, sub) {
    return el('span', {class: 'cell'}, main, el('small', {class: 'sub'}, sub));
  }

  // A table with a header row; rows is an array of <tr>. An empty table shows
  // one row with `emptyText`. Each cell gets its column name in data-label, so
  // a narrow window can show every row as a small card (style.css).
  function table(headers, rows, emptyText, attrs) {
    const labels = headers.map((h) => (Array.isArray(h) ? h[0] : h));
    for (const row of rows) {
      Array.from(row.children).forEach((cell, i) => {
        if (labels[i] && !cell.hasAttribute('data-label')) {
          cell.setAttribute('data-label', labels[i]);
        }
      });
    }
    const head = el('thead', null, el('tr', null, headers.map((h) => {
                      const [label, cls] = Array.isArray(h) ? h : [h, ''];
                      return el('th', {class: cls || null, scope: 'col'}, label);
                    })));
    const body = el(
        'tbody', null, rows.length ? rows : el('tr', {class: 'empty'}, el('td', {colspan: headers.length}, emptyText)));
    return el('div', {class: 'table-wrap'}, el('table', attrs || null, head, body));
  }

  // Copy-to-clipboard button for a <code> block; without the async clipboard
  // API (plain http to a non-local host) it selects the text instead.
  function copyButton(codeNode) {
    return el(
        'button', {
          type: 'button',
          class: 'copy',
          title: 'Copy to clipboard',
          onclick: async (ev) => {
            const btn = ev.currentTarget;
            const text = codeNode.textContent;
            try {
              await navigator.clipboard.writeText(text);
              btn.textContent = 'Copied';
            } catch (e) {
              const range = document.createRange();
              range.selectNodeContents(codeNode);
              const sel = window.getSelection();
              sel.removeAllRanges();
              sel.addRange(range);
              btn.textContent = 'Selected';
            }
            setTimeout(() => {
              btn.textContent = 'Copy';
            }, 1500);
          },
        },
        'Copy');
  }

  function commandBlock(text, label) {
    const code = el('code', null, text);
    return el('div', {class: 'command', 'aria-label': label}, el('pre', null, code), copyButton(code));
  }

  // Footer: server name and version, from /api/v1/server (public).
  function fillFooter(server) {
    const node = $('server-id');
    if (node && server) {
      node.textContent = `${server.name || 'btest-pro'} · btest-pro ${server.version || ''}`.trim();
    }
  }

  // Mark the nav link of the current page.
  function markNav(page) {
    for (const a of document.querySelectorAll('nav a[data-nav]')) {
      if (a.dataset.nav === page) {
        a.setAttribute('aria-current', 'page');
      }
    }
  }

  // ---------------------------------------------------------------- chart

  // Fetch the server's SVG chart for a session and put it into `container`,
  // unless `stillWanted()` says the visitor has moved on meanwhile (a click
  // while a poll was loading another chart). Returns true when it drew.
  async function loadChart(container, sessionId, stillWanted) {
    const wanted = stillWanted || (() => true);
    let res;
    try {
      res = await fetch(`/api/v1/sessions/${sessionId}/chart.svg`, {credentials: 'same-origin', cache: 'no-store'});
    } catch (e) {
      return false;
    }
    if (!wanted()) {
      return false;
    }
    if (!res.ok) {
      let line = `chart: HTTP ${res.status}`;
      try {
        const body = await res.json();
        if (body && body.error) line = `chart: ${body.error}`;
      } catch (e) { /* not JSON */
      }
      replaceChildren(container, el('p', {class: 'muted'}, line));
      return false;
    }
    const text = await res.text();
    if (!wanted()) {
      return false;
    }
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    if (!root || root.localName !== 'svg' || doc.getElementsByTagName('parsererror').length) {
      replaceChildren(container, el('p', {class: 'muted'}, 'chart: the server sent an unreadable SVG'));
      return false;
    }
    // Defence in depth: the SVG is ours, but nothing in it may run.
    for (const bad of Array.from(root.querySelectorAll('script, foreignObject'))) {
      bad.remove();
    }
    for (const node of [root, ...root.querySelectorAll('*')]) {
      for (const attr of Array.from(node.attributes)) {
        const name = attr.name.toLowerCase();
        if (name.startsWith('on') ||
            ((name === 'href' || name === 'xlink:href') && /^\s*javascript:/i.test(attr.value))) {
          node.removeAttribute(attr.name);
        }
      }
    }
    // Scale with the page: keep the drawing's own coordinate box.
    if (!root.hasAttribute('viewBox')) {
      const w = parseFloat(root.getAttribute('width'));
      const h = parseFloat(root.getAttribute('height'));
      if (w > 0 && h > 0) {
        root.setAttribute('viewBox', `0 0 ${w} ${h}`);
      }
    }
    root.removeAttribute('width');
    root.removeAttribute('height');
    root.setAttribute('preserveAspectRatio', 'xMidYMid meet');
    root.setAttribute('role', 'img');
    const svg = document.importNode(root, true);
    replaceChildren(container, svg);
    return true;
  }

  // ---------------------------------------------------------------- index

  async function pageIndex() {
    const [srvRes, statsRes] = await Promise.all([api('/api/v1/server'), api('/api/v1/stats')]);
    if (!srvRes.ok) {
      showFatal(srvRes.error);
      return;
    }
    const s = srvRes.body;
    const bt = s.btest || {};
    fillFooter(s);

    $('your-ip').textContent = s.your_ip || '?';
    $('me-link').setAttribute('href', '/me');

    const addr = s.address || location.hostname;
    const port = Number(bt.port) || 2000;
    const auth = String(bt.auth || '').toLowerCase();

    const ros = `/tool bandwidth-test address=${addr} protocol=tcp direction=both user=YOURUSER password=YOURPASS`;
    const cli = `btest -c ${addr} -P ${port} -a YOURUSER -p YOURPASS -d 10s --direction both`;
    replaceChildren($('cmd-routeros'), commandBlock(ros, 'RouterOS command'));
    replaceChildren($('cmd-btest'), commandBlock(cli, 'btest command'));

    const authText = $('auth-text');
    if (auth === 'ecsrp5') {
      replaceChildren(
          authText, 'This server authenticates with ', el('strong', null, 'EC-SRP5'),
          ', which needs RouterOS 6.43 or newer (btest: the default).');
    } else if (auth === 'md5') {
      replaceChildren(
          authText, 'This server authenticates with ', el('strong', null, 'MD5'),
          ', the method of RouterOS before 6.43.');
    } else {
      replaceChildren(
          authText, 'Authentication: ', el('strong', null, bt.auth || 'unknown'),
          '. EC-SRP5 needs RouterOS 6.43 or newer; MD5 is for older versions.');
    }
    const portNote = $('port-note');
    if (port !== 2000) {
      portNote.textContent = `RouterOS always connects to port 2000; this server listens on ${
          port}, so use btest (or a port forward) from RouterOS.`;
      portNote.hidden = false;
    }

    // Limits.
    const lim = s.ip_limits || {};
    const rows = ['day', 'week', 'month'].map((w) => {
      const l = lim[w] || {};
      return el(
          'tr', {'data-window': w},
          el('th', {scope: 'row'},
             w === 'day'      ? 'Per day' :
                 w === 'week' ? 'Per week' :
                                'Per month'),
          el('td', {class: 'num'}, fmtLimit(l.total)), el('td', {class: 'num'}, fmtLimit(l.in)),
          el('td', {class: 'num'}, fmtLimit(l.out)));
    });
    replaceChildren(
        $('limits'),
        table(
            ['Window', ['In + out', 'num'], ['Upload (in)', 'num'], ['Download (out)', 'num']], rows, '',
            {class: 'compact'}));
    const udp = Array.isArray(bt.udp_ports) ? bt.udp_ports : [];
    const facts = [
      ['Maximum test length', Number(bt.max_duration_s) > 0 ? fmtDuration(bt.max_duration_s) : 'unlimited'],
      [
        'UDP ports',
        udp.length === 2 ? (udp[0] === udp[1] ? String(udp[0]) : `${udp[0]}–${udp[1]}`) : (udp.join(', ') || '–')
      ],
      ['Tests at once (server)', Number(bt.max_sessions) > 0 ? fmtCount(bt.max_sessions) : 'unlimited'],
      ['Connections per address', Number(bt.max_conn_per_ip) > 0 ? fmtCount(bt.max_conn_per_ip) : 'unlimited'],
      ['Quota time zone', s.time_zone || 'UTC'],
    ];
    replaceChildren($('facts'), facts.map(([k, v]) => [el('dt', null, k), el('dd', null, v)]));

    // Public counters, refreshed every 5 s.
    const drawStats = (st) => {
      const items = [
        ['Up for', fmtDuration(st.uptime_s)],
        ['Running now', fmtCount(st.sessions_active)],
        ['Tests started', fmtCount(st.tests_started)],
        ['Received', fmtBytes(st.bytes_in)],
        ['Sent', fmtBytes(st.bytes_out)],
        ['Refused', fmtCount(st.rejections)],
      ];
      replaceChildren(
          $('stats'),
          items.map(
              ([k, v]) => el(
                  'div', {class: 'stat'}, el('div', {class: 'stat-value'}, v), el('div', {class: 'stat-label'}, k))));
    };
    if (statsRes.ok) {
      drawStats(statsRes.body);
    }
    let first = true;
    poller(async () => {
      if (first) {
        first = false;
        return;
      }
      const r = await api('/api/v1/stats');
      if (r.ok) {
        drawStats(r.body);
      }
    }, () => 5000);
  }

  // ---------------------------------------------------------------- ip page

  // The quota of one window: one bar for the total limit when set, else bars
  // for the in/out limits that are set, else "unlimited" with the usage.
  function quotaWindow(name, w) {
    const limit = (w && w.limit) || {};
    const used = (w && w.used) || {};
    const title = {day: 'Today', week: 'This week', month: 'This month'}[name];
    const bars = [];
    const bar = (dir, usedBytes, limitBytes, label) => {
      const u = Number(usedBytes) || 0;
      const l = Number(limitBytes) || 0;
      const ratio = l > 0 ? Math.min(1, u / l) : 0;
      const pct = l > 0 ? (u / l) * 100 : 0;
      const over = l > 0 && u >= l;
      const fill = el('div', {class: 'quota-fill'});
      fill.style.width = `${ratio * 100}%`;
      const track =
          el('div', {
            class: `quota-bar${over ? ' over' : ''}${l > 0 ? '' : ' unlimited'}`,
            'data-window': name,
            'data-dir': dir,
            'data-used': String(usedBytes ?? 0),
            'data-limit': String(limitBytes ?? 0),
            role: 'progressbar',
            'aria-valuemin': 0,
            'aria-valuemax': l > 0 ? l : null,
            'aria-valuenow': u,
            'aria-label': `${title} ${label}`,
          },
             fill);
      const text = l > 0 ? `${fmtBytes(u)} of ${fmtBytes(l)} (${pct < 10 ? pct.toFixed(1) : Math.round(pct)} %)` :
                           `${fmtBytes(u)} used · unlimited`;
      bars.push(
          el('div', {class: 'quota-row'},
             el('div', {class: 'quota-label'}, el('span', null, label), el('span', {class: 'num'}, text)), track));
    };
    if (Number(limit.total) > 0) {
      bar('total', used.total, limit.total, 'in + out');
    } else if (Number(limit.in) > 0 || Number(limit.out) > 0) {
      if (Number(limit.in) > 0) bar('in', used.in, limit.in, 'upload (in)');
      if (Number(limit.out) > 0) bar('out', used.out, limit.out, 'download (out)');
    } else {
      bar('total', used.total, limit.total, 'in + out');
    }
    return el(
        'div', {class: 'quota-window', 'data-window': name},
        el('h3', null, title, w && w.start ? el('span', {class: 'muted'}, ` since ${w.start}`) : null), bars);
  }

  // A running session's totals are written when it ends; until then the row
  // shows what its recorded seconds add up to and the last second's rate.
  function liveTotals(intervals) {
    const t = {bytes_in: 0, bytes_out: 0, lost: 0, bps_in: 0, bps_out: 0};
    for (const iv of intervals) {
      t.bytes_in += Number(iv.bytes_in) || 0;
      t.bytes_out += Number(iv.bytes_out) || 0;
      t.lost += Number(iv.lost) || 0;
    }
    // The rate now: the last interval that is not a short tail (docs/api.md).
    const whole = intervals.filter((iv) => !iv.partial);
    const last = whole[whole.length - 1];
    if (last) {
      t.bps_in = Number(last.bps_in) || 0;
      t.bps_out = Number(last.bps_out) || 0;
    }
    return t;
  }

  function sessionRow(s, selected, onSelect, live) {
    const secs = sessionSeconds(s);
    const isUdp = String(s.proto).toLowerCase() === 'udp';
    const rate = (bytes, dir) =>
        (live ? `now ${fmtBps(live[`bps_${dir}`])}` :
             secs > 0 ? fmtBps((Number(bytes) * 8) / secs) :
                        '–');
    const bytesIn = live ? live.bytes_in : s.bytes_in;
    const bytesOut = live ? live.bytes_out : s.bytes_out;
    const lost = live ? live.lost : s.lost;
    const tr =
        el('tr', {
          class: `session${selected ? ' selected' : ''}`,
          'data-session-id': s.id,
          'data-status': s.status,
          tabindex: 0,
          'aria-selected': selected ? 'true' : 'false',
          title: 'Show this test\'s chart',
        },
           el('td', {title: isoTime(s.started_unix_ms)}, fmtTime(s.started_unix_ms)),
           el('td', null, String(s.proto || '').toUpperCase()),
           el('td', null, kDirectionText[s.direction] || s.direction || '–'), el('td', null, s.user || '–'),
           el('td', {class: 'num'}, fmtDuration(secs)),
           el('td', {class: 'num', 'data-field': 'in'}, twoLine(fmtBytes(bytesIn), rate(bytesIn, 'in'))),
           el('td', {class: 'num', 'data-field': 'out'}, twoLine(fmtBytes(bytesOut), rate(bytesOut, 'out'))),
           el('td', {class: 'num'}, isUdp ? fmtCount(lost) : '–'), el('td', null, statusBadge(s.status)));
    tr.addEventListener('click', () => onSelect(s.id));
    tr.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        onSelect(s.id);
      }
    });
    return tr;
  }

  async function pageIp() {
    // The address: /ip/{ip} (maybe percent-encoded), or for /me the visitor's.
    let ip = '';
    let own = false;
    const path = location.pathname;
    const server = await api('/api/v1/server');
    if (server.ok) {
      fillFooter(server.body);
    }
    if (path.startsWith('/ip/')) {
      try {
        ip = decodeURIComponent(path.slice(4).replace(/\/+$/, ''));
      } catch (e) {
        showFatal('bad address in the page address');
        return;
      }
      own = server.ok && server.body.your_ip === ip;
    } else {
      if (!server.ok) {
        showFatal(server.error);
        return;
      }
      ip = server.body.your_ip;
      own = true;
    }
    // Title and export links; called again with the server's canonical form
    // of the address (e.g. ::ffff:1.2.3.4 -> 1.2.3.4) once the API answers.
    const setIp = (addr) => {
      ip = addr;
      own = own || (server.ok && server.body.your_ip === ip);
      if (own) {
        markNav('me');
      }
      document.title = `${own ? 'Your tests' : 'Tests of ' + ip} · btest-pro`;
      $('ip-title').textContent = own ? `Your tests (${ip})` : `Tests of ${ip}`;
      $('ip-export-json').setAttribute('href', `/api/v1/ip/${ipPath(ip)}/export?format=json`);
      $('ip-export-csv').setAttribute('href', `/api/v1/ip/${ipPath(ip)}/export?format=csv`);
    };
    setIp(ip);

    const hashId = /^#session=([1-9][0-9]{0,15})$/.exec(location.hash);
    let selectedId = hashId ? Number(hashId[1]) : 0;
    let userPicked = selectedId > 0;
    let sessions = [];
    let chartDrawnFor = 0;    // session id whose chart is on screen
    let chartEndedDraws = 0;  // times that chart was drawn after its session ended
    let lastActivity = Date.now();
    let liveById = new Map();  // running session id -> liveTotals()

    const chartBox = $('chart');
    const drawSessions = () => {
      // Redrawing replaces the rows: keep the keyboard focus on the same test.
      const focused = document.activeElement && document.activeElement.closest ?
          document.activeElement.closest('tr[data-session-id]') :
          null;
      const focusId = focused ? focused.getAttribute('data-session-id') : null;
      const rows = sessions.map((s) => sessionRow(s, s.id === selectedId, select, liveById.get(s.id)));
      replaceChildren(
          $('sessions'),
          table(
              [
                'Started', 'Proto', 'Direction', 'User', ['Duration', 'num'], ['Upload (in)', 'num'],
                ['Download (out)', 'num'], ['Lost', 'num'], 'Status'
              ],
              rows, 'No tests from this address yet. Run one (see the home page) and it shows up here.',
              {id: 'sessions-table', class: 'clickable'}));
      if (focusId) {
        const again = rows.find((tr) => tr.getAttribute('data-session-id') === focusId);
        if (again) again.focus();
      }
    };

    const drawChartHead = (s) => {
      const id = s ? s.id : selectedId;
      $('chart-title').textContent = s ?
          `Test #${id}: ${String(s.proto || '').toUpperCase()} ${kDirectionText[s.direction] || s.direction}, ${
              fmtTime(s.started_unix_ms)}` :
          `Test #${id}`;
      $('session-export-json').setAttribute('href', `/api/v1/sessions/${id}/export?format=json`);
      $('session-export-csv').setAttribute('href', `/api/v1/sessions/${id}/export?format=csv`);
      $('chart-section').hidden = false;
    };

    // Draw (or redraw) the chart of the selected session when it can change.
    const refreshChart = async (force) => {
      if (!selectedId) {
        $('chart-section').hidden = true;
        return;
      }
      const s = sessions.find((x) => x.id === selectedId);
      const ended = s ? s.status !== 'running' : true;
      drawChartHead(s);
      // A finished test's chart is drawn twice more at most: the writer may
      // store the last second just after the end of the session.
      if (!force && chartDrawnFor === selectedId && chartEndedDraws >= 2) {
        return;
      }
      const id = selectedId;
      const ok = await loadChart(chartBox, id, () => selectedId === id);
      if (selectedId !== id) {
        return;
      }
      chartBox.dataset.sessionId = String(id);
      chartEndedDraws = chartDrawnFor === id && ok && ended ? chartEndedDraws + 1 : (ok && ended ? 1 : 0);
      chartDrawnFor = id;
    };

    function select(id) {
      selectedId = id;
      userPicked = true;
      history.replaceState(null, '', `#session=${id}`);
      for (const tr of document.querySelectorAll('#sessions-table tr[data-session-id]')) {
        const on = Number(tr.dataset.sessionId) === id;
        tr.classList.toggle('selected', on);
        tr.setAttribute('aria-selected', on ? 'true' : 'false');
      }
      refreshChart(true);
    }

    const refresh = async () => {
      const [sr, qr] = await Promise.all([
        api(`/api/v1/ip/${ipPath(ip)}/sessions?limit=20`),
        api(`/api/v1/ip/${ipPath(ip)}/quota`),
      ]);
      for (const r of [sr, qr]) {
        if (!r.ok && r.status >= 400 && r.status < 500) {
          showFatal(r.error);
          return false;  // refused or bad address: stop polling
        }
      }
      if (!sr.ok || !qr.ok) {
        setStatusLine(`update failed: ${(sr.ok ? qr : sr).error}; retrying`, true);
        return true;
      }
      if (sr.body && typeof sr.body.ip === 'string' && sr.body.ip && sr.body.ip !== ip) {
        setIp(sr.body.ip);
      }
      if (qr.body && qr.body.windows) {
        replaceChildren($('quota'), ['day', 'week', 'month'].map((w) => quotaWindow(w, qr.body.windows[w])));
      }
      const before = sessions.length ? sessions[0].id : 0;
      sessions = Array.isArray(sr.body.sessions) ? sr.body.sessions : [];
      // Live totals for the running tests (a handful at most from one address).
      const running = sessions.filter((s) => s.status === 'running').slice(0, 4);
      const ivs = await Promise.all(running.map((s) => api(`/api/v1/sessions/${s.id}/intervals`)));
      liveById = new Map();
      running.forEach((s, i) => {
        if (ivs[i].ok && ivs[i].body && Array.isArray(ivs[i].body.intervals)) {
          liveById.set(s.id, liveTotals(ivs[i].body.intervals));
        }
      });
      const newest = sessions.length ? sessions[0].id : 0;
      // Follow the newest test unless the visitor picked one.
      if (!userPicked || (newest !== before && before !== 0 && selectedId === before)) {
        selectedId = newest;
      }
      if (sessions.some((s) => s.status === 'running') || newest !== before) {
        lastActivity = Date.now();
      }
      drawSessions();
      await refreshChart(false);
      setStatusLine(`updated ${fmtTime(Date.now()).slice(11)}`, false);
      return true;
    };

    let stopped = false;
    // Every second while a test runs; every 2 s for a minute after activity or
    // page load (to catch a test that is about to start), then every 5 s.
    poller(
        async () => {
          if (!(await refresh())) {
            stopped = true;
          }
        },
        () => {
          if (stopped) return 0;
          if (sessions.some((s) => s.status === 'running')) return 1000;
          if (document.hidden) return 5000;
          return Date.now() - lastActivity < 60000 ? 2000 : 5000;
        });
  }

  // ---------------------------------------------------------------- admin

  async function pageAdmin() {
    markNav('admin');
    api('/api/v1/server').then((r) => {
      if (r.ok) fillFooter(r.body);
    });

    const live = await api('/api/v1/admin/live');
    if (live.status === 401 || live.status === 403) {
      showLogin(live);
      return;
    }
    if (!live.ok) {
      showFatal(live.error);
      return;
    }
    $('admin-panel').hidden = false;
    $('logout').addEventListener('click', async () => {
      await api('/api/v1/admin/logout', {method: 'POST'});
      location.reload();
    });

    const ipLink = (ip) => el('a', {href: ipPageHref(ip), 'data-ip': ip}, ip);

    let liveById = new Map();  // id -> the live entry, for running rows of "recent tests"
    const drawLive = (body) => {
      const list = (body && Array.isArray(body.sessions)) ? body.sessions : [];
      liveById = new Map(list.filter((s) => s.id).map((s) => [s.id, s]));
      const rows = list.map(
          (s) =>
              el('tr', {'data-session-id': s.id || null, 'data-ip': s.ip},
                 el('td', {class: 'num'}, s.id ? `#${s.id}` : 'new'), el('td', null, ipLink(s.ip)),
                 el('td', null, s.user || '–'),
                 el('td', null, `${String(s.proto || '').toUpperCase()} ${s.direction || ''}`),
                 el('td', {class: 'num'}, fmtCount(s.connections)),
                 el('td', {class: 'num', title: isoTime(s.started_unix_ms)}, fmtDuration(s.seconds)),
                 el('td', {class: 'num rate'}, fmtBps(s.bps_in)), el('td', {class: 'num rate'}, fmtBps(s.bps_out)),
                 el('td', {class: 'num'}, fmtBytes(s.bytes_in)), el('td', {class: 'num'}, fmtBytes(s.bytes_out)),
                 el('td', {class: 'num'}, String(s.proto).toLowerCase() === 'udp' ? fmtCount(s.lost) : '–')));
      replaceChildren(
          $('live'),
          table(
              [
                'Test', 'Address', 'User', 'Kind', ['Conns', 'num'], ['Time', 'num'], ['Rate in', 'num'],
                ['Rate out', 'num'], ['In', 'num'], ['Out', 'num'], ['Lost', 'num']
              ],
              rows, 'No test is running.', {id: 'live-table'}));
      $('live-count').textContent = list.length ? `(${list.length})` : '';
      return list.length;
    };

    const usageCell = (used, limit) => {
      const u = Number(used && used.total) || 0;
      const l = Number(limit && limit.total) || 0;
      const value = el('span', {class: 'cell'}, fmtBytes(u), el('small', null, ` / ${fmtLimit(l)}`));
      if (l > 0) {
        const fill = el('div', {class: 'quota-fill'});
        fill.style.width = `${Math.min(1, u / l) * 100}%`;
        value.append(el('div', {class: `quota-bar mini${u >= l ? ' over' : ''}`}, fill));
      }
      return el('td', {class: 'num usage'}, value);
    };

    const drawUsers = (body) => {
      const list = (body && Array.isArray(body.users)) ? body.users : [];
      const rows = list.map(
          (u) =>
              el('tr', {'data-user': u.name}, el('td', null, u.name),
                 el('td', null, u.enabled ? 'yes' : el('span', {class: 'badge status-disabled'}, 'disabled')),
                 el('td', null, u.allow_md5 ? 'yes' : 'no'),
                 ['day', 'week', 'month'].map((w) => usageCell(u.used && u.used[w], u.limits && u.limits[w]))));
      replaceChildren(
          $('users'),
          table(
              ['User', 'Enabled', 'MD5', ['Today', 'num'], ['This week', 'num'], ['This month', 'num']], rows,
              'No users. Add one with: btest-pro user add NAME --password-file FILE', {id: 'users-table'}));
    };

    const drawTop = (body) => {
      const list = (body && Array.isArray(body.ips)) ? body.ips : [];
      $('top-start').textContent = body && body.start ? `since ${body.start}` : '';
      const rows = list.map(
          (r) =>
              el('tr', {'data-ip': r.ip}, el('td', null, ipLink(r.ip)), el('td', {class: 'num'}, fmtBytes(r.total)),
                 el('td', {class: 'num'}, fmtBytes(r.in)), el('td', {class: 'num'}, fmtBytes(r.out))));
      replaceChildren(
          $('top-ips'),
          table(
              ['Address', ['In + out', 'num'], ['In', 'num'], ['Out', 'num']], rows, 'No traffic in this window.',
              {id: 'top-ips-table'}));
    };

    const drawRejections = (body) => {
      const list = (body && Array.isArray(body.rejections)) ? body.rejections : [];
      const rows = list.map(
          (r) =>
              el('tr', null, el('td', {title: isoTime(r.unix_ms)}, fmtTime(r.unix_ms)),
                 el('td', null, r.ip ? ipLink(r.ip) : '–'), el('td', null, r.user || '–'),
                 el('td', null, el('span', {class: 'badge status-rejected'}, r.reason || '?')),
                 el('td', {class: 'muted'}, r.server || '')));
      replaceChildren(
          $('rejections'),
          table(['Time', 'Address', 'User', 'Reason', 'Server'], rows, 'Nothing refused.', {id: 'rejections-table'}));
    };

    const drawRecent = (body) => {
      const list = (body && Array.isArray(body.sessions)) ? body.sessions : [];
      const rows = list.map((s) => {
        const secs = sessionSeconds(s);
        // Totals are written at the end: a running test shows its live numbers.
        const live = s.status === 'running' ? liveById.get(s.id) : undefined;
        const cell = (dir) => {
          const bytes = live ? live[`bytes_${dir}`] : s[`bytes_${dir}`];
          const sub = live ? `now ${fmtBps(live[`bps_${dir}`])}` : secs > 0 ? fmtBps((Number(bytes) * 8) / secs) : '–';
          return twoLine(fmtBytes(bytes), sub);
        };
        return el(
            'tr', {'data-session-id': s.id, 'data-ip': s.ip},
            el('td', {class: 'num'}, el('a', {href: `${ipPageHref(s.ip)}#session=${s.id}`}, `#${s.id}`)),
            el('td', {title: isoTime(s.started_unix_ms)}, fmtTime(s.started_unix_ms)), el('td', null, ipLink(s.ip)),
            el('td', null, s.user || '–'),
            el('td', null, `${String(s.proto || '').toUpperCase()} ${s.direction || ''}`),
            el('td', {class: 'num'}, fmtDuration(secs)), el('td', {class: 'num'}, cell('in')),
            el('td', {class: 'num'}, cell('out')),
            el('td', {class: 'num'},
               String(s.proto).toLowerCase() === 'udp' ? fmtCount(live ? live.lost : s.lost) : '–'),
            el('td', null, statusBadge(s.status)), el('td', {class: 'muted'}, s.server || ''));
      });
      replaceChildren(
          $('admin-sessions'),
          table(
              [
                'Test', 'Started', 'Address', 'User', 'Kind', ['Duration', 'num'], ['In', 'num'], ['Out', 'num'],
                ['Lost', 'num'], 'Status', 'Server'
              ],
              rows, 'No tests yet.', {id: 'admin-sessions-table'}));
    };

    const topWindow = $('top-window');
    const loadTop = async () => {
      const r = await api(`/api/v1/admin/top-ips?window=${encodeURIComponent(topWindow.value)}&limit=20`);
      if (r.ok) drawTop(r.body);
      return r;
    };
    topWindow.addEventListener('change', () => {
      loadTop();
    });

    // A refused admin call after start (cookie gone, token changed): back to
    // the login form.
    const checkAuth = (r) => {
      if (r.status === 401 || r.status === 403) {
        location.reload();
        return false;
      }
      return true;
    };

    let liveCount = drawLive(live.body);
    let slowAt = 0;
    poller(async () => {
      const now = Date.now();
      const jobs = [api('/api/v1/admin/live')];
      const slow = now >= slowAt;
      if (slow) {
        // Tables that change slowly: every 5 s, or every 2 s while tests run.
        slowAt = now + (liveCount ? 2000 : 5000);
        jobs.push(
            api('/api/v1/admin/users?limit=200'), loadTop(), api('/api/v1/admin/rejections?limit=50'),
            api('/api/v1/admin/sessions?limit=50'));
      }
      const res = await Promise.all(jobs);
      if (!res.every(checkAuth)) return;
      const [lv, users, , rej, recent] = res;
      if (lv.ok) liveCount = drawLive(lv.body);
      if (slow) {
        if (users.ok) drawUsers(users.body);
        if (rej.ok) drawRejections(rej.body);
        if (recent.ok) drawRecent(recent.body);
      }
      const failed = res.find((r) => !r.ok);
      setStatusLine(
          failed ? `update failed: ${failed.error}; retrying` : `updated ${fmtTime(Date.now()).slice(11)}`, !!failed);
    }, () => 1000);
  }

  function showLogin(refusal) {
    $('login').hidden = false;
    const form = $('login-form');
    const msg = $('login-error');
    if (refusal.status === 403) {
      // Admin access is not configured (no --admin-token): a token cannot help.
      msg.textContent = refusal.error;
    }
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const token = $('token').value.trim();
      if (!token) {
        msg.textContent = 'Enter the admin token.';
        return;
      }
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      const r = await api('/api/v1/admin/login', {method: 'POST', body: new URLSearchParams({token})});
      btn.disabled = false;
      if (r.ok) {
        location.reload();
        return;
      }
      msg.textContent = r.status === 401 ? 'Wrong token.' : r.error;
      $('token').select();
    });
    $('token').focus();
  }

  // ---------------------------------------------------------------- start

  const pages = {index: pageIndex, ip: pageIp, admin: pageAdmin};
  const start = () => {
    const page = document.body.dataset.page;
    markNav(page);
    const fn = pages[page];
    if (fn) {
      fn().catch((e) => showFatal(`page error: ${e && e.message ? e.message : e}`));
    }
  };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
