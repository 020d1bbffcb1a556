/**
 * The overview page's script (plain browser JavaScript, served as /overview.js). It fetches the
 * /api panels for the current scope (range and filters in the page's own query string), draws them
 * with ECharts, and writes every text with textContent, never as HTML. A click on a customer,
 * workflow or model narrows the whole page to it. Each chart's element carries `data-points` (data
 * points drawn, zeros not counted), `data-series` (series names, JSON) and `data-drawn` ("1" once ECharts has finished
 * drawing, animations included); <body data-ready="1" data-scope="…"> marks a
 * finished render — the end-to-end test waits on those.
 */
export const PAGE_SCRIPT = String.raw`'use strict';
(function () {
  var FILTERS = ['customer', 'workflow', 'model'];
  var charts = {};
  var generation = 0;

  function state() {
    var q = new URLSearchParams(location.search);
    var s = { range: q.get('range') || '7d' };
    FILTERS.forEach(function (f) { if (q.get(f)) s[f] = q.get(f); });
    return s;
  }
  function query(s) {
    var q = new URLSearchParams();
    q.set('from', s.range);
    FILTERS.forEach(function (f) { if (s[f]) q.set(f, s[f]); });
    return q;
  }
  function scopeText(s) {
    var parts = FILTERS.filter(function (f) { return s[f]; }).map(function (f) { return f + ': ' + s[f]; });
    return parts.length ? parts.join(', ') : 'All customers';
  }
  function navigate(s) {
    var q = new URLSearchParams();
    if (s.range !== '7d') q.set('range', s.range);
    FILTERS.forEach(function (f) { if (s[f]) q.set(f, s[f]); });
    history.pushState(null, '', q.toString() ? '?' + q.toString() : location.pathname);
    render();
  }
  function narrow(filter, value) {
    if (!value || /^other \(\d+\)$/.test(value)) return;
    var s = state();
    s[filter] = value;
    navigate(s);
  }

  function usd(nanos) {
    var n = Number(BigInt(nanos)) / 1e9;
    var digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 1 ? 2 : 4;
    return (n < 0 ? '-$' : '$') + Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function dollars(nanos) { return Number(BigInt(nanos)) / 1e9; }
  function time(ms) { return new Date(ms).toISOString().slice(0, 16).replace('T', ' '); }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function fill(tableId, rows) {
    var body = document.querySelector('#' + tableId + ' tbody');
    body.replaceChildren.apply(body, rows);
  }
  function row(cells, cls) {
    var tr = el('tr', null, cls);
    cells.forEach(function (c) { tr.appendChild(c instanceof Node ? c : el('td', c)); });
    return tr;
  }
  function num(text) { return el('td', text, 'num'); }
  function linkCell(filter, value) {
    var td = el('td');
    var b = el('button', value, 'link');
    b.addEventListener('click', function () { narrow(filter, value); });
    td.appendChild(b);
    return td;
  }

  function chart(id, option, onClick) {
    var node = document.getElementById(id);
    var c = charts[id];
    if (!c) {
      c = charts[id] = echarts.init(node);
      window.addEventListener('resize', function () { c.resize(); });
      if (onClick) c.on('click', function (p) { onClick(p); });
      c.on('finished', function () { node.dataset.drawn = '1'; });
    }
    var points = drawnPoints(option);
    var names = (option.series || []).map(function (s) { return s.name; });
    if (points === 0) {
      option.title = { text: 'No data in this range', left: 'center', top: 'middle', textStyle: { color: '#98a2b3', fontSize: 13 } };
    }
    node.dataset.drawn = '0';
    c.setOption(option, true);
    node.dataset.points = String(points);
    node.dataset.series = JSON.stringify(names);
  }
  /** Data items with a non-zero value (stacked series keep zeros so their indices stay aligned). */
  function drawnPoints(option) {
    var n = 0;
    (option.series || []).forEach(function (s) {
      (s.data || []).forEach(function (d) {
        var v = d !== null && typeof d === 'object' && !Array.isArray(d) ? d.value : d;
        if (Array.isArray(v)) v = v[v.length - 1];
        if (typeof v === 'number' && v !== 0) n++;
      });
    });
    return n;
  }
  function moneyTooltip(params) {
    var list = Array.isArray(params) ? params : [params];
    var lines = list.filter(function (p) { return p.value && (Array.isArray(p.value) ? p.value[1] : p.value); });
    var head = list.length ? esc(list[0].axisValueLabel || list[0].name || '') : '';
    return head + lines.map(function (p) {
      var v = Array.isArray(p.value) ? p.value[1] : p.value;
      return '<br>' + p.marker + esc(p.seriesName) + ': $' + esc(Number(v).toFixed(4));
    }).join('');
  }

  function spend(dim, data) {
    chart('chart-spend-' + dim, {
      tooltip: { trigger: 'axis', formatter: moneyTooltip },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'time', min: data.buckets_ms[0], max: data.buckets_ms[data.buckets_ms.length - 1] + data.step_seconds * 1000 },
      yAxis: { type: 'value', name: 'USD' },
      series: data.series.map(function (s) {
        return {
          name: s.key,
          type: 'bar',
          stack: 'spend',
          emphasis: { focus: 'series' },
          // Every bucket, zeros included: ECharts stacks by index, so no series may skip one.
          data: s.points_nanos.map(function (n, i) { return [data.buckets_ms[i], dollars(n)]; }),
        };
      }),
    }, function (p) { narrow(dim, p.seriesName); });
  }

  function margins(data) {
    var rows = data.customers.slice(0, 20);
    chart('chart-margins', {
      tooltip: { trigger: 'axis', formatter: moneyTooltip },
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 60 },
      xAxis: { type: 'category', data: rows.map(function (r) { return r.customer_id; }), axisLabel: { rotate: 30 } },
      yAxis: { type: 'value', name: 'USD' },
      series: [
        { name: 'plan revenue', type: 'bar', data: rows.map(function (r) { return dollars(r.revenue_nanos); }) },
        { name: 'LLM cost', type: 'bar', data: rows.map(function (r) {
          return { value: dollars(r.cost_nanos), itemStyle: r.whale ? { color: '#d92d20' } : undefined };
        }) },
      ],
    }, function (p) { narrow('customer', p.name); });
    fill('margins', data.customers.map(function (r) {
      return row([linkCell('customer', r.customer_id), r.plan_kind, num(usd(r.revenue_nanos)), num(usd(r.cost_nanos)),
        num(r.margin_nanos === null ? 'n/a' : usd(r.margin_nanos)), r.whale ? 'whale' : ''], r.whale ? 'whale' : '');
    }));
  }

  function routing(data) {
    var workflows = {};
    data.models.forEach(function (m) {
      if (m.quality === null || m.cost_per_call_nanos === '0') return;
      (workflows[m.workflow] = workflows[m.workflow] || []).push(m);
    });
    chart('chart-routing', {
      tooltip: { trigger: 'item', formatter: function (p) {
        var m = p.data.m;
        return esc(m.workflow) + ' / ' + esc(m.model) + '<br>cost per call ' + esc(usd(m.cost_per_call_nanos)) +
          '<br>mean quality ' + esc(m.quality.toFixed(3)) + ' (' + esc(m.scored_calls) + ' scored of ' + esc(m.calls) + ' calls)';
      } },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 60, right: 30, top: 40, bottom: 40 },
      // Log scale: one workflow's calls may cost a thousand times another's.
      xAxis: { type: 'log', name: 'USD per call (log)', axisLabel: { formatter: function (v) { return '$' + v; } } },
      yAxis: { type: 'value', name: 'quality', scale: true },
      series: Object.keys(workflows).sort().map(function (w) {
        return {
          name: w,
          type: 'scatter',
          symbolSize: 14,
          label: { show: true, position: 'right', formatter: function (p) { return p.data.m.model; } },
          data: workflows[w].map(function (m) { return { value: [dollars(m.cost_per_call_nanos), m.quality], m: m }; }),
        };
      }),
    }, function (p) { narrow('workflow', p.seriesName); });
    var list = document.getElementById('suggestions');
    list.replaceChildren.apply(list, data.suggestions.map(function (s) {
      return el('li', s.workflow + ': ' + s.model + ' instead of ' + s.instead_of + ' — $' + s.cost_per_call.usd +
        ' instead of $' + s.instead_of_cost_per_call.usd + ' per call, quality ' + s.quality_score.toFixed(3) +
        ' against ' + s.instead_of_quality_score.toFixed(3));
    }));
  }

  function runs(data) {
    fill('runs', data.runs.map(function (r) {
      return row([el('td', time(r.started_ms), 'time'), linkCell('customer', r.customer_id), linkCell('workflow', r.workflow), r.run_id,
        num(r.steps), num(r.max_depth), r.models.join(', '), num(usd(r.cost_nanos))]);
    }));
  }

  function alerts(data) {
    fill('alerts', data.alerts.map(function (a) {
      return row([el('td', time(a.at_ms), 'time'), el('td', a.severity, 'sev-' + a.severity), a.rule, a.event, a.summary]);
    }));
  }

  function health(data) {
    var lag = data.newest_ingested_ms === null ? 'none yet' : Math.round((data.now_ms - data.newest_ingested_ms) / 1000) + ' s ago';
    var stats = document.getElementById('health-stats');
    var items = [
      ['newest fact stored', lag],
      ['facts in the last 5 min', String(data.events_last_5m)],
      ['dead letters (24 h)', String(data.dead_letters_24h.reduce(function (a, d) { return a + d.records; }, 0))],
      ['process readiness', data.readiness === null ? 'not wired' : data.readiness.ready ? 'ready' : 'not ready: ' + data.readiness.detail],
    ];
    stats.replaceChildren.apply(stats, items.map(function (i) {
      var d = el('div', i[0]);
      d.insertBefore(el('b', i[1]), d.firstChild);
      return d;
    }));
    chart('chart-health', {
      tooltip: { trigger: 'axis' },
      grid: { left: 50, right: 20, top: 30, bottom: 30 },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', name: 'facts / min' },
      series: [{ name: 'facts stored per minute', type: 'line', areaStyle: {},
        data: data.ingest_per_minute.map(function (p) { return [p.t_ms, p.events]; }) }],
    });
    fill('dead-letters', data.dead_letters_24h.map(function (d) { return row([d.reason, num(d.records), time(d.last_ms)]); }));
  }

  function get(panel, q) {
    return fetch('/api/' + panel + '?' + q.toString()).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error ? body.error.message : 'HTTP ' + r.status);
        return body;
      });
    });
  }

  function render() {
    var s = state();
    var mine = ++generation;
    document.body.dataset.ready = '0';
    document.getElementById('range').value = s.range;
    document.getElementById('scope').textContent = scopeText(s);
    document.getElementById('clear').hidden = !FILTERS.some(function (f) { return s[f]; });
    document.getElementById('error').textContent = '';
    var q = query(s);
    var withBy = function (by) { var c = new URLSearchParams(q); c.set('by', by); return c; };
    var work = [
      get('spend', withBy('customer')).then(function (d) { return function () { spend('customer', d); }; }),
      get('spend', withBy('workflow')).then(function (d) { return function () { spend('workflow', d); }; }),
      get('spend', withBy('model')).then(function (d) { return function () { spend('model', d); }; }),
      get('margins', q).then(function (d) { return function () { margins(d); }; }),
      get('routing', q).then(function (d) { return function () { routing(d); }; }),
      get('runs', q).then(function (d) { return function () { runs(d); }; }),
      get('alerts', q).then(function (d) { return function () { alerts(d); }; }),
      get('health', new URLSearchParams()).then(function (d) { return function () { health(d); }; }),
    ];
    Promise.all(work).then(function (draws) {
      if (mine !== generation) return;
      draws.forEach(function (draw) { draw(); });
      document.body.dataset.scope = query(s).toString();
      document.body.dataset.ready = '1';
    }, function (error) {
      if (mine !== generation) return;
      document.getElementById('error').textContent = 'Could not load the overview: ' + error.message;
    });
  }

  document.getElementById('range').addEventListener('change', function (e) {
    var s = state();
    s.range = e.target.value;
    navigate(s);
  });
  document.getElementById('clear').addEventListener('click', function () { navigate({ range: state().range }); });
  window.addEventListener('popstate', render);
  render();
})();
`;
