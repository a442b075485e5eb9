// Lb dashboard, TCP listeners (tcp_listeners): the table, its live columns and the add/edit/delete form.
// Loaded after app.js and built on its helpers ($, h, badge, state, editable, propose, openReview, clearErrors).
'use strict';

const orderTcpListener = l => ordered(l, ['id', 'enabled', 'listen', 'upstream_pool', 'algorithm', 'connect_timeout', 'idle_timeout', 'max_connections', 'send_proxy']);
const tcpLiveCells = new Map();

function renderTcpListeners() {
  const cfg = state.config;
  $('#btn-add-tcp').disabled = false;
  tcpLiveCells.clear();
  const rows = (cfg.tcp_listeners || []).map((l, i) => {
    const cells = { bound: h('td', { class: 'mono' }), state: h('td', { class: 'state' }), open: h('td', { class: 'num' }), accepted: h('td', { class: 'num' }), failed: h('td', { class: 'num' }) };
    tcpLiveCells.set(l.id, cells);
    const timeouts = `connect ${l.connect_timeout || 'pool'}, idle ${l.idle_timeout || '5m'}`;
    return h('tr', { 'data-tcp-listener': l.id, class: l.enabled ? '' : 'disabled' },
      h('th', { scope: 'row' }, l.id, ' ', l.enabled ? null : badge('disabled')),
      h('td', { class: 'mono' }, l.listen), cells.bound,
      h('td', {}, l.upstream_pool),
      h('td', {}, l.algorithm || 'round_robin'),
      cells.state, cells.open, cells.accepted, cells.failed,
      h('td', { class: 'muted' }, timeouts + (l.max_connections ? `, max ${l.max_connections}` : '') + (l.send_proxy ? `, PROXY ${l.send_proxy}` : '')),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'small', 'aria-label': `Edit TCP listener ${l.id}`, onclick: () => openTcpForm(i) }, 'Edit'), ' ',
        h('button', { type: 'button', class: 'small', 'aria-label': `Delete TCP listener ${l.id}`, onclick: () => deleteTcpListener(i) }, 'Delete')));
  });
  if (rows.length === 0) rows.push(h('tr', {}, h('td', { colspan: 11, class: 'muted' }, 'No TCP listeners. Add one to relay raw TCP connections to a pool.')));
  $('#tcp-table tbody').replaceChildren(...rows);
  renderTcpLive();
}

function renderTcpLive() {
  const live = new Map((((state.runtime && state.runtime.tcp_listeners) || [])).map(l => [l.id, l]));
  for (const [id, cells] of tcpLiveCells) {
    const l = live.get(id);
    if (!l) {
      cells.state.replaceChildren(badge('not applied', 'warn'));
      for (const k of ['bound', 'open', 'accepted', 'failed']) cells[k].textContent = '—';
      continue;
    }
    cells.state.replaceChildren(l.state === 'listening' ? badge('listening', 'ok') : l.state === 'failed' ? badge('failed', 'bad') : badge(l.state, 'warn'));
    if (l.error) cells.state.title = l.error; else cells.state.removeAttribute('title');
    cells.bound.textContent = l.bound || '—';
    cells.open.textContent = `${l.open_connections} / ${l.max_connections}`;
    cells.accepted.textContent = String(l.accepted_connections) + (l.rejected_connections ? ` (${l.rejected_connections} over limit)` : '');
    cells.failed.textContent = String(l.failed_connections ?? 0);
  }
}

function openTcpForm(index) {
  const base = state.config;
  const dlg = $('#dlg-tcp'), form = $('#form-tcp');
  clearErrors(form);
  const l = index >= 0 ? base.tcp_listeners[index] : { id: '', enabled: true, listen: '', upstream_pool: '' };
  form.dataset.index = String(index);
  $('#tcp-title').textContent = index >= 0 ? `Edit TCP listener ${l.id}` : 'Add TCP listener';
  $('#tcp-id').value = l.id;
  $('#tcp-enabled').checked = !!l.enabled;
  $('#tcp-listen').value = l.listen || '';
  $('#tcp-algorithm').value = l.algorithm || '';
  $('#tcp-connect-timeout').value = l.connect_timeout || '';
  $('#tcp-idle-timeout').value = l.idle_timeout || '';
  $('#tcp-max-connections').value = l.max_connections === undefined || l.max_connections === null ? '' : String(l.max_connections);
  $('#tcp-send-proxy').value = l.send_proxy || '';
  const pools = Object.keys(base.upstream_pools || {}).sort();
  $('#tcp-pool').replaceChildren(h('option', { value: '' }, pools.length ? '(choose a pool)' : '(no pools yet: add one first)'),
    ...pools.map(p => h('option', { value: p }, p)));
  $('#tcp-pool').value = l.upstream_pool || (index < 0 && pools.length === 1 ? pools[0] : '');
  dlg.showModal();
  $('#tcp-id').focus();
}

function tcpListenerFromForm(original) {
  // Fields the form does not show are kept as they were; empty optional fields take the node's defaults.
  const l = JSON.parse(JSON.stringify(original || {}));
  l.id = $('#tcp-id').value.trim();
  l.enabled = $('#tcp-enabled').checked;
  l.listen = $('#tcp-listen').value.trim();
  l.upstream_pool = $('#tcp-pool').value;
  const optional = { algorithm: $('#tcp-algorithm').value, connect_timeout: $('#tcp-connect-timeout').value.trim(), idle_timeout: $('#tcp-idle-timeout').value.trim(), send_proxy: $('#tcp-send-proxy').value };
  for (const [k, v] of Object.entries(optional)) { if (v) l[k] = v; else delete l[k]; }
  const max = $('#tcp-max-connections').value.trim();
  // A number goes as a number; anything else goes as typed, so the node names the field and the fix.
  if (max) l.max_connections = /^-?\d+$/.test(max) ? Number(max) : max; else delete l.max_connections;
  return l;
}

function submitTcpListener(e) {
  e.preventDefault();
  const form = $('#form-tcp');
  const index = Number(form.dataset.index);
  const base = state.config;
  const proposed = editable(base);
  proposed.tcp_listeners = proposed.tcp_listeners || [];
  const listener = tcpListenerFromForm(index >= 0 ? base.tcp_listeners[index] : null);
  const at = index >= 0 ? index : proposed.tcp_listeners.length;
  if (index >= 0) proposed.tcp_listeners[index] = orderTcpListener(listener); else proposed.tcp_listeners.push(orderTcpListener(listener));
  propose(proposed, base, { kind: 'tcp', form, dialog: $('#dlg-tcp'), prefix: `tcp_listeners[${at}]` });
}

function deleteTcpListener(index) {
  const base = state.config;
  const proposed = editable(base);
  proposed.tcp_listeners.splice(index, 1);
  if (proposed.tcp_listeners.length === 0) delete proposed.tcp_listeners;
  pending = { proposed, base, source: { kind: 'delete' } };
  openReview(pretty(base), `Delete TCP listener ${base.tcp_listeners[index].id} from version ${base.version}:`);
}

function setupTcp() {
  $('#btn-add-tcp').addEventListener('click', () => openTcpForm(-1));
  $('#form-tcp').addEventListener('submit', submitTcpListener);
  $('[data-action=cancel]', $('#dlg-tcp')).addEventListener('click', () => $('#dlg-tcp').close('cancel'));
}
