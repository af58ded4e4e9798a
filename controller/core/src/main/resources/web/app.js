'use strict';
// The Rackroll web console: one page, no framework. The admin API answers as protobuf JSON
// (defaults left out, 64-bit numbers as strings); live changes come as server-sent events, and
// each event updates only what it names, in one pass.

const ROLES = ['viewer', 'deployer', 'operator', 'owner'];
const ENDED = new Set(['completed', 'failed', 'rolled_back', 'rollback_failed', 'aborted']);
const S = { me: null, page: '', arg: '', cells: new Map(), colourBy: '', versions: new Map(), deployments: new Map(),
  apps: [], pending: null };

const $ = (sel, root = document) => root.querySelector(sel);
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'style') Object.assign(e.style, v); // through the CSSOM: the policy refuses style attributes
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
/** Replaces an element's children with these, lists among them flattened (replaceChildren would print a list as text). */
const fill = (e, ...kids) => e.replaceChildren(...kids.flat());
const time = ms => ms && Number(ms) > 0 ? new Date(Number(ms)).toLocaleString() : '';
const may = role => S.me && ROLES.indexOf(S.me.role) >= ROLES.indexOf(role);

function say(text, error = false) {
  const m = $('#message');
  m.textContent = text;
  m.className = error ? 'error' : '';
  m.hidden = !text;
}

async function request(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (method === 'POST') {
    opts.headers['Content-Type'] = 'application/json';
    if (S.me) opts.headers['X-Rackroll-Csrf'] = S.me.csrf;
    opts.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opts);
  const json = await r.json().catch(() => ({ error: r.status + ' ' + r.statusText }));
  if (!r.ok) {
    const e = new Error(json.error || ('HTTP ' + r.status));
    e.status = r.status;
    throw e;
  }
  return json;
}
const call = (name, body) => request('POST', '/api/call/' + name, body);

/** A button for an admin action: disabled, with why, for a role that may not take it. */
function action(label, role, run, cls = '') {
  const b = el('button', { class: cls, 'data-action': label });
  b.textContent = label;
  if (!may(role)) {
    b.disabled = true;
    b.title = 'needs the ' + role + ' role or above (you are ' + S.me.role + ')';
  }
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const msg = await run();
      if (msg) say(msg);
    } catch (e) {
      say(e.message, true);
    } finally {
      b.disabled = !may(role);
    }
  });
  return b;
}

// ---- sign-in and the frame ----

async function boot() {
  const link = location.hash.startsWith('#login=') ? location.hash.slice(7) : '';
  if (link) {
    history.replaceState(null, '', '/#fleet'); // the secret leaves the address bar and the history
    try {
      S.me = await request('POST', '/api/session', { link });
    } catch (e) {
      return signedOut(e.message);
    }
  } else {
    try {
      S.me = await request('GET', '/api/me');
    } catch (e) {
      return signedOut(e.status === 401 ? '' : e.message);
    }
  }
  $('#who').textContent = S.me.admin + ' (' + S.me.role + ')';
  $('#nav').hidden = false;
  const out = $('#signout');
  out.hidden = false;
  out.addEventListener('click', async () => {
    await request('POST', '/api/logout').catch(() => {});
    S.me = null;
    signedOut('Signed out.');
  });
  window.addEventListener('hashchange', route);
  listen();
  route();
}

function signedOut(why) {
  $('#nav').hidden = true;
  $('#signout').hidden = true;
  $('#who').textContent = '';
  if (S.events) S.events.close();
  const main = $('#main');
  main.replaceChildren(el('div', { class: 'box', id: 'signin' },
    el('h2', {}, 'Sign in'),
    why ? el('p', { class: 'error' }, why) : null,
    el('p', {}, 'On a machine with your admin certificate, run ', el('code', {}, 'rackroll web login'),
      ' and open the link it prints. Each link works once, for 5 minutes.')));
}

function route() {
  const [page, ...rest] = (location.hash.slice(1) || 'fleet').split('/');
  S.page = page;
  S.arg = decodeURIComponent(rest.join('/'));
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('current', a.dataset.page === page || (page === 'host' && a.dataset.page === 'fleet')
      || (page === 'deployment' && a.dataset.page === 'deployments'));
  }
  say('');
  const pages = { fleet: fleetPage, host: hostPage, deployments: deploymentsPage, deployment: deploymentPage,
    releases: releasesPage, audit: auditPage };
  (pages[page] || fleetPage)().catch(e => say(e.message, true));
}

// ---- live changes ----

function listen() {
  const live = $('#live');
  const es = new EventSource('/api/events');
  S.events = es;
  es.addEventListener('hello', () => { live.classList.add('on'); if (S.connectedBefore) route(); S.connectedBefore = true; });
  es.addEventListener('fleet', e => {
    const d = JSON.parse(e.data);
    if (d.reload) { if (S.page === 'fleet') fleetPage(); return; }
    later(() => d.cells.forEach(updateCell));
    if (S.page === 'host' && d.cells.some(c => c.id === S.arg)) hostPage();
  });
  es.addEventListener('deployments', e => {
    const ids = JSON.parse(e.data).ids;
    if (S.page === 'deployments') ids.forEach(refreshDeployment);
    if (S.page === 'deployment' && ids.includes(S.arg)) deploymentPage(true);
  });
  es.addEventListener('audit', () => { if (S.page === 'audit') auditRows(); });
  es.onerror = () => {
    live.classList.remove('on');
    // A session that ended closes its stream for good: find out, and say so.
    request('GET', '/api/me').catch(e => { if (e.status === 401) { es.close(); signedOut('Your session is over.'); } });
  };
}

/** Runs DOM changes in the next frame, all of them together. */
function later(fn) {
  if (!S.pending) {
    S.pending = [];
    requestAnimationFrame(() => { const p = S.pending; S.pending = null; p.forEach(f => f()); fleetCounts(); });
  }
  S.pending.push(fn);
}

// ---- Fleet ----

async function fleetPage() {
  const [fleet, releases] = await Promise.all([request('GET', '/api/fleet'), call('ListReleases')]);
  S.apps = [...new Set((releases.releases || []).map(r => r.name))].sort();
  if (S.colourBy && !S.apps.includes(S.colourBy)) S.colourBy = '';
  S.cells = new Map();
  const racks = new Map();
  for (const c of fleet.cells) {
    if (!racks.has(c.rack)) racks.set(c.rack, []);
    racks.get(c.rack).push(c);
  }
  const select = el('select', { id: 'colour-by', onchange: e => { S.colourBy = e.target.value; recolour(); } },
    el('option', { value: '' }, 'connection'), S.apps.map(a => el('option', { value: a, selected: a === S.colourBy }, a)));
  const main = el('div', { id: 'fleet' },
    el('h2', {}, 'Fleet'),
    el('div', { class: 'toolbar' },
      el('label', {}, 'Colour by ', select),
      el('span', { class: 'legend', id: 'legend' }),
      el('span', { class: 'counts', id: 'fleet-counts' })));
  for (const [rack, cells] of [...racks.entries()].sort()) main.append(rackBox(rack, cells));
  if (!fleet.cells.length) main.append(el('p', { class: 'muted' }, 'No hosts yet: enroll some with a token (rackroll token create).'));
  $('#main').replaceChildren(main);
  recolour();
  fleetCounts();
}

function rackBox(rack, cells) {
  const box = el('section', { class: 'box rack', 'data-rack': rack });
  const grid = el('div', { class: 'cells' });
  for (const c of cells) grid.append(cellElement(c));
  const form = el('div', { class: 'form', hidden: true });
  const toggle = action('Roll back rack…', 'operator', async () => { form.hidden = !form.hidden; });
  box.append(el('h3', {}, 'Rack ' + (rack || '(none)'), el('span', { class: 'counts muted' }), rack ? toggle : null), form, grid);
  if (rack) {
    const app = el('select', { name: 'app' }, S.apps.map(a => el('option', { value: a }, a)));
    const to = el('input', { name: 'to', placeholder: 'to version (default: each host’s previous)', size: 34 });
    form.append('Roll back ', app, ' on every host of rack ' + rack, to,
      action('Roll back', 'operator', async () => {
        const d = await call('Rollback', { name: app.value, selector: 'rack=' + rack, toVersion: to.value.trim() });
        form.hidden = true;
        location.hash = '#deployment/' + d.id;
        return 'Rollback ' + d.id + ' of ' + app.value + ' on rack ' + rack + ' started.';
      }, 'danger'));
  }
  return box;
}

function cellElement(c) {
  const a = el('a', { href: '#host/' + encodeURIComponent(c.id), 'data-id': c.id });
  S.cells.set(c.id, { c, e: a });
  paint(a, c);
  return a;
}

function paint(a, c) {
  let cls = 'cell s-' + c.state + ((c.unhealthy || []).length ? ' unhealthy' : '');
  if (S.colourBy) {
    const v = (c.apps || {})[S.colourBy];
    cls += ' versioned ' + (v ? 'v' + versionIndex(v) % 6 : 'vnone');
  }
  a.className = cls;
  const apps = Object.entries(c.apps || {}).map(([k, v]) => k + ' ' + (v || '-')).join(', ');
  a.title = c.id + (c.host ? ' (' + c.host + ')' : '') + ': ' + c.state + (apps ? '; ' + apps : '')
    + ((c.unhealthy || []).length ? '; unhealthy: ' + c.unhealthy.join(', ') : '');
}

function versionIndex(v) {
  if (!S.versions.has(v)) S.versions.set(v, S.versions.size);
  return S.versions.get(v);
}

function recolour() {
  S.versions = new Map();
  const seen = new Set();
  for (const { c } of S.cells.values()) { const v = (c.apps || {})[S.colourBy]; if (v) seen.add(v); }
  [...seen].sort().forEach(versionIndex);
  for (const { c, e } of S.cells.values()) paint(e, c);
  const legend = $('#legend');
  if (!legend) return;
  legend.replaceChildren(...(S.colourBy
    ? [...S.versions.entries()].map(([v, i]) => el('span', {}, el('i', { class: 'cell v' + i % 6 }), S.colourBy + ' ' + v))
      .concat([el('span', {}, el('i', { class: 'cell vnone' }), 'not installed')])
    : ['connected', 'stale', 'disconnected'].map(s => el('span', {}, el('i', { class: 'cell s-' + s }), s))
      .concat([el('span', {}, el('i', { class: 'cell s-connected unhealthy' }), 'app unhealthy')])));
}

function updateCell(c) {
  const known = S.cells.get(c.id);
  if (!known) {
    if (S.page === 'fleet') fleetPage(); // a new host: draw the page again
    return;
  }
  if (known.c.rack !== c.rack) { if (S.page === 'fleet') fleetPage(); return; }
  known.c = c;
  if (S.colourBy && (c.apps || {})[S.colourBy] && !S.versions.has(c.apps[S.colourBy])) versionIndex(c.apps[S.colourBy]);
  paint(known.e, c);
}

function fleetCounts() {
  const total = {};
  const byRack = new Map();
  for (const { c } of S.cells.values()) {
    total[c.state] = (total[c.state] || 0) + 1;
    const r = byRack.get(c.rack) || {};
    r[c.state] = (r[c.state] || 0) + 1;
    byRack.set(c.rack, r);
  }
  const text = counts => Object.entries(counts).sort().map(([s, n]) => n + ' ' + s).join(' · ');
  const all = $('#fleet-counts');
  if (all) all.textContent = S.cells.size + ' hosts: ' + text(total);
  for (const box of document.querySelectorAll('section.rack')) {
    box.querySelector('.counts').textContent = text(byRack.get(box.dataset.rack) || {});
  }
}

// ---- One host ----

async function hostPage() {
  const id = S.arg;
  const [a, h] = await Promise.all([call('GetAgent', { agentId: id }), call('AgentHistory', { agentId: id })]);
  const f = a.facts || {};
  const os = f.os || {};
  const kv = rows => el('table', { class: 'kv' }, rows.filter(r => r[1] !== undefined && r[1] !== '').map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v))));
  $('#main').replaceChildren(el('div', { id: 'host' },
    el('h2', {}, 'Host ', a.agentId, ' ', el('span', { class: 'state ' + a.state }, a.state)),
    el('div', { class: 'box' }, kv([
      ['hostname', f.hostname], ['labels', Object.entries(a.labels || {}).map(([k, v]) => k + '=' + v).join(', ')],
      ['operating system', [os.family, os.version, os.kernel].filter(Boolean).join(' ')],
      ['hardware', [(f.system || {}).vendor, (f.system || {}).model, (f.system || {}).serial && 'serial ' + f.system.serial]
        .filter(v => v && !/unknown/i.test(v)).join(' ')],
      ['cpu', [(f.cpu || {}).model, (f.cpu || {}).logicalCores && f.cpu.logicalCores + ' threads', f.arch].filter(Boolean).join(', ')],
      ['memory', f.memoryBytes ? (Number(f.memoryBytes) / 2 ** 30).toFixed(1) + ' GiB' : ''], ['agent', a.agentVersion],
      ['last seen', time(a.lastSeenEpochMillis)], ['state since', time(a.stateSinceEpochMillis)],
      ['certificate until', time(a.certificateNotAfterEpochMillis)],
      ['unhealthy apps', (a.unhealthyApps || []).join(', ')], ['warnings', (a.warnings || []).join('; ')]])),
    el('h3', {}, 'Apps'),
    el('table', { id: 'host-apps' }, el('tr', {}, ['app', 'running', 'phase', 'last health', 'releases kept', 'updated'].map(t => el('th', {}, t))),
      (a.apps || []).map(p => el('tr', {}, el('td', {}, p.app), el('td', {}, p.currentVersion || '-'),
        el('td', {}, el('span', { class: 'state ' + (p.phase || '') }, p.phase || ''), p.failure ? ' ' + p.failure : ''),
        el('td', {}, p.health || ''), el('td', {}, (p.keptVersions || []).join(', ')), el('td', {}, time(p.updatedEpochMillis))))),
    el('h3', { class: 'gap' }, 'History'),
    el('table', {}, el('tr', {}, ['when', 'deployment', 'app', 'phase', 'version', 'detail'].map(t => el('th', {}, t))),
      (h.transitions || []).slice(-200).reverse().map(t => el('tr', {}, el('td', {}, time(t.atEpochMillis)),
        el('td', {}, t.deploymentId ? el('a', { href: '#deployment/' + t.deploymentId }, t.deploymentId) : ''),
        el('td', {}, t.app || ''), el('td', {}, el('span', { class: 'state ' + t.phase }, t.phase)),
        el('td', {}, t.version || ''), el('td', {}, t.detail || ''))))));
}

// ---- Deployments ----

function durationMillis(text) {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text || '');
  if (!m) return 0;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2]];
}

/** When the running batch's health gate ends: its hosts all active, plus the gate. */
function gateEnds(d) {
  const batch = (d.hosts || []).filter(h => (h.batch || 0) === (d.batch || 0));
  if (!batch.length || !batch.every(h => h.phase === 'ACTIVE')) return 0;
  const gate = durationMillis((d.options || {}).healthGate);
  return gate ? Math.max(...batch.map(h => Number(h.updatedEpochMillis || 0))) + gate : 0;
}

function deploymentCard(d) {
  const hosts = d.hosts || [];
  const done = hosts.filter(h => ['ACTIVE', 'SKIPPED'].includes(h.phase)).length;
  const phases = {};
  hosts.forEach(h => { phases[h.phase] = (phases[h.phase] || 0) + 1; });
  const control = (label, act, extra = {}, cls = '') => action(label, 'deployer', async () => {
    const r = await call('ControlDeployment', Object.assign({ id: d.id, action: act }, extra));
    show(r);
    return label + ': ' + d.id + ' is ' + r.state + '.';
  }, cls);
  const state = d.state;
  const buttons = [];
  if (state === 'awaiting_approval') buttons.push(control('Approve', 'approve', {}, 'primary'));
  if (state === 'running' || state === 'waiting_window') buttons.push(control('Pause', 'pause'));
  if (state === 'paused') buttons.push(control('Resume', 'resume'));
  if (!ENDED.has(state)) {
    buttons.push(control('Abort', 'abort', {}, 'danger'));
    buttons.push(control('Abort and roll back', 'abort', { rollback: true }, 'danger'));
  }
  const gate = state === 'running' ? gateEnds(d) : 0;
  const card = el('div', { class: 'box deployment', 'data-id': d.id, 'data-state': state },
    el('h3', {}, el('a', { href: '#deployment/' + d.id }, d.id), ' ', (d.kind === 'rollback' ? 'rollback of ' : '') + d.app + (d.version ? '@' + d.version : ''),
      el('span', { class: 'state ' + state }, state)),
    el('div', { class: 'muted' }, 'selector ', d.selector || '(all)', ' · by ', d.createdBy || '', ' · ', time(d.createdEpochMillis),
      d.environment ? ' · environment ' + d.environment : ''),
    el('div', { class: 'bar' }, el('div', { style: { width: (hosts.length ? Math.round(100 * done / hosts.length) : 0) + '%' } })),
    el('div', {}, 'batch ', el('b', { class: 'batch' }, String((d.batch || 0) + 1) + ' of ' + (d.batches || 0)),
      ' · failures ', el('b', { class: 'budget' }, (d.failures || 0) + ' of ' + (d.allowedFailures || 0) + ' allowed'),
      ' · ', done + ' of ' + hosts.length + ' hosts done',
      gate ? el('span', {}, ' · health gate ', el('span', { class: 'countdown', 'data-ends': gate }, '')) : null),
    el('div', { class: 'chips' }, Object.entries(phases).map(([p, n]) => el('span', { class: 'state ' + p }, n + ' ' + p))),
    d.reason ? el('div', { class: 'muted' }, d.reason) : null,
    el('div', { class: 'actions' }, buttons));
  tick();
  return card;
}

/** The health gates' countdowns, once a second while one shows. */
function tick() {
  if (S.ticking) return;
  S.ticking = setInterval(() => {
    const all = document.querySelectorAll('.countdown');
    if (!all.length) { clearInterval(S.ticking); S.ticking = null; return; }
    for (const c of all) {
      const left = Math.max(0, Math.ceil((Number(c.dataset.ends) - Date.now()) / 1000));
      c.textContent = left + ' s left';
    }
  }, 250);
}

function show(d) {
  const known = S.deployments.get(d.id);
  const same = known && JSON.stringify(known) === JSON.stringify(d);
  S.deployments.set(d.id, d);
  const old = document.querySelector('.deployment[data-id="' + CSS.escape(d.id) + '"]');
  if (S.page === 'deployments') {
    const running = $('#running');
    if (!running) return;
    if (ENDED.has(d.state)) {
      if (old) old.remove();
      historyRows();
    } else if (old) { if (!same) old.replaceWith(deploymentCard(d)); } // a button is never swapped under the pointer for nothing
    else running.prepend(deploymentCard(d));
    $('#none-running').hidden = running.children.length > 0;
  } else if (S.page === 'deployment' && d.id === S.arg && old && !same) {
    old.replaceWith(deploymentCard(d));
  }
}

async function refreshDeployment(id) {
  show(await call('GetDeployment', { id }));
}

async function deploymentsPage() {
  const list = await call('ListDeployments', { limit: 500 });
  S.deployments = new Map((list.deployments || []).map(d => [d.id, d]));
  const running = el('div', { id: 'running' });
  const filter = el('input', { id: 'history-filter', placeholder: 'filter: app, version, selector, person…', size: 36,
    oninput: historyRows });
  const states = el('select', { id: 'history-state', onchange: historyRows }, el('option', { value: '' }, 'any end'),
    [...ENDED].map(s => el('option', { value: s }, s)));
  $('#main').replaceChildren(el('div', { id: 'deployments' },
    el('h2', {}, 'Running'), running, el('p', { class: 'muted', id: 'none-running' }, 'Nothing is rolling out.'),
    el('h2', {}, 'History'), el('div', { class: 'toolbar' }, filter, states),
    el('table', { id: 'history' })));
  for (const d of S.deployments.values()) if (!ENDED.has(d.state)) running.append(await fullCard(d.id));
  $('#none-running').hidden = running.children.length > 0;
  historyRows();
}

async function fullCard(id) {
  const d = await call('GetDeployment', { id });
  S.deployments.set(id, d);
  return deploymentCard(d);
}

function historyRows() {
  const t = $('#history');
  if (!t) return;
  const q = ($('#history-filter').value || '').toLowerCase();
  const st = $('#history-state').value;
  const rows = [...S.deployments.values()].filter(d => ENDED.has(d.state) && (!st || d.state === st)
    && (!q || [d.id, d.app, d.version, d.selector, d.createdBy, d.environment, d.kind].join(' ').toLowerCase().includes(q)))
    .sort((a, b) => Number(b.createdEpochMillis) - Number(a.createdEpochMillis));
  fill(t, el('tr', {}, ['id', 'what', 'selector', 'by', 'started', 'ended', 'state'].map(x => el('th', {}, x))),
    rows.map(d => el('tr', {}, el('td', {}, el('a', { href: '#deployment/' + d.id }, d.id)),
      el('td', {}, (d.kind === 'rollback' ? 'rollback ' : '') + d.app + (d.version ? '@' + d.version : '')),
      el('td', {}, d.selector || ''), el('td', {}, d.createdBy || ''), el('td', {}, time(d.createdEpochMillis)),
      el('td', {}, time(d.updatedEpochMillis)), el('td', {}, el('span', { class: 'state ' + d.state }, d.state)))));
}

async function deploymentPage(live = false) {
  const d = await call('GetDeployment', { id: S.arg });
  const known = S.deployments.get(d.id);
  if (live && known && JSON.stringify(known) === JSON.stringify(d)) return; // nothing changed: nothing redrawn
  S.deployments.set(d.id, d);
  $('#main').replaceChildren(el('div', { id: 'deployment' },
    el('h2', {}, 'Deployment ', d.id), deploymentCard(d),
    el('table', { id: 'hosts' }, el('tr', {}, ['host', 'batch', 'phase', 'version', 'before', 'updated', 'failure'].map(x => el('th', {}, x))),
      (d.hosts || []).map(h => el('tr', {}, el('td', {}, el('a', { href: '#host/' + h.agentId }, h.agentId), h.hostname ? ' (' + h.hostname + ')' : ''),
        el('td', {}, String((h.batch || 0) + 1)), el('td', {}, el('span', { class: 'state ' + h.phase }, h.phase)),
        el('td', {}, h.version || ''), el('td', {}, h.beforeVersion || ''), el('td', {}, time(h.updatedEpochMillis)),
        el('td', {}, h.failure || ''))))));
}

// ---- Releases and environments ----

async function releasesPage() {
  const [envs, releases] = await Promise.all([call('GetEnvironments'), call('ListReleases')]);
  const apps = [...new Set((releases.releases || []).map(r => r.name))].sort();
  const histories = await Promise.all(apps.map(a => call('ReleaseHistory', { name: a })));
  const lifecycle = envs.lifecycle || [];
  const main = el('div', { id: 'releases' }, el('h2', {}, 'Environments'),
    el('table', { id: 'environments' }, el('tr', {}, ['environment', 'selector', 'hosts', 'now', 'when', 'windows', 'freezes'].map(x => el('th', {}, x))),
      (envs.environments || []).map(e => el('tr', {}, el('td', {}, e.name), el('td', {}, e.selector || ''),
        el('td', {}, (e.connected || 0) + ' of ' + (e.agents || 0) + ' connected'),
        el('td', {}, el('span', { class: 'state ' + (e.open ? 'running' : 'paused') }, e.open ? 'open' : 'closed'), e.closedReason ? ' ' + e.closedReason : ''),
        el('td', {}, e.open ? (!e.openUntilShown || e.openUntilShown === 'never' ? 'no window closes it' : 'until ' + e.openUntilShown)
          : 'opens ' + (e.nextOpenShown || '')),
        el('td', {}, (e.windows || []).join('; ') || 'any time'), el('td', {}, (e.freezes || []).join('; '))))),
    lifecycle.length ? el('p', { class: 'muted' }, 'Promotion order: ', lifecycle.join(' → '))
      : el('p', { class: 'muted' }, 'No environments: define them with rackroll env apply -f FILE.'));
  apps.forEach((app, i) => {
    main.append(el('h2', {}, app));
    main.append(el('table', { class: 'versions', 'data-app': app },
      el('tr', {}, ['version', 'running on', 'completed in', 'failed in', 'pushed', 'promote'].map(x => el('th', {}, x))),
      (histories[i].versions || []).map(v => {
        const r = v.release || {};
        return el('tr', { 'data-version': r.version }, el('td', {}, r.version, r.signedBy ? ' ✓' : ''),
          el('td', {}, Object.entries(v.running || {}).map(([env, n]) => (env || '(no environment)') + ': ' + n).join(', ') || '-'),
          el('td', {}, (v.completed || []).join(', ')), el('td', {}, (v.failed || []).join(', ')),
          el('td', {}, time(r.pushedEpochMillis), ' by ', r.pushedBy || ''),
          el('td', { class: 'actions' }, lifecycle.map(env => action('to ' + env, 'deployer', async () => {
            const d = await call('Promote', { name: app, version: r.version, environment: env });
            location.hash = '#deployment/' + d.id;
            return 'Promoting ' + app + '@' + r.version + ' to ' + env + ': ' + d.id + ' is ' + d.state + '.';
          }))));
      })));
  });
  $('#main').replaceChildren(main);
}

// ---- Audit ----

async function auditPage() {
  const field = (id, placeholder, type = 'text') => el('input', { id, placeholder, type, onchange: auditRows, oninput: auditRows });
  $('#main').replaceChildren(el('div', { id: 'audit' }, el('h2', {}, 'Audit'),
    el('div', { class: 'toolbar' }, field('audit-who', 'person'), field('audit-target', 'deployment, host or anything else'),
      el('label', {}, 'from ', field('audit-from', '', 'datetime-local')), el('label', {}, 'to ', field('audit-to', '', 'datetime-local'))),
    el('table', { id: 'audit-table' })));
  await auditRows();
}

async function auditRows() {
  const t = $('#audit-table');
  if (!t) return;
  const who = $('#audit-who').value.trim();
  const asked = S.auditAsked = (S.auditAsked || 0) + 1;
  const list = await call('ListAudit', { limit: 1000, who });
  if (asked !== S.auditAsked || !$('#audit-table')) return; // typing asked again since: only the latest answer shows
  const q = $('#audit-target').value.trim().toLowerCase();
  const from = $('#audit-from').value ? new Date($('#audit-from').value).getTime() : 0;
  const to = $('#audit-to').value ? new Date($('#audit-to').value).getTime() : Infinity;
  const rows = (list.entries || []).filter(a => (!q || [a.action, a.target, a.detail].join(' ').toLowerCase().includes(q))
    && Number(a.atEpochMillis) >= from && Number(a.atEpochMillis) <= to);
  fill(t, el('tr', {}, ['when', 'who', 'did', 'to', 'detail'].map(x => el('th', {}, x))),
    rows.map(a => el('tr', {}, el('td', {}, time(a.atEpochMillis)), el('td', {}, a.actor), el('td', {}, a.action),
      el('td', {}, a.target), el('td', {}, a.detail || ''))));
}

boot();
