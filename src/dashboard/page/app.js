// The dashboard page: the runs table, charts (uPlot), the picture gallery, config diffs and results.
// Plain JavaScript on the browser's own APIs; everything it shows comes from the server's /api.
/* global uPlot */

const $ = (s) => document.querySelector(s);
const esc = (s) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
const api = async (path) => {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
};
const fileUrl = (id, file) =>
  `/files/${[...(id === '.' ? [] : id.split('/')), ...file.split('/')].map(encodeURIComponent).join('/')}`;

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

const state = {
  runs: [],
  sort: { key: 'id', dir: 1 },
  selected: new Set(),
  /** The runs on the chart and what is drawn of them. */
  chart: { ids: [], key: '', axis: 'step', data: {}, plot: null, source: null },
};
// For tests and curious users: the chart's current data.
window.dashboard = state;

function fmtNumber(v) {
  if (typeof v !== 'number') return '';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}
function fmtSeconds(s) {
  if (typeof s !== 'number') return '';
  if (s < 90) return `${s.toFixed(1)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

// ---- runs table

function sortValue(r, key) {
  if (key === 'metric') return r.metric ? r.metric.value : undefined;
  return r[key];
}

function renderTable() {
  const q = $('#filter').value.trim().toLowerCase();
  const { key, dir } = state.sort;
  const rows = state.runs
    .filter((r) =>
      !q
        ? true
        : [r.id, r.family, r.model, r.data, r.status, r.note, r.metric?.name].join(' ').toLowerCase().includes(q),
    )
    .sort((a, b) => {
      const x = sortValue(a, key);
      const y = sortValue(b, key);
      if (x === y) return 0;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    });
  $('#count').textContent = `${rows.length} of ${state.runs.length} runs`;
  for (const th of document.querySelectorAll('#runs th[data-sort]')) {
    th.className = th.dataset.sort === key ? (dir > 0 ? 'sorted-asc' : 'sorted-desc') : '';
  }
  $('#runs tbody').innerHTML = rows
    .map((r) => {
      const steps = r.step === undefined ? '' : `${r.step}${r.steps ? ` / ${r.steps}` : ''}`;
      const metric = r.metric ? `${esc(r.metric.name)} ${fmtNumber(r.metric.value)}` : '';
      const reading = r.scanned === undefined ? '' : `reading log.jsonl… ${Math.floor(r.scanned * 100)}%`;
      const notes = [r.note, reading].filter(Boolean).join('; ');
      const note = notes ? `<span class="note">${esc(notes)}</span>` : '';
      const open = state.chart.ids.includes(r.id) ? ' class="open"' : '';
      return `<tr data-id="${esc(r.id)}"${open}>
        <td><input type="checkbox" aria-label="select" ${state.selected.has(r.id) ? 'checked' : ''}></td>
        <td>${esc(r.id)}</td><td>${esc(r.family)}</td><td>${esc(r.model)}</td><td>${esc(r.data)}</td>
        <td><span class="status status-${esc(r.status)}">${esc(r.status)}</span>${note}</td>
        <td class="num">${steps}</td><td class="num">${r.secondsApprox ? '≈ ' : ''}${fmtSeconds(r.seconds)}</td>
        <td class="num">${metric}</td></tr>`;
    })
    .join('');
  $('#compare').disabled = state.selected.size < 2;
  $('#overlay').disabled = state.selected.size < 1;
}

let refreshTimer = 0;
async function loadRuns() {
  clearTimeout(refreshTimer);
  const r = await api('/api/runs');
  state.runs = r.runs;
  $('#root').textContent = r.root;
  for (const id of [...state.selected]) if (!r.runs.some((x) => x.id === id)) state.selected.delete(id);
  renderTable();
  if (!performance.getEntriesByName('runs-table').length) performance.mark('runs-table'); // for bench/dashboard.ts
  // While trainings run or long logs are still being read, the table refreshes itself.
  if (r.runs.some((x) => x.status === 'running' || x.scanned !== undefined)) {
    refreshTimer = setTimeout(() => loadRuns().catch(showError), 5000);
  }
}

$('#filter').addEventListener('input', renderTable);
$('#refresh').addEventListener('click', () => loadRuns().catch(showError));
$('#runs thead').addEventListener('click', (e) => {
  const key = e.target.dataset?.sort;
  if (!key) return;
  state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
  renderTable();
});
$('#runs tbody').addEventListener('click', (e) => {
  const tr = e.target.closest('tr');
  if (!tr) return;
  const id = tr.dataset.id;
  if (e.target.type === 'checkbox') {
    if (e.target.checked) state.selected.add(id);
    else state.selected.delete(id);
    renderTable();
    return;
  }
  openRuns([id]).catch(showError);
});
$('#compare').addEventListener('click', () => openRuns([...state.selected], true).catch(showError));
$('#overlay').addEventListener('click', () => openRuns([...state.selected]).catch(showError));

function showError(e) {
  $('#chart-note').textContent = String(e.message ?? e);
}

// ---- one run or several: chart, pictures, configs

async function openRuns(ids, diff = false) {
  const details = await Promise.all(ids.map((id) => api(`/api/run?id=${encodeURIComponent(id)}`)));
  $('#detail').hidden = false;
  $('#detail-title').textContent = ids.join(', ');
  $('#detail-note').innerHTML = details
    .map((d) => {
      const s = d.summary;
      return `<span class="status status-${esc(s.status)}">${esc(s.id)}: ${esc(s.status)}</span> ${esc(s.note ?? '')}`;
    })
    .join('<br>');
  const keys = [...new Set(details.flatMap((d) => d.summary.keys))];
  const metric = $('#metric');
  const keep = keys.includes(state.chart.key) ? state.chart.key : (keys[0] ?? '');
  metric.innerHTML = keys.map((k) => `<option${k === keep ? ' selected' : ''}>${esc(k)}</option>`).join('');
  $('#axis').querySelector('[value=time]').disabled = !details.some((d) => d.summary.hasTime);
  if ($('#axis').value === 'time' && $('#axis').querySelector('[value=time]').disabled) $('#axis').value = 'step';
  $('#raw-links').innerHTML = ids
    .map(
      (id) =>
        `<a href="${fileUrl(id, 'log.jsonl')}" target="_blank">raw log${ids.length > 1 ? ` (${esc(id)})` : ''}</a>`,
    )
    .join(' · ');
  state.chart.ids = ids;
  state.chart.key = keep;
  renderTable();
  renderGallery(details);
  renderConfigs(details);
  if (diff) await renderDiff(ids);
  else $('#diff').hidden = true;
  await loadChart();
  listen(ids);
}

function renderGallery(details) {
  const html = [];
  for (const d of details) {
    for (const [gi, g] of d.images.entries()) {
      const last = g.items.length - 1;
      const slider =
        g.items.length > 1
          ? `<label>step <input type="range" min="0" max="${last}" value="${last}" data-group="${gi}"> <span>${g.items[last].step}</span></label>`
          : '';
      html.push(`<div class="gallery-item" data-run="${esc(d.summary.id)}" data-group="${gi}">
        <div>${esc(d.summary.id)}: ${esc(g.name)}</div>${slider}
        <img alt="${esc(g.name)}" src="${fileUrl(d.summary.id, g.items[last].file)}" loading="lazy"></div>`);
    }
  }
  const gallery = $('#gallery');
  gallery.innerHTML = html.length ? `<h3>Pictures</h3>${html.join('')}` : '';
  gallery.oninput = (e) => {
    const box = e.target.closest('.gallery-item');
    const d = details.find((x) => x.summary.id === box.dataset.run);
    const item = d.images[Number(box.dataset.group)].items[Number(e.target.value)];
    box.querySelector('img').src = fileUrl(d.summary.id, item.file);
    box.querySelector('label span').textContent = String(item.step);
  };
}

function renderConfigs(details) {
  $('#configs').innerHTML = details
    .map((d) => {
      const parts = [`<h3>${esc(d.summary.id)}</h3>`];
      if (d.results !== undefined)
        parts.push(`<h4>results.json</h4><pre>${esc(JSON.stringify(d.results, null, 2))}</pre>`);
      parts.push(
        `<h4>config.json</h4><pre>${d.config === undefined ? '(missing or unreadable)' : esc(JSON.stringify(d.config, null, 2))}</pre>`,
      );
      return `<div class="run-files">${parts.join('')}</div>`;
    })
    .join('');
}

async function renderDiff(ids) {
  const q = ids.map((id) => `id=${encodeURIComponent(id)}`).join('&');
  const d = await api(`/api/diff?${q}`);
  const head = `<tr><th>key</th>${ids.map((id) => `<th>${esc(id)}</th>`).join('')}</tr>`;
  const rows = d.rows
    .map((r) => {
      const cells = r.values
        .map(
          (v) =>
            `<td class="${r.differs ? 'differs' : ''}${v === undefined ? ' absent' : ''}">${v === undefined ? '—' : esc(v)}</td>`,
        )
        .join('');
      return `<tr class="${r.differs ? 'differs' : 'same'}" data-key="${esc(r.key)}"><th>${esc(r.key)}</th>${cells}</tr>`;
    })
    .join('');
  const n = d.rows.filter((r) => r.differs).length;
  const diff = $('#diff');
  diff.hidden = false;
  diff.innerHTML = `<h3>Config diff: ${n} of ${d.rows.length} keys differ</h3>
    <label><input type="checkbox" id="only-diff"> only differences</label>
    <table><thead>${head}</thead><tbody>${rows}</tbody></table>`;
  $('#only-diff').onchange = (e) => {
    for (const tr of diff.querySelectorAll('tbody tr.same')) tr.hidden = e.target.checked;
  };
}

// ---- charts

function chartWidth() {
  return Math.max(300, Math.min(1400, $('#chart').clientWidth || window.innerWidth - 40));
}

async function loadChart() {
  const c = state.chart;
  c.axis = $('#axis').value;
  c.data = {};
  const width = chartWidth();
  await Promise.all(
    c.ids.map(async (id) => {
      const q = `id=${encodeURIComponent(id)}&keys=${encodeURIComponent(c.key)}&width=${width}&axis=${c.axis}`;
      const r = await api(`/api/series?${q}`);
      const s = r.series[c.key] ?? { x: [], y: [], total: 0, exact: true };
      // Wall time counts from the run's first logged line, so runs started apart overlay.
      const t0 = c.axis === 'time' && s.x.length ? s.x[0] : 0;
      c.data[id] = { x: s.x.map((x) => x - t0), y: s.y, total: s.total, exact: s.exact, lines: r.lines, t0 };
    }),
  );
  const parts = c.ids.map((id) => {
    const d = c.data[id];
    return `${d.total} points${d.exact ? '' : `, drawn as ${d.x.length} (min and max per pixel)`}${c.ids.length > 1 ? ` in ${id}` : ''}`;
  });
  $('#chart-note').textContent = c.key ? `${c.key}: ${parts.join('; ')}` : 'no numeric series in log.jsonl';
  draw();
}

/** TensorBoard's smoothing: an exponential moving average, debiased at the start. */
function smooth(y, w) {
  if (w <= 0) return y;
  const out = new Array(y.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === null || !Number.isFinite(y[i])) {
      out[i] = y[i];
      continue;
    }
    last = last * w + (1 - w) * y[i];
    n++;
    out[i] = last / (1 - w ** n);
  }
  return out;
}

function draw() {
  const c = state.chart;
  const el = $('#chart');
  const w = Number($('#smooth').value);
  const logY = $('#logy').checked;
  const tables = c.ids.map((id) => {
    const d = c.data[id];
    let y = smooth(d.y, w);
    if (logY) y = y.map((v) => (v > 0 ? v : null));
    return [d.x, y];
  });
  const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
  const opts = {
    width: chartWidth(),
    height: 320,
    scales: { x: { time: false }, y: { distr: logY ? 3 : 1 } },
    axes: [{ label: c.axis === 'time' ? 'wall time (s)' : 'step' }, { label: c.key, size: 70 }],
    series: [
      { label: c.axis },
      ...c.ids.map((id, i) => ({
        label: id,
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        spanGaps: true,
        points: { show: false },
      })),
    ],
  };
  if (c.plot) c.plot.destroy();
  el.innerHTML = '';
  c.plot = new uPlot(opts, data, el);
  el.dataset.points = String(c.ids.reduce((n, id) => n + c.data[id].x.length, 0));
  const first = c.data[c.ids[0]];
  el.dataset.lastX = first?.x.length ? String(first.x[first.x.length - 1]) : '';
}

$('#metric').addEventListener('change', (e) => {
  state.chart.key = e.target.value;
  loadChart().catch(showError);
});
$('#axis').addEventListener('change', () => loadChart().catch(showError));
$('#logy').addEventListener('change', draw);
$('#smooth').addEventListener('input', (e) => {
  $('#smooth-value').textContent = e.target.value;
  draw();
});

// ---- live updates: server-sent events carry each appended log line's points

let redraw = 0;
function listen(ids) {
  const c = state.chart;
  if (c.source) c.source.close();
  const source = new EventSource(`/api/events?${ids.map((id) => `id=${encodeURIComponent(id)}`).join('&')}`);
  c.source = source;
  c.live = false;
  source.addEventListener('ready', (e) => {
    const { lines } = JSON.parse(e.data);
    // Lines logged between the chart's request and this stream's start: fetch the chart again.
    const behind = c.ids.some((id) => c.data[id] && lines[id] !== c.data[id].lines);
    c.live = true;
    if (behind) loadChart().catch(showError);
  });
  source.addEventListener('points', (e) => {
    const { id, points } = JSON.parse(e.data);
    const d = c.data[id];
    const pts = points[c.key];
    if (!d || !pts) return;
    for (const [step, time, v] of pts) {
      const x = c.axis === 'time' ? time - d.t0 : step;
      if (x === null || !Number.isFinite(x)) continue;
      d.x.push(x);
      d.y.push(v);
      d.total++;
    }
    // Appended points are raw; once they outnumber the screen, fetch the downsampled series again.
    if (d.x.length > 4 * chartWidth()) loadChart().catch(showError);
    else if (!redraw)
      redraw = requestAnimationFrame(() => {
        redraw = 0;
        draw();
      });
  });
  source.addEventListener('reset', (e) => {
    if (c.ids.includes(JSON.parse(e.data).id)) loadChart().catch(showError);
  });
  source.addEventListener('status', (e) => {
    const s = JSON.parse(e.data);
    const i = state.runs.findIndex((r) => r.id === s.id);
    if (i >= 0) {
      state.runs[i] = s;
      renderTable();
    }
  });
}

// ---- results/*.md

async function loadResults() {
  const names = await api('/api/results');
  $('#results-list').innerHTML = names.length
    ? names.map((n) => `<li><a data-name="${esc(n)}">${esc(n)}</a></li>`).join('')
    : '<li>no results folder (--results)</li>';
}
$('#results-list').addEventListener('click', async (e) => {
  const name = e.target.dataset?.name;
  if (!name) return;
  const r = await api(`/api/results/render?name=${encodeURIComponent(name)}`);
  $('#results-view').innerHTML = r.html; // rendered by the server from escaped Markdown
});

for (const b of document.querySelectorAll('nav button')) {
  b.addEventListener('click', () => {
    for (const x of document.querySelectorAll('nav button')) x.classList.toggle('active', x === b);
    $('#tab-runs').hidden = b.dataset.tab !== 'runs';
    $('#tab-results').hidden = b.dataset.tab !== 'results';
    if (b.dataset.tab === 'results') loadResults().catch(showError);
  });
}

loadRuns().catch(showError);
