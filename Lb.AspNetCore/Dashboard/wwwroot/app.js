// Lb dashboard: plain JS, no build step. Talks only to the admin JSON API on this origin.
'use strict';

const TOKEN_KEY = 'lb.adminToken';
const POLL_MS = 1000;
const SPARK_POINTS = 60;

const state = {
  status: null, cluster: null, runtime: null, history: null,
  config: null,            // last GET /api/config body: {routes, upstream_pools, version, applied_at}
  renderedConfig: -1,      // config version the tables were built for
  jsonDirty: false,
  stats: { prev: null, series: new Map() },
  ticks: 0,
  down: false,
};

// ---------- small DOM helpers (text only: data never becomes HTML) ----------
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const badge = (text, kind) => h('span', { class: 'badge' + (kind ? ' ' + kind : '') }, text);

// ---------- API ----------
class ApiDown extends Error {}
let tokenPrompt = null;

async function api(method, path, body, extraHeaders) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers = { Accept: 'application/json', 'X-Lb-Origin': 'dashboard', ...(extraHeaders || {}) };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (e) {
      throw new ApiDown(e && e.message ? e.message : 'network error');
    }
    const type = res.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
    if (res.status === 401 && attempt === 0) {
      const given = await askToken(sessionStorage.getItem(TOKEN_KEY) ? 'The node rejected the admin token. Enter the right one.' : 'This node requires an admin token for this action.');
      if (given) continue;
    }
    return { status: res.status, ok: res.ok, data, etag: res.headers.get('ETag') };
  }
  throw new Error('unreachable');
}

function askToken(why) {
  if (tokenPrompt) return tokenPrompt;
  const dlg = $('#dlg-token');
  $('#token-why').textContent = why + ' It is kept for this browser tab only (session storage).';
  $('#token-input').value = '';
  tokenPrompt = new Promise(resolve => {
    dlg.addEventListener('close', () => {
      tokenPrompt = null;
      resolve(dlg.returnValue === 'ok');
    }, { once: true });
  });
  dlg.returnValue = '';
  dlg.showModal();
  return tokenPrompt;
}

function setupTokenDialog() {
  const dlg = $('#dlg-token');
  $('#form-token').addEventListener('submit', e => {
    e.preventDefault();
    const v = $('#token-input').value.trim();
    if (!v) { $('#token-input').focus(); return; }
    sessionStorage.setItem(TOKEN_KEY, v);
    dlg.close('ok');
  });
  $('[data-action=cancel]', dlg).addEventListener('click', () => dlg.close('cancel'));
  $('[data-action=clear]', dlg).addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); dlg.close('cancel'); updateTokenButton(); });
  $('#btn-token').addEventListener('click', async () => { await askToken('Set the admin token for this node.'); updateTokenButton(); });
  updateTokenButton();
}
function updateTokenButton() {
  $('#btn-token').textContent = sessionStorage.getItem(TOKEN_KEY) ? 'Admin token ✓' : 'Admin token';
}

// ---------- banner ----------
let bannerTimer = 0;
function banner(text, kind, sticky) {
  const el = $('#banner');
  clearTimeout(bannerTimer);
  if (!text) { el.hidden = true; return; }
  el.textContent = text;
  el.className = 'banner' + (kind === 'error' ? ' error' : '');
  el.hidden = false;
  if (!sticky) bannerTimer = setTimeout(() => { el.hidden = true; }, 6000);
}
function describeError(r) {
  const d = r.data && typeof r.data === 'object' ? r.data : { message: String(r.data || '').trim() };
  const parts = [d.message || ('HTTP ' + r.status)];
  for (const e of d.errors || []) parts.push((e.field ? e.field + ': ' : '') + e.message + (e.hint ? ' (' + e.hint + ')' : ''));
  if (d.leader_address) parts.push('leader: ' + d.leader_address);
  return parts.join(' — ');
}

// ---------- config helpers ----------
// Keys in the order the node writes them, so a diff shows what changed and not how a form built the object.
function ordered(obj, keys, nested) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return obj;
  const out = {};
  for (const k of [...keys, ...Object.keys(obj).filter(k => !keys.includes(k))]) {
    if (!(k in obj)) continue;
    out[k] = nested && nested[k] ? nested[k](obj[k]) : obj[k];
  }
  return out;
}
const ROUTE_OPTIONAL = [
  ['#route-connect-timeout', 'connect_timeout', 'text'], ['#route-server-timeout', 'server_timeout', 'text'], ['#route-client-timeout', 'client_timeout', 'text'],
  ['#route-max-body', 'max_request_body_size', 'int'], ['#route-max-header-count', 'max_request_header_count', 'int'], ['#route-max-headers-size', 'max_request_headers_size', 'int'],
];
const POOL_OPTIONAL = [
  ['#pool-connect-timeout', 'connect_timeout', 'text'], ['#pool-response-timeout', 'response_timeout', 'text'], ['#pool-slow-start', 'slow_start', 'text'],
  ['#pool-max-connections', 'max_connections', 'int'], ['#pool-queue-size', 'queue_size', 'int'], ['#pool-queue-timeout', 'queue_timeout', 'text'],
];
// Optional fields: empty removes the key (the default applies); an integer field keeps text it cannot read, so the server names the mistake.
function fillOptional(obj, fields) { for (const [sel, key] of fields) $(sel).value = obj && obj[key] !== undefined && obj[key] !== null ? String(obj[key]) : ''; }
function readOptional(obj, fields) {
  for (const [sel, key, kind] of fields) {
    const v = $(sel).value.trim();
    if (!v) delete obj[key]; else obj[key] = kind === 'int' && /^-?\d+$/.test(v) ? Number(v) : v;
  }
}
const UPSTREAM_KEYS = ['weight', 'state', 'max_connections'];
function upstreamLine(u) {
  if (typeof u === 'string') return u;
  return [u.address, ...UPSTREAM_KEYS.filter(k => u[k] !== undefined && u[k] !== null && !(k === 'weight' && u[k] === 1)).map(k => `${k}=${u[k]}`)].join(' ');
}
function parseUpstreamLine(line) {
  const [address, ...rest] = line.split(/\s+/);
  if (rest.length === 0) return address;
  const u = { address };
  for (const part of rest) {
    const m = /^([a-z_]+)=(\S*)$/.exec(part);
    if (!m) { u[part] = true; continue; } // the server reports the unknown field
    u[m[1]] = /^-?\d+$/.test(m[2]) && m[1] !== 'state' ? Number(m[2]) : m[2];
  }
  return u;
}
const orderRoute = r => ordered(r, ['id', 'enabled', 'algorithm', 'hash_key', 'match', 'upstream_pool', 'sticky_cookie'], {
  match: m => ordered(m, ['hosts', 'path'], { path: p => ordered(p, ['type', 'value']) }),
  sticky_cookie: c => ordered(c, ['value', 'secure', 'same_site', 'max_age']),
});
const orderPool = p => ordered(p, ['upstreams', 'health_check', 'passive_health', 'connect_timeout', 'response_timeout', 'slow_start', 'max_connections', 'queue_size', 'queue_timeout'], {
  upstreams: list => Array.isArray(list) ? list.map(u => ordered(u, ['address', 'weight', 'state', 'max_connections'])) : list,
  health_check: hc => ordered(hc, ['type', 'path', 'interval', 'timeout', 'expect_status', 'rise', 'fall']),
  passive_health: ph => ordered(ph, ['consecutive_failures', 'ejection_time', 'count5xx']),
});
function editable(doc) {
  const routes = ((doc && doc.routes) || []).map(orderRoute);
  const pools = (doc && doc.upstream_pools) || {};
  const sorted = {};
  for (const k of Object.keys(pools).sort()) sorted[k] = orderPool(pools[k]);
  const out = { routes, upstream_pools: sorted };
  // TCP listeners travel with every edit (tcp.js), so a route or pool change never drops them.
  if (doc && doc.tcp_listeners && doc.tcp_listeners.length) out.tcp_listeners = doc.tcp_listeners.map(orderTcpListener);
  return JSON.parse(JSON.stringify(out));
}
const pretty = doc => JSON.stringify(editable(doc), null, 2);

// Line diff (LCS); configurations are small enough for the quadratic table, larger ones fall back to a plain listing.
function lineDiff(a, b) {
  const x = a.split('\n'), y = b.split('\n');
  if (x.length * y.length > 4e6) return [...x.map(l => ['-', l]), ...y.map(l => ['+', l])];
  const n = x.length, m = y.length;
  const t = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) t[i][j] = x[i] === y[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push([' ', x[i]]); i++; j++; }
    else if (t[i + 1][j] >= t[i][j + 1]) out.push(['-', x[i++]]);
    else out.push(['+', y[j++]]);
  }
  while (i < n) out.push(['-', x[i++]]);
  while (j < m) out.push(['+', y[j++]]);
  return out;
}
function renderDiff(pre, before, after) {
  const lines = lineDiff(before, after);
  pre.replaceChildren();
  let added = 0, removed = 0;
  const changed = lines.map(([k]) => k !== ' ');
  const near = i => { for (let d = -3; d <= 3; d++) if (changed[i + d]) return true; return false; };
  let skipped = 0;
  lines.forEach(([k, text], i) => {
    if (k === '+') added++;
    if (k === '-') removed++;
    if (k === ' ' && !near(i)) { skipped++; return; }
    if (skipped) { pre.append(h('span', { class: 'gap' }, `  … ${skipped} unchanged line${skipped === 1 ? '' : 's'}`)); skipped = 0; }
    pre.append(h('span', { class: k === '+' ? 'add' : k === '-' ? 'del' : '' }, `${k} ${text}`));
  });
  if (skipped) pre.append(h('span', { class: 'gap' }, `  … ${skipped} unchanged line${skipped === 1 ? '' : 's'}`));
  if (!added && !removed) pre.append(h('span', { class: 'gap' }, 'No differences.'));
  return { added, removed };
}

// ---------- polling ----------
async function loadConfig() {
  const r = await api('GET', '/api/config');
  if (!r.ok) { banner('Could not read the configuration: ' + describeError(r), 'error', true); return; }
  state.config = r.data;
  if (!state.jsonDirty) $('#json-editor').value = pretty(r.data);
  renderConfig();
}
async function loadHistory() {
  const r = await api('GET', '/api/config/history');
  if (r.ok) { state.history = r.data; renderHistory(); }
  else if (r.status === 501) { state.history = { limit: 0, entries: [], unavailable: describeError(r) }; renderHistory(); }
}
async function loadCluster() {
  const r = await api('GET', '/api/cluster');
  if (r.ok) { state.cluster = r.data; renderMembers(); }
}

async function tick() {
  try {
    const [status, runtime, stats] = await Promise.all([api('GET', '/api/status'), api('GET', '/api/runtime'), api('GET', '/api/stats/routes')]);
    if (state.down) { state.down = false; banner(''); }
    if (status.ok) state.status = status.data;
    if (runtime.ok) state.runtime = runtime.data;
    if (stats.ok) takeStats(stats.data);
    if (state.ticks % 5 === 0) await loadCluster();
    const version = state.status && state.status.node ? state.status.node.version : undefined;
    if (!state.config || (version !== undefined && version !== state.config.version)) {
      await loadConfig();
      await loadHistory();
    } else if (state.ticks % 10 === 0) {
      await loadHistory();
    }
    renderNode();
    renderLive();
  } catch (e) {
    if (e instanceof ApiDown) { state.down = true; banner('Lost contact with the node (' + e.message + '); retrying…', 'error', true); }
    else throw e;
  } finally {
    state.ticks++;
    setTimeout(tick, POLL_MS);
  }
}

// ---------- per-route stats: rates and p99 from deltas of cumulative counters ----------
function takeStats(sample) {
  const now = Date.parse(sample.at) || Date.now();
  const prev = state.stats.prev;
  const current = new Map(sample.routes.map(r => [r.route, r]));
  if (prev) {
    const dt = Math.max((now - prev.at) / 1000, 0.001);
    const names = new Set([...current.keys(), ...state.stats.series.keys()]);
    for (const name of names) {
      const c = current.get(name), p = prev.routes.get(name);
      let point = { rate: 0, err: 0, p99: null };
      if (c) {
        const dReq = c.requests - (p ? p.requests : 0);
        const dErr = c.errors - (p ? p.errors : 0);
        if (dReq >= 0 && dErr >= 0) {
          point = { rate: dReq / dt, err: dReq > 0 ? dErr / dReq : 0, p99: percentile(sample.bucket_bounds, c.duration_buckets, p && p.duration_buckets, 0.99) };
        }
      }
      const s = state.stats.series.get(name) || [];
      s.push(point);
      if (s.length > SPARK_POINTS) s.shift();
      state.stats.series.set(name, s);
    }
  }
  state.stats.prev = { at: now, routes: current };
}
function percentile(bounds, now, before, q) {
  if (!now) return null;
  const d = now.map((v, i) => v - (before ? before[i] || 0 : 0));
  const total = d.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const target = q * total;
  let cum = 0;
  for (let i = 0; i < d.length; i++) {
    if (d[i] <= 0) continue;
    if (cum + d[i] >= target) {
      const lo = i === 0 ? 0 : bounds[i - 1];
      const hi = i < bounds.length ? bounds[i] : bounds[bounds.length - 1] * 2;
      return lo + (hi - lo) * ((target - cum) / d[i]);
    }
    cum += d[i];
  }
  return bounds[bounds.length - 1];
}
function fmtRate(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }
function fmtSeconds(s) { if (s === null || s === undefined) return '—'; return s < 1 ? (s * 1000).toFixed(s < 0.01 ? 2 : 1) + ' ms' : s.toFixed(2) + ' s'; }
function sparkline(values, cls, label) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'spark' + (cls ? ' ' + cls : ''));
  svg.setAttribute('width', '80'); svg.setAttribute('height', '18'); svg.setAttribute('viewBox', '0 0 80 18');
  svg.setAttribute('role', 'img'); svg.setAttribute('aria-label', label);
  const max = Math.max(...values, 1e-9);
  // Newest sample at the right edge; a young series is stretched over at least 15 slots instead of a sliver.
  const slots = Math.max(values.length, 15);
  const offset = slots - values.length;
  const pts = values.map((v, i) => `${(80 * (i + offset) / (slots - 1)).toFixed(1)},${(17 - 16 * (v / max)).toFixed(1)}`).join(' ');
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', pts || '0,17');
  svg.append(line);
  return svg;
}

// ---------- rendering ----------
function renderNode() {
  const s = state.status, c = state.cluster;
  if (!s) return;
  const raft = s.raft || {}, vip = s.vip || {}, node = s.node || {}, rt = s.runtime || {};
  const role = raft.enabled ? (raft.state || 'unknown') : 'standalone';
  $('#hdr-node').textContent = node.id || '(no node id)';
  const roleBadge = $('#hdr-role');
  roleBadge.textContent = role;
  roleBadge.className = 'badge ' + (role === 'leader' || role === 'standalone' ? 'ok' : role === 'follower' ? '' : 'warn');
  $('#hdr-version').textContent = 'config v' + (node.version ?? '?');
  const term = c && c.local && c.local.term ? c.local.term : '—';
  const cards = [
    ['Role', role],
    ['Leader', raft.leader_id || (raft.enabled ? 'none' : 'this node')],
    ['Term', term],
    ['Quorum', raft.quorum_status || '—'],
    ['VIP', vip.enabled ? `${vip.owned ? 'owned' : 'standby'} ${vip.address || ''}`.trim() : 'disabled'],
    ['Store', node.store || '—'],
    ['Config version', node.version ?? '—'],
    ['Content hash', node.content_hash ? node.content_hash.slice(0, 12) : '—'],
    ['Applied', node.applied_at ? new Date(node.applied_at).toLocaleTimeString() : '—'],
    ['Projection', node.projection ? node.projection.status + (node.projection.last_error ? ': ' + node.projection.last_error : '') : '—'],
    ['Targets healthy', `${rt.healthy_target_count ?? 0} / ${rt.target_count ?? 0}`],
  ];
  $('#node-cards').replaceChildren(...cards.map(([k, v]) => h('div', { 'data-card': k }, h('dt', {}, k), h('dd', { title: String(v) }, String(v)))));
}

function renderMembers() {
  const c = state.cluster, box = $('#members');
  if (!c) return;
  const members = c.members || [];
  if (!c.enabled || members.length === 0) {
    box.replaceChildren(h('p', { class: 'muted' }, c.mode === 'standalone' ? 'Standalone node (file store): no cluster members. Members, leader and term appear here when the node runs the Raft store.' : 'No cluster members known yet.'));
    return;
  }
  box.replaceChildren(h('div', { class: 'scroll' }, h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, ['Node', 'Address', 'Role', 'Leader', 'Reachable'].map(t => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, members.map(m => h('tr', {},
      h('td', {}, m.id), h('td', { class: 'mono' }, m.address), h('td', {}, m.role),
      h('td', {}, m.is_leader ? badge('leader', 'ok') : 'follower'),
      h('td', {}, m.reachable === undefined ? h('span', { title: 'not observed from this node: a follower hears only from its leader' }, '—') : m.reachable ? badge('yes', 'ok') : badge('no', 'bad'))))))));
}

const routeStatCells = new Map();
function renderConfig() {
  const cfg = state.config;
  if (!cfg) return;
  state.renderedConfig = cfg.version;
  // Editing starts from a loaded version; until then there is nothing to base an edit on.
  for (const id of ['#btn-add-route', '#btn-add-pool', '#btn-json-review']) $(id).disabled = false;
  // Routes
  routeStatCells.clear();
  const tbody = $('#routes-table tbody');
  const rows = (cfg.routes || []).map((r, i) => {
    const path = r.match && r.match.path ? `${r.match.path.type} ${r.match.path.value}` : 'any';
    const hosts = (r.match && r.match.hosts) || [];
    const cells = { rate: h('td', { class: 'num' }), err: h('td', { class: 'num' }), p99: h('td', { class: 'num' }) };
    routeStatCells.set(r.id, cells);
    return h('tr', { 'data-route': r.id, class: r.enabled ? '' : 'disabled' },
      h('th', { scope: 'row' }, r.id, ' ', r.enabled ? null : badge('disabled')),
      h('td', {}, hosts.length ? hosts.slice(0, 2).join(', ') + (hosts.length > 2 ? ` +${hosts.length - 2}` : '') : h('span', { class: 'muted' }, 'any host')),
      h('td', { class: 'mono' }, path),
      h('td', {}, r.algorithm || 'round_robin'),
      h('td', {}, r.upstream_pool),
      cells.rate, cells.err, cells.p99,
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'small', 'aria-label': `Edit route ${r.id}`, onclick: () => openRouteForm(i) }, 'Edit'), ' ',
        h('button', { type: 'button', class: 'small', 'aria-label': `Delete route ${r.id}`, onclick: () => deleteRoute(i) }, 'Delete')));
  });
  if (rows.length === 0) rows.push(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No routes yet. Add a pool, then a route that sends traffic to it.')));
  tbody.replaceChildren(...rows);
  renderPools();
  renderTcpListeners();
  renderLive();
}

const targetRows = new Map();
function renderPools() {
  const cfg = state.config;
  const list = $('#pool-list');
  targetRows.clear();
  const pools = Object.keys(cfg.upstream_pools || {}).sort();
  if (pools.length === 0) { list.replaceChildren(h('p', { class: 'muted' }, 'No upstream pools yet.')); return; }
  list.replaceChildren(...pools.map(id => {
    const p = cfg.upstream_pools[id];
    const hc = p.health_check;
    const users = (cfg.routes || []).filter(r => r.upstream_pool === id).length;
    const listeners = (cfg.tcp_listeners || []).filter(l => l.upstream_pool === id).length;
    const tbody = h('tbody', {});
    for (const u of p.upstreams || []) {
      const address = typeof u === 'string' ? u : u.address;
      const weight = typeof u === 'string' ? 1 : (u.weight || 1);
      const cells = { state: h('td', { class: 'state' }), checked: h('td', { class: 'num' }), error: h('td', {}), active: h('td', { class: 'num' }), fails: h('td', { class: 'num' }), ejected: h('td', { class: 'num' }) };
      targetRows.set(id + '\u0000' + address, cells);
      tbody.append(h('tr', { 'data-target': address }, h('td', { class: 'mono' }, address), cells.state, cells.checked, cells.error, cells.active, cells.fails, cells.ejected, h('td', { class: 'num' }, String(weight))));
    }
    return h('div', { class: 'pool', 'data-pool': id },
      h('div', { class: 'pool-head' },
        h('h3', {}, id),
        h('span', { class: 'muted' }, !hc ? 'no active health check'
          : hc.type === 'tcp' ? `health tcp connect every ${hc.interval}, timeout ${hc.timeout}`
          : `health ${hc.path} every ${hc.interval}, timeout ${hc.timeout}, expect ${hc.expect_status}`),
        h('span', { class: 'muted' }, `· used by ${users} route${users === 1 ? '' : 's'}`
          + (listeners ? ` and ${listeners} TCP listener${listeners === 1 ? '' : 's'}` : '')),
        h('span', { class: 'actions' },
          h('button', { type: 'button', class: 'small', 'aria-label': `Edit pool ${id}`, onclick: () => openPoolForm(id) }, 'Edit'), ' ',
          h('button', { type: 'button', class: 'small', 'aria-label': `Delete pool ${id}`, onclick: () => deletePool(id) }, 'Delete'))),
      h('div', { class: 'scroll' }, h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['Target', 'State', 'Last check', 'Last error', 'In flight', 'Passive failures', 'Ejected until', 'Weight'].map(t => h('th', { scope: 'col' }, t)))),
        tbody)));
  }));
}

function renderLive() {
  // Route traffic
  for (const [id, cells] of routeStatCells) {
    const s = state.stats.series.get(id) || [];
    const last = s[s.length - 1];
    cells.rate.replaceChildren(sparkline(s.map(p => p.rate), '', `requests per second for ${id}`), last ? fmtRate(last.rate) : '—');
    const errs = s.map(p => p.err);
    cells.err.replaceChildren(sparkline(errs, errs.some(v => v > 0) ? 'err' : 'quiet', `error rate for ${id}`), last ? (last.err * 100).toFixed(1) + ' %' : '—');
    cells.p99.textContent = last ? fmtSeconds(last.p99) : '—';
  }
  // Target health
  const rt = state.runtime;
  const byPool = new Map(((rt && rt.upstreams) || []).map(p => [p.id, p]));
  const now = Date.now();
  for (const [key, cells] of targetRows) {
    const [poolId, address] = key.split('\u0000');
    const pool = byPool.get(poolId);
    const t = pool && pool.targets.find(x => x.address === address);
    if (!t) { cells.state.replaceChildren(badge('not applied', 'warn')); continue; }
    const ejected = t.ejected_until && Date.parse(t.ejected_until) > now;
    const checking = pool.health_check && !t.last_checked_at;
    cells.state.replaceChildren(ejected ? badge('ejected', 'bad') : !t.healthy ? badge('down', 'bad') : checking ? badge('checking', 'warn') : badge('healthy', 'ok'));
    cells.checked.textContent = t.last_checked_at ? ago(Date.parse(t.last_checked_at), now) : '—';
    cells.error.textContent = t.last_error || '';
    cells.active.textContent = String(t.active_connections ?? 0);
    cells.fails.textContent = String(t.consecutive_failures ?? 0);
    cells.ejected.textContent = ejected ? new Date(t.ejected_until).toLocaleTimeString() : '—';
  }
  renderTcpLive();
}
function ago(t, now) {
  const s = Math.max(0, Math.round((now - t) / 1000));
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : new Date(t).toLocaleString();
}

function renderHistory() {
  const hist = state.history, tbody = $('#history-table tbody');
  if (!hist) return;
  if (hist.unavailable) { tbody.replaceChildren(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, hist.unavailable))); return; }
  $('#history-limit').textContent = `last ${hist.limit} versions kept`;
  const rows = hist.entries.map(e => h('tr', { 'data-version': e.version, class: e.current ? 'current' : '' },
    h('th', { scope: 'row' }, String(e.version), ' ', e.current ? badge('current', 'ok') : null),
    h('td', {}, new Date(e.applied_at).toLocaleString()),
    h('td', {}, e.origin),
    h('td', { class: 'num' }, String(e.route_count)),
    h('td', { class: 'num' }, String(e.pool_count)),
    h('td', { class: 'actions' },
      e.current ? null : h('button', { type: 'button', class: 'small', 'aria-label': `Diff version ${e.version} against current`, onclick: () => showVersionDiff(e.version) }, 'Diff vs current'), ' ',
      e.current ? null : h('button', { type: 'button', class: 'small', 'aria-label': `Roll back to version ${e.version}`, onclick: () => rollback(e.version) }, 'Roll back…'))));
  if (rows.length === 0) rows.push(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No versions yet: history starts with the first configuration write.')));
  tbody.replaceChildren(...rows);
}

// ---------- dialogs ----------
function confirmDialog({ title, text, before, after, ok, danger }) {
  const dlg = $('#dlg-confirm');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text;
  const pre = $('#confirm-diff');
  pre.hidden = before === undefined;
  if (before !== undefined) renderDiff(pre, before, after);
  const okButton = $('#confirm-ok');
  okButton.textContent = ok || 'OK';
  okButton.value = 'ok';
  okButton.className = 'primary' + (danger ? ' danger' : '');
  const cancel = $('[data-action=cancel]', dlg);
  cancel.hidden = !danger && ok === 'Close';
  dlg.returnValue = '';
  return new Promise(resolve => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.showModal();
  });
}
function setupDialogs() {
  $('[data-action=cancel]', $('#dlg-confirm')).addEventListener('click', () => $('#dlg-confirm').close('cancel'));
  for (const id of ['#dlg-route', '#dlg-pool']) {
    $('[data-action=cancel]', $(id)).addEventListener('click', () => $(id).close('cancel'));
  }
}

function clearErrors(form) {
  for (const p of $$('.err', form)) p.textContent = '';
  for (const el of $$('[aria-invalid]', form)) { el.removeAttribute('aria-invalid'); el.removeAttribute('aria-describedby'); }
  $('.form-errors', form).replaceChildren();
}
// Puts each API error next to the field it names; prefix is the form's place in the document (e.g. "routes[2]").
function showFieldErrors(form, prefix, errors) {
  clearErrors(form);
  const general = [];
  let first = null;
  for (const e of errors) {
    let rel = null;
    if (e.field === prefix) rel = '__id';
    else if (e.field && e.field.startsWith(prefix + '.')) rel = e.field.slice(prefix.length + 1);
    let target = null;
    if (rel !== null) {
      const key = rel.replace(/\[\d+\]$/, '');
      target = $(`[data-for="${CSS.escape(rel)}"]`, form) || $(`[data-for="${CSS.escape(key)}"]`, form) || (key.startsWith('match.path') ? $('[data-for="match.path.value"]', form) : null);
    }
    const text = e.message + (e.hint ? ` — ${e.hint}` : '');
    if (target) {
      target.textContent = target.textContent ? target.textContent + '; ' + text : text;
      const input = $(`[data-field="${CSS.escape(target.dataset.for)}"]`, form);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        if (!target.id) target.id = 'err-' + Math.random().toString(36).slice(2);
        input.setAttribute('aria-describedby', target.id);
        first = first || input;
      }
    } else {
      general.push(h('li', {}, (e.field ? e.field + ': ' : '') + text));
    }
  }
  $('.form-errors', form).replaceChildren(...general);
  if (first) first.focus();
}

// ---------- editing: form → validate → review diff → save with the version ----------
// A pending change: the proposed document, the version it was based on, and where to show errors.
let pending = null;

async function propose(proposed, base, source) {
  const check = await api('POST', '/api/config/validate', editable(proposed));
  if (!check.ok) {
    const errors = (check.data && check.data.errors) || [{ field: '', message: describeError(check) }];
    showSourceErrors(source, errors);
    return;
  }
  if (source.form) clearErrors(source.form);
  pending = { proposed: editable(proposed), base, source };
  openReview(pretty(base), `Changes to version ${base.version}:`);
}

function openReview(beforeText, intro) {
  const dlg = $('#dlg-review');
  const conflict = $('#review-conflict');
  conflict.hidden = true;
  $('[data-action=reload]', dlg).hidden = true;
  $('#btn-save').textContent = 'Save';
  $('.form-errors', dlg).replaceChildren();
  const { added, removed } = renderDiff($('#review-diff'), beforeText, pretty(pending.proposed));
  $('#review-summary').textContent = `${intro} ${added} line${added === 1 ? '' : 's'} added, ${removed} removed. Saving writes a new version if nobody else changed the configuration meanwhile.`;
  if (!dlg.open) dlg.showModal();
  $('#btn-save').focus();
}

function showSourceErrors(source, errors) {
  if (source.form) {
    showFieldErrors(source.form, source.prefix, errors);
  } else if (source.kind === 'json') {
    $('#json-errors').replaceChildren(...errors.map(e => h('li', {}, (e.field ? e.field + ': ' : '') + e.message + (e.hint ? ` — ${e.hint}` : ''))));
    $('#json-editor').focus();
  } else {
    const dlg = $('#dlg-review');
    $('.form-errors', dlg).replaceChildren(...errors.map(e => h('li', {}, (e.field ? e.field + ': ' : '') + e.message + (e.hint ? ` — ${e.hint}` : ''))));
    if (!dlg.open) banner('Not saved: ' + errors.map(e => (e.field ? e.field + ': ' : '') + e.message).join('; '), 'error');
  }
}

async function save() {
  if (!pending) return;
  const dlg = $('#dlg-review');
  const btn = $('#btn-save');
  btn.disabled = true;
  try {
    const r = await api('PUT', '/api/config', pending.proposed, { 'If-Match': `"${pending.base.version}"` });
    if (r.ok) {
      const source = pending.source;
      pending = null;
      dlg.close('saved');
      if (source.dialog && source.dialog.open) source.dialog.close('saved');
      if (source.kind === 'json') { state.jsonDirty = false; $('#json-errors').replaceChildren(); }
      state.config = r.data;
      if (!state.jsonDirty) $('#json-editor').value = pretty(r.data);
      renderConfig();
      banner(`Saved: the configuration is now version ${r.data.version}.`);
      await loadHistory();
      return;
    }
    if (r.status === 409 || r.status === 412) {
      if (r.data && r.data.code === 'not_raft_leader') { $('.form-errors', dlg).replaceChildren(h('li', {}, describeError(r))); return; }
      await showConflict();
      return;
    }
    if (r.status === 422 || r.status === 400) {
      const errors = (r.data && r.data.errors) || [{ field: '', message: describeError(r) }];
      if (pending.source.form || pending.source.kind === 'json') { dlg.close('back'); showSourceErrors(pending.source, errors); }
      else $('.form-errors', dlg).replaceChildren(...errors.map(e => h('li', {}, (e.field ? e.field + ': ' : '') + e.message)));
      return;
    }
    $('.form-errors', dlg).replaceChildren(h('li', {}, 'Not saved: ' + describeError(r)));
  } catch (e) {
    if (e instanceof ApiDown) $('.form-errors', dlg).replaceChildren(h('li', {}, 'Not saved: lost contact with the node (' + e.message + ').'));
    else throw e;
  } finally {
    btn.disabled = false;
  }
}

async function showConflict() {
  const mine = pending.base.version;
  const r = await api('GET', '/api/config');
  if (!r.ok) return;
  const now = r.data;
  state.config = now;
  renderConfig();
  const conflict = $('#review-conflict');
  conflict.textContent = `The configuration changed since you loaded it (you edited version ${mine}; the node now has version ${now.version}) — reload or review the diff. ` +
    `The diff below now compares version ${now.version} with what you are about to save; saving again replaces version ${now.version}.`;
  conflict.hidden = false;
  pending.base = now;
  const { added, removed } = renderDiff($('#review-diff'), pretty(now), pretty(pending.proposed));
  $('#review-summary').textContent = `Against version ${now.version}: ${added} line${added === 1 ? '' : 's'} added, ${removed} removed.`;
  $('[data-action=reload]', $('#dlg-review')).hidden = false;
  $('#btn-save').textContent = `Save over version ${now.version}`;
  conflict.focus();
}

function setupReview() {
  const dlg = $('#dlg-review');
  $('#form-review').addEventListener('submit', e => { e.preventDefault(); save(); });
  $('[data-action=back]', dlg).addEventListener('click', () => dlg.close('back'));
  $('[data-action=reload]', dlg).addEventListener('click', async () => {
    const source = pending && pending.source;
    pending = null;
    dlg.close('reload');
    if (source && source.dialog && source.dialog.open) source.dialog.close('reload');
    if (source && source.kind === 'json') state.jsonDirty = false;
    await loadConfig();
    banner('Reloaded the current configuration; your edit was discarded.');
  });
  $('#review-conflict').setAttribute('tabindex', '-1');
}

// Route form
function openRouteForm(index) {
  const base = state.config;
  const dlg = $('#dlg-route'), form = $('#form-route');
  clearErrors(form);
  const r = index >= 0 ? base.routes[index] : { id: '', enabled: true, match: { hosts: [] }, upstream_pool: '' };
  form.dataset.index = String(index);
  $('#route-title').textContent = index >= 0 ? `Edit route ${r.id}` : 'Add route';
  $('#route-id').value = r.id;
  $('#route-enabled').checked = !!r.enabled;
  $('#route-hosts').value = ((r.match && r.match.hosts) || []).join('\n');
  $('#route-path-type').value = r.match && r.match.path ? r.match.path.type : '';
  $('#route-path-value').value = r.match && r.match.path ? r.match.path.value : '';
  $('#route-algorithm').value = r.algorithm || '';
  $('#route-hash-key').value = r.hash_key || '';
  fillOptional(r, ROUTE_OPTIONAL);
  syncHashKey();
  const pools = Object.keys(base.upstream_pools || {}).sort();
  $('#route-pool').replaceChildren(h('option', { value: '' }, pools.length ? '(choose a pool)' : '(no pools yet: add one first)'),
    ...pools.map(p => h('option', { value: p }, p)));
  $('#route-pool').value = r.upstream_pool || (index < 0 && pools.length === 1 ? pools[0] : '');
  syncPathValue();
  dlg.showModal();
  $('#route-id').focus();
}
function syncHashKey() {
  const keyed = ['url_param', 'hdr'].includes($('#route-algorithm').value);
  $('#route-hash-key').disabled = !keyed;
}
function syncPathValue() {
  const none = $('#route-path-type').value === '';
  $('#route-path-value').disabled = none;
}
function routeFromForm(original) {
  // Fields the form does not show (e.g. sticky_cookie options) are kept as they were.
  const route = JSON.parse(JSON.stringify(original || {}));
  route.id = $('#route-id').value.trim();
  route.enabled = $('#route-enabled').checked;
  route.match = { ...(route.match || {}), hosts: $('#route-hosts').value.split(/[\n,]/).map(s => s.trim()).filter(Boolean) };
  route.upstream_pool = $('#route-pool').value;
  const type = $('#route-path-type').value;
  if (type) route.match.path = { type, value: $('#route-path-value').value }; else delete route.match.path;
  const algorithm = $('#route-algorithm').value;
  if (algorithm) route.algorithm = algorithm; else delete route.algorithm;
  const hashKey = $('#route-hash-key').value.trim();
  if (hashKey && ['url_param', 'hdr'].includes(algorithm)) route.hash_key = hashKey; else delete route.hash_key;
  readOptional(route, ROUTE_OPTIONAL);
  return route;
}
function submitRoute(e) {
  e.preventDefault();
  const form = $('#form-route');
  const index = Number(form.dataset.index);
  const base = state.config;
  const proposed = editable(base);
  const route = routeFromForm(index >= 0 ? base.routes[index] : null);
  const at = index >= 0 ? index : proposed.routes.length;
  if (index >= 0) proposed.routes[index] = route; else proposed.routes.push(route);
  propose(proposed, base, { kind: 'route', form, dialog: $('#dlg-route'), prefix: `routes[${at}]` });
}
async function deleteRoute(index) {
  const base = state.config;
  const proposed = editable(base);
  proposed.routes.splice(index, 1);
  pending = { proposed, base, source: { kind: 'delete' } };
  openReview(pretty(base), `Delete route ${base.routes[index].id} from version ${base.version}:`);
}

// Pool form
function openPoolForm(id) {
  const base = state.config;
  const dlg = $('#dlg-pool'), form = $('#form-pool');
  clearErrors(form);
  const p = id ? base.upstream_pools[id] : { upstreams: [] };
  form.dataset.id = id || '';
  $('#pool-title').textContent = id ? `Edit pool ${id}` : 'Add upstream pool';
  $('#pool-id').value = id || '';
  $('#pool-id').readOnly = !!id;
  $('#pool-upstreams').value = (p.upstreams || []).map(upstreamLine).join('\n');
  fillOptional(p, POOL_OPTIONAL);
  const hc = p.health_check;
  $('#pool-hc').checked = !!hc || !id;
  const tcpCheck = !!hc && hc.type === 'tcp';
  $('#pool-hc-type').value = tcpCheck ? 'tcp' : 'http';
  $('#pool-hc-path').value = hc && !tcpCheck ? hc.path : '/health';
  $('#pool-hc-interval').value = hc ? hc.interval : '5s';
  $('#pool-hc-timeout').value = hc ? hc.timeout : '1s';
  $('#pool-hc-status').value = hc && !tcpCheck ? String(hc.expect_status) : '200';
  form.dataset.extra = JSON.stringify(Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'upstreams' && k !== 'health_check')));
  form.dataset.hcTyped = hc && hc.type ? '1' : '';
  form.dataset.hcExtra = JSON.stringify(hc ? Object.fromEntries(Object.entries(hc).filter(([k]) => !['type', 'path', 'interval', 'timeout', 'expect_status'].includes(k))) : {});
  syncHealthFields();
  dlg.showModal();
  (id ? $('#pool-upstreams') : $('#pool-id')).focus();
}
function syncHealthFields() {
  $('#pool-hc-fields').disabled = !$('#pool-hc').checked;
  // A tcp check only connects: path and expected status belong to http checks.
  const tcpCheck = $('#pool-hc-type').value === 'tcp';
  for (const el of document.querySelectorAll('#pool-hc-fields .hc-http')) el.hidden = tcpCheck;
}
function submitPool(e) {
  e.preventDefault();
  const form = $('#form-pool');
  const base = state.config;
  const id = $('#pool-id').value.trim();
  const proposed = editable(base);
  const pool = { ...JSON.parse(form.dataset.extra || '{}') };
  pool.upstreams = $('#pool-upstreams').value.split('\n').map(s => s.trim()).filter(Boolean).map(parseUpstreamLine);
  readOptional(pool, POOL_OPTIONAL);
  if ($('#pool-hc').checked) {
    const status = $('#pool-hc-status').value.trim();
    const timing = { interval: $('#pool-hc-interval').value.trim(), timeout: $('#pool-hc-timeout').value.trim() };
    pool.health_check = $('#pool-hc-type').value === 'tcp'
      ? { type: 'tcp', ...JSON.parse(form.dataset.hcExtra || '{}'), ...timing }
      : { ...(form.dataset.hcTyped ? { type: 'http' } : {}), ...JSON.parse(form.dataset.hcExtra || '{}'), path: $('#pool-hc-path').value.trim(), ...timing, expect_status: /^\d+$/.test(status) ? Number(status) : 0 };
  }
  if (!id) { showFieldErrors(form, 'upstream_pools.', [{ field: 'upstream_pools.', message: 'pool id must not be empty', hint: 'give the pool a name such as "web"' }]); return; }
  if (!form.dataset.id && proposed.upstream_pools[id]) { showFieldErrors(form, `upstream_pools.${id}`, [{ field: `upstream_pools.${id}`, message: `a pool named "${id}" exists already`, hint: 'choose another id, or edit that pool' }]); return; }
  proposed.upstream_pools[id] = pool;
  propose(proposed, base, { kind: 'pool', form, dialog: $('#dlg-pool'), prefix: `upstream_pools.${id}` });
}
async function deletePool(id) {
  const base = state.config;
  const proposed = editable(base);
  delete proposed.upstream_pools[id];
  pending = { proposed, base, source: { kind: 'delete' } };
  openReview(pretty(base), `Delete pool ${id} from version ${base.version}:`);
}

// JSON editor
function reviewJson() {
  let doc;
  try {
    doc = JSON.parse($('#json-editor').value);
  } catch (e) {
    $('#json-errors').replaceChildren(h('li', {}, 'Not valid JSON: ' + e.message));
    return;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) { $('#json-errors').replaceChildren(h('li', {}, 'The document must be an object with "routes" and "upstream_pools".')); return; }
  $('#json-errors').replaceChildren();
  const { version, applied_at, ...rest } = doc;
  void version; void applied_at;
  propose(rest, state.config, { kind: 'json' });
}

// History
async function showVersionDiff(version) {
  const r = await api('GET', `/api/config/history/${version}`);
  if (!r.ok) { banner(describeError(r), 'error'); return; }
  await confirmDialog({ title: `Version ${version} against current (${state.config.version})`, text: `Lines marked − are in version ${version}, + in the current version ${state.config.version}. Origin: ${r.data.origin}.`, before: pretty(r.data.config), after: pretty(state.config), ok: 'Close' });
}
async function rollback(version) {
  const r = await api('GET', `/api/config/history/${version}`);
  if (!r.ok) { banner(describeError(r), 'error'); return; }
  const current = state.config;
  const yes = await confirmDialog({
    title: `Roll back to version ${version}?`,
    text: `This writes version ${version}'s routes and pools as a new version (after ${current.version}), validated like any change. Lines marked − go away, + come back.`,
    before: pretty(current), after: pretty(r.data.config), ok: `Roll back to version ${version}`, danger: true,
  });
  if (!yes) return;
  const res = await api('POST', '/api/config/rollback', { version }, { 'If-Match': `"${current.version}"` });
  if (res.ok) {
    state.config = res.data;
    if (!state.jsonDirty) $('#json-editor').value = pretty(res.data);
    renderConfig();
    banner(`Rolled back: version ${res.data.version} has the configuration of version ${version}.`);
    await loadHistory();
  } else if (res.status === 412 || res.status === 409) {
    banner(`The configuration changed since you loaded it — reload or review the diff: ${describeError(res)}`, 'error', true);
    await loadConfig();
    await loadHistory();
  } else {
    banner('Rollback not applied: ' + describeError(res), 'error', true);
  }
}

function start() {
  setupTokenDialog();
  setupDialogs();
  setupReview();
  setupTcp();
  $('#btn-add-route').addEventListener('click', () => openRouteForm(-1));
  $('#btn-add-pool').addEventListener('click', () => openPoolForm(null));
  $('#form-route').addEventListener('submit', submitRoute);
  $('#form-pool').addEventListener('submit', submitPool);
  $('#route-path-type').addEventListener('change', syncPathValue);
  $('#route-algorithm').addEventListener('change', syncHashKey);
  $('#pool-hc').addEventListener('change', syncHealthFields);
  $('#pool-hc-type').addEventListener('change', syncHealthFields);
  $('#json-editor').addEventListener('input', () => { state.jsonDirty = true; });
  $('#btn-json-review').addEventListener('click', reviewJson);
  $('#btn-json-reload').addEventListener('click', async () => { state.jsonDirty = false; $('#json-errors').replaceChildren(); await loadConfig(); });
  tick();
}
document.addEventListener('DOMContentLoaded', start);
