/* Nexus live dashboard: history by REST, live bars and signals by WebSocket.
 *
 * Plain JS, no build step. The chart is plotly.js, served by the API from the installed
 * `plotly` package at /static/plotly.min.js. Everything the page shows comes from the
 * public REST and WebSocket contract (docs/api.md):
 *
 *   GET /api/symbols, /api/bars/{symbol}, /api/predictions/latest,
 *   /api/recommendations/latest, /api/recommendations, /api/models, /api/reports,
 *   /api/news/{symbol}, /api/macro, /api/alerts, /api/drift
 *   WS  /ws/stream?symbols=...   snapshot, bar, prediction, recommendation, model, alert,
 *                                heartbeat, pong, error
 *
 * window.nexusState holds counters that tests wait on (bars on the chart, last bar time,
 * last recommendation time, WebSocket messages received, headlines shown, ...).
 *
 * Text from the server (headlines above all: they are untrusted input) is only ever set
 * as textContent or attribute values, never parsed as HTML; links are http(s) only.
 */
(() => {
  'use strict';

  const HISTORY_LIMIT = 500;   // bars loaded by REST per symbol
  const MAX_BARS = 2000;       // bars kept on the chart while live bars arrive (render cost)
  const VIEW_BARS = 150;       // bars in view while following the latest bar
  const REC_ROWS = 20;         // rows of the recent recommendations table
  const BACKOFF_MIN_MS = 250;
  const BACKOFF_MAX_MS = 8000;
  const STALE_MS = 45000;      // no message for this long (3 heartbeats): reconnect
  const ALERT_MS = 30000;
  const ALERT_ROWS = 20;              // the alerts panel keeps this many, newest first
  const NEWS_ROWS = 20;               // headlines shown for the selected symbol
  const CONTEXT_REFRESH_MS = 60000;   // headlines and macro series are polled this often

  const COLORS = {
    up: '#26a69a', down: '#ef5350', upVol: 'rgba(38,166,154,0.45)',
    downVol: 'rgba(239,83,80,0.45)', grid: '#222732', line: '#2d3340', text: '#d9dce3',
    muted: '#8b93a1', panel: '#161920', last: '#5b9cf5',
  };

  const CALENDAR_TZ = {
    XNYS: 'America/New_York', XNAS: 'America/New_York', XASE: 'America/New_York',
    NYSE: 'America/New_York', NASDAQ: 'America/New_York', XCBF: 'America/Chicago',
    XCME: 'America/Chicago', XTSE: 'America/Toronto', XLON: 'Europe/London',
    XETR: 'Europe/Berlin', XFRA: 'Europe/Berlin', XPAR: 'Europe/Paris',
    XAMS: 'Europe/Amsterdam', XSWX: 'Europe/Zurich', XTKS: 'Asia/Tokyo',
    XHKG: 'Asia/Hong_Kong', XSHG: 'Asia/Shanghai', XASX: 'Australia/Sydney',
  };

  const INTERVAL_MS = { '1m': 60e3, '5m': 300e3, '15m': 900e3, '30m': 1800e3, '1h': 3600e3, '1d': 864e5 };

  // -- state -----------------------------------------------------------------------------

  const test = {
    ready: false, loads: 0, bars: 0, historyBars: 0, historyLimit: HISTORY_LIMIT,
    lastBarTs: null, lastBarMs: null, lastRecTs: null, lastRecMs: null, lastPredTs: null, wsMessages: 0, byType: {},
    connects: 0, connected: false, symbol: null, interval: null, recRows: 0, renders: 0, renderMs: 0,
    modelsLoaded: 0, reportsLoaded: 0, errors: [],
    newsLoads: 0, newsSymbol: null, newsItems: 0, newsIds: [], macroLoads: 0, macroSeries: 0,
    alertLoads: 0, alertItems: 0, alertIds: [], driftLoads: 0,
  };
  window.nexusState = test;

  const state = {
    symbols: [], bySymbol: {}, symbol: null, interval: null, tz: 'UTC', chartTz: 'UTC',
    // chart columns (shared with the plotly traces)
    t: [], x: [], ts: [], open: [], high: [], low: [], close: [], volume: [], volColor: [],
    follow: true, revision: 0, loadToken: 0, buffer: null, renderQueued: false, plotted: false, muted: 0,
    recs: {}, preds: {}, slots: [],
    ws: null, wsSymbols: new Set(), backoff: BACKOFF_MIN_MS, retryTimer: null,
    watchdog: null, everOpened: false, modelTimer: null, alertTimer: null, tailTimer: null,
    newsSeen: { symbol: null, ids: new Set() }, contextTimer: null, drift: {},
  };

  const $ = (id) => document.getElementById(id);

  // -- small helpers ---------------------------------------------------------------------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key === 'style') node.setAttribute('style', value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  async function getJSON(path) {
    const response = await fetch(path, { headers: { Accept: 'application/json' } });
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new Error(`${path}: ${response.status} ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
    }
    return response.json();
  }

  function report(error) {
    // expected while the server restarts; shown in the status line, not the console
    test.errors.push(String(error && error.message ? error.message : error));
    if (test.errors.length > 20) test.errors.shift();
    console.warn('nexus:', error);
  }

  const formatters = {};
  function formatter(tz) {
    if (!formatters[tz]) {
      formatters[tz] = new Intl.DateTimeFormat('en-CA', {
        timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
        minute: '2-digit', second: '2-digit', hourCycle: 'h23',
      });
    }
    return formatters[tz];
  }

  /** "YYYY-MM-DD HH:MM:SS" of epoch milliseconds in the chart's time zone. */
  function wall(ms, tz = state.tz) {
    const parts = {};
    for (const p of formatter(tz).formatToParts(new Date(ms))) parts[p.type] = p.value;
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
  }

  function tzShort(tz) {
    try {
      const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'short' })
        .formatToParts(new Date());
      return (parts.find((p) => p.type === 'timeZoneName') || {}).value || tz;
    } catch (_) {
      return tz;
    }
  }

  function fmtTime(iso) {
    if (!iso) return '—';
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? String(iso) : `${wall(ms)} ${tzShort(state.tz)}`;
  }

  function fmtShortTime(iso) {
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) return String(iso);
    const text = wall(ms);
    return state.interval === '1d' ? text.slice(0, 10) : text.slice(5, 16);
  }

  function fmtPrice(value, level = value) {
    if (value === null || value === undefined || Number.isNaN(value)) return '—';
    const digits = Math.abs(level) < 10 ? 4 : 2;
    return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  const pct = (value, digits = 1) => (value === null || value === undefined ? '—' : `${(100 * value).toFixed(digits)}%`);

  // -- symbols and intervals -------------------------------------------------------------

  function initialSymbol() {
    const wanted = new URLSearchParams(window.location.search).get('symbol');
    if (wanted && state.bySymbol[wanted]) return wanted;
    return state.symbols.length ? state.symbols[0].symbol : null;
  }

  function fillSymbols() {
    const select = $('symbol-select');
    select.replaceChildren(...state.symbols.map((s) => el('option', {
      value: s.symbol, text: s.symbol, title: s.description || s.symbol,
    })));
  }

  function fillIntervals() {
    const info = state.bySymbol[state.symbol] || {};
    const intervals = info.intervals && info.intervals.length ? info.intervals : ['1m'];
    if (!intervals.includes(state.interval)) {
      state.interval = intervals.includes('1m') ? '1m' : intervals[0];
    }
    $('interval-select').replaceChildren(...intervals.map((i) => el('option', { value: i, text: i })));
    $('interval-select').value = state.interval;
  }

  function showSymbolInfo() {
    const info = state.bySymbol[state.symbol] || {};
    state.tz = CALENDAR_TZ[info.calendar] || 'UTC';
    // daily bars are stamped at midnight UTC of their session date: chart them in UTC
    state.chartTz = state.interval === '1d' ? 'UTC' : state.tz;
    $('symbol-select').value = state.symbol;
    $('sim-badge').hidden = !info.simulated;
    $('quote-symbol').textContent = state.symbol || '—';
    $('quote-desc').textContent = [info.description, info.calendar, info.source]
      .filter(Boolean).join(' · ');
    $('pred-symbol').textContent = state.symbol || '';
    $('recs-symbol').textContent = state.symbol || '';
    $('news-symbol').textContent = state.symbol || '';
    $('chart-sub').textContent = `${state.symbol || ''} · ${state.interval || ''}`;
    $('tz-label').textContent = `${state.tz} (${tzShort(state.tz)})`;
    document.title = `${state.symbol} · Nexus`;
    test.symbol = state.symbol;
    test.interval = state.interval;
  }

  async function selectSymbol(symbol) {
    const previous = state.symbol;
    state.symbol = symbol;
    fillIntervals();
    showSymbolInfo();
    const url = new URL(window.location.href);
    url.searchParams.set('symbol', symbol);
    window.history.replaceState(null, '', url);
    if (previous && previous !== symbol) {
      resubscribe();
      newsMessage('loading…');
    }
    await loadSymbol();
  }

  // -- chart data ------------------------------------------------------------------------

  function clearColumns() {
    for (const key of ['t', 'x', 'ts', 'open', 'high', 'low', 'close', 'volume', 'volColor']) {
      state[key].length = 0;
    }
  }

  function pushBar(bar, ms) {
    state.t.push(ms);
    state.x.push(wall(ms, state.chartTz));
    state.ts.push(bar.ts);
    state.open.push(bar.open);
    state.high.push(bar.high);
    state.low.push(bar.low);
    state.close.push(bar.close);
    state.volume.push(bar.volume);
    state.volColor.push(bar.close >= bar.open ? COLORS.upVol : COLORS.downVol);
  }

  function setBar(i, bar) {
    state.ts[i] = bar.ts;
    state.open[i] = bar.open;
    state.high[i] = bar.high;
    state.low[i] = bar.low;
    state.close[i] = bar.close;
    state.volume[i] = bar.volume;
    state.volColor[i] = bar.close >= bar.open ? COLORS.upVol : COLORS.downVol;
  }

  function trimColumns() {
    const extra = state.t.length - MAX_BARS;
    if (extra <= 0) return;
    for (const key of ['t', 'x', 'ts', 'open', 'high', 'low', 'close', 'volume', 'volColor']) {
      state[key].splice(0, extra);
    }
  }

  function lowerBound(array, value) {
    let lo = 0;
    let hi = array.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (array[mid] < value) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Append a new bar, or replace the bar with the same time. Returns true if it changed. */
  function applyBar(bar) {
    const ms = Date.parse(bar.ts);
    if (Number.isNaN(ms)) return false;
    const n = state.t.length;
    if (n === 0 || ms > state.t[n - 1]) {
      pushBar(bar, ms);
      trimColumns();
      return true;
    }
    const i = lowerBound(state.t, ms);
    if (state.t[i] === ms) {
      setBar(i, bar);
      return true;
    }
    return false; // an older bar we never had: the next history load brings it
  }

  async function loadSymbol() {
    const token = ++state.loadToken;
    const { symbol, interval } = state;
    state.buffer = []; // live bars that arrive while the history loads wait here
    const path = `/api/bars/${encodeURIComponent(symbol)}?interval=${encodeURIComponent(interval)}&limit=${HISTORY_LIMIT}`;
    const side = Promise.all([
      loadSignals(symbol).catch(report), loadRecTable(symbol).catch(report), refreshNews(symbol),
    ]);
    let history;
    try {
      history = await getJSON(path);
    } catch (error) {
      if (token === state.loadToken) state.buffer = null;
      report(error);
      return;
    }
    if (token !== state.loadToken) return; // another symbol or interval was chosen meanwhile
    clearColumns();
    for (const bar of history.bars) applyBar(bar);
    for (const bar of state.buffer) applyBar(bar);
    state.buffer = null;
    state.follow = true;
    test.historyBars = history.bars.length;
    await render();
    await side;
    if (token !== state.loadToken) return;
    test.loads += 1;
    test.ready = true;
  }

  // -- chart rendering -------------------------------------------------------------------

  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const TICK_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 240];

  const isSessionStart = (i, step) => i === 0 || state.t[i] - state.t[i - 1] > 1.5 * step;
  const dayLabel = (x) => `${MONTHS[Number(x.slice(5, 7)) - 1]} ${x.slice(8, 10)}`;

  /**
   * Tick values and labels for about 8 ticks over the visible bars: round wall-clock times,
   * and the date at each session's first bar (plotly's own ticks do not know the sessions).
   */
  function ticks(visible) {
    const step = INTERVAL_MS[state.interval] || 60e3;
    const daily = step >= INTERVAL_MS['1d'];
    const every = Math.max(1, Math.ceil(visible / 8));
    const minutes = TICK_MINUTES.find((m) => m >= (visible * step) / 60e3 / 8 && m % (step / 60e3) === 0);
    const gap = Math.max(1, Math.floor(visible / 14)); // fewest bars between two labels
    const picked = []; // [index, label, is a session start]
    for (let i = 0; i < state.x.length; i += 1) {
      const x = state.x[i];
      const last = picked[picked.length - 1];
      if (daily) {
        if (i % every === 0) picked.push([i, dayLabel(x), false]);
      } else if (isSessionStart(i, step)) {
        if (last && last[2] && i - last[0] < gap) continue; // sessions too narrow to label each
        if (last && !last[2] && i - last[0] < gap) picked.pop(); // the date wins over a time
        picked.push([i, `<b>${dayLabel(x)}</b>`, true]);
      } else if (minutes && (Number(x.slice(11, 13)) * 60 + Number(x.slice(14, 16))) % minutes === 0
                 && (!last || i - last[0] >= gap)) {
        picked.push([i, x.slice(11, 16), false]);
      }
    }
    return {
      tickmode: 'array', tickvals: picked.map(([i]) => state.x[i]), ticktext: picked.map((p) => p[1]),
    };
  }

  /** Rangebreaks that hide the time between sessions, and a dotted line at each session start. */
  function sessions() {
    const step = INTERVAL_MS[state.interval] || 60e3;
    const breaks = [];
    const lines = [];
    for (let i = 1; i < state.t.length; i += 1) {
      if (isSessionStart(i, step)) {
        breaks.push({ bounds: [wall(state.t[i - 1] + step, state.chartTz), state.x[i]] });
        if (step < INTERVAL_MS['1h']) {
          const x = wall(state.t[i - 1] + step / 2, state.chartTz);
          lines.push({
            type: 'line', xref: 'x', x0: x, x1: x, yref: 'paper', y0: 0, y1: 1,
            line: { color: '#3a4150', width: 1, dash: 'dot' }, layer: 'below',
          });
        }
      }
    }
    return { breaks, lines };
  }

  function baseLayout() {
    const axis = {
      gridcolor: COLORS.grid, linecolor: COLORS.line, zeroline: false, tickfont: { size: 10.5 },
      showspikes: true, spikemode: 'across', spikesnap: 'cursor', spikecolor: '#59606e',
      spikethickness: 1, spikedash: 'dot',
    };
    return {
      paper_bgcolor: COLORS.panel, plot_bgcolor: COLORS.panel,
      font: { color: COLORS.text, size: 11, family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' },
      margin: { l: 6, r: 64, t: 6, b: 26 },
      showlegend: false, dragmode: 'pan', hovermode: 'x unified', hoverdistance: 50,
      hoverlabel: { bgcolor: '#1c2029', bordercolor: COLORS.line, font: { color: COLORS.text, size: 11 } },
      xaxis: {
        ...axis, type: 'date', rangeslider: { visible: false }, anchor: 'y2', rangebreaks: [],
        hoverformat: '%Y-%m-%d %H:%M', tickangle: 0,
      },
      yaxis: { ...axis, domain: [0.24, 1], side: 'right', tickformat: ',.2f', automargin: true },
      yaxis2: { ...axis, domain: [0, 0.19], side: 'right', tickformat: '.2s', showspikes: false, automargin: true },
      shapes: [{
        type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: 0, y1: 0, visible: false,
        line: { color: COLORS.last, width: 1, dash: 'dot' },
      }],
      annotations: [{
        xref: 'paper', x: 1, xanchor: 'left', yref: 'y', y: 0, text: '', showarrow: false,
        visible: false, bgcolor: COLORS.last, font: { color: '#fff', size: 10.5 }, borderpad: 2,
      }],
      datarevision: 0,
    };
  }

  function traces() {
    return [
      {
        type: 'candlestick', name: 'OHLC', xaxis: 'x', yaxis: 'y',
        x: state.x, open: state.open, high: state.high, low: state.low, close: state.close,
        increasing: { line: { color: COLORS.up, width: 1 }, fillcolor: COLORS.up },
        decreasing: { line: { color: COLORS.down, width: 1 }, fillcolor: COLORS.down },
        whiskerwidth: 0, hoverlabel: { namelength: 0 },
      },
      {
        type: 'bar', name: 'Volume', xaxis: 'x', yaxis: 'y2', x: state.x, y: state.volume,
        marker: { color: state.volColor, line: { width: 0 } },
        hovertemplate: 'Vol %{y:,.0f}<extra></extra>',
      },
    ];
  }

  /** The index range [i0, i1) of bars whose time lies within [x0, x1]. */
  function windowOf(x0, x1) {
    const i0 = lowerBound(state.x, x0);
    let i1 = lowerBound(state.x, x1);
    if (i1 < state.x.length && state.x[i1] === x1) i1 += 1;
    return [i0, Math.max(i0, i1)];
  }

  /** Price and volume ranges that fit the bars between x0 and x1, or null. */
  function fitY(x0, x1) {
    const [i0, i1] = windowOf(x0, x1);
    if (i1 <= i0) return null;
    let lo = Infinity;
    let hi = -Infinity;
    let vmax = 0;
    for (let i = i0; i < i1; i += 1) {
      lo = Math.min(lo, state.low[i]);
      hi = Math.max(hi, state.high[i]);
      vmax = Math.max(vmax, state.volume[i]);
    }
    const pad = Math.max((hi - lo) * 0.06, hi * 1e-4);
    return { y: [lo - pad, hi + pad], y2: [0, (vmax || 1) * 1.1], bars: i1 - i0 };
  }

  function followRange() {
    const n = state.x.length;
    const step = INTERVAL_MS[state.interval] || 60e3;
    const first = state.x[Math.max(0, n - VIEW_BARS)];
    const last = wall(state.t[n - 1] + 3 * step, state.chartTz);
    return [first, last];
  }

  function updateLastPrice(layout) {
    const n = state.close.length;
    const shape = layout.shapes[0];
    const label = layout.annotations[0];
    shape.visible = label.visible = n > 0;
    if (!n) return;
    const close = state.close[n - 1];
    shape.y0 = shape.y1 = close;
    label.y = close;
    label.text = fmtPrice(close);
    label.bgcolor = close >= state.open[n - 1] ? COLORS.up : COLORS.down;
  }

  function updateQuote() {
    const n = state.close.length;
    if (!n) {
      $('quote-price').textContent = '—';
      $('quote-change').textContent = '';
      return;
    }
    const last = state.close[n - 1];
    // change since the previous session's close when it is on the chart, else the first open
    let ref = state.open[0];
    const start = state.t.length > 1 ? gapIndex() : -1;
    if (state.interval === '1d' && n > 1) ref = state.close[n - 2];
    else if (start > 0) ref = state.close[start - 1];
    const change = last - ref;
    const node = $('quote-change');
    $('quote-price').textContent = fmtPrice(last);
    node.textContent = `${change >= 0 ? '+' : ''}${fmtPrice(change, last)} (${change >= 0 ? '+' : ''}${((100 * change) / ref).toFixed(2)}%)`;
    node.className = `quote-change ${change >= 0 ? 'up' : 'down'}`;
  }

  /** Index of the first bar of the newest session (after the newest gap), or -1. */
  function gapIndex() {
    const step = INTERVAL_MS[state.interval] || 60e3;
    for (let i = state.t.length - 1; i > 0; i -= 1) {
      if (state.t[i] - state.t[i - 1] > 1.5 * step) return i;
    }
    return -1;
  }

  function render() {
    if (!window.Plotly) {
      $('chart').textContent = 'plotly.js did not load (/static/plotly.min.js)';
      return Promise.resolve();
    }
    const gd = $('chart');
    const layout = baseLayout();
    const { breaks, lines } = sessions();
    layout.xaxis.rangebreaks = breaks;
    layout.shapes.push(...lines);
    state.revision += 1;
    layout.datarevision = state.revision;
    if (state.x.length) {
      const current = state.plotted && gd.layout.xaxis ? gd.layout.xaxis.range : null;
      const range = state.follow || !current ? followRange() : current.map(String);
      layout.xaxis.range = range;
      layout.xaxis.autorange = false;
      const fit = fitY(range[0], range[1]);
      if (fit) {
        Object.assign(layout.yaxis, { range: fit.y, autorange: false });
        Object.assign(layout.yaxis2, { range: fit.y2, autorange: false });
        Object.assign(layout.xaxis, ticks(fit.bars));
      }
    }
    updateLastPrice(layout);
    updateQuote();
    const config = {
      displaylogo: false, responsive: true, scrollZoom: true,
      modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d', 'toggleSpikelines'],
    };
    state.muted += 1;
    const began = performance.now();
    const done = state.plotted
      ? window.Plotly.react(gd, traces(), layout, config)
      : window.Plotly.newPlot(gd, traces(), layout, config).then(() => {
        gd.on('plotly_relayout', onRelayout);
      });
    state.plotted = true;
    return done.finally(() => { state.muted -= 1; }).then(() => {
      const n = gd.data[0].x.length;
      test.bars = n;
      test.lastBarTs = n ? state.ts[n - 1] : null;
      test.lastBarMs = n ? state.t[n - 1] : null;
      test.renders += 1;
      test.renderMs = Math.round(performance.now() - began);
      const last = !n ? '' : state.interval === '1d' ? state.x[n - 1].slice(0, 10) : fmtTime(state.ts[n - 1]);
      $('chart-info').textContent = n ? `${n} bars · last ${last}` : 'no bars';
    });
  }

  function queueRender() {
    if (state.renderQueued) return;
    state.renderQueued = true;
    requestAnimationFrame(() => {
      state.renderQueued = false;
      render().catch(report);
    });
  }

  function onRelayout(event) {
    if (state.muted > 0 || !state.x.length) return;
    if (event['xaxis.autorange']) {
      state.follow = true;
      queueRender();
      return;
    }
    const x0 = event['xaxis.range[0]'] || (event['xaxis.range'] || [])[0];
    const x1 = event['xaxis.range[1]'] || (event['xaxis.range'] || [])[1];
    if (x0 === undefined || x1 === undefined) return;
    // panned back to the newest bar: follow again; else keep the trader's view
    state.follow = String(x1) >= state.x[state.x.length - 1];
    const fit = fitY(String(x0), String(x1));
    if (!fit) return;
    state.muted += 1;
    const tick = ticks(fit.bars);
    window.Plotly.relayout($('chart'), {
      'yaxis.range': fit.y, 'yaxis2.range': fit.y2,
      'xaxis.tickvals': tick.tickvals, 'xaxis.ticktext': tick.ticktext,
    }).finally(() => { state.muted -= 1; });
  }

  // -- signals: predictions and recommendations ------------------------------------------

  function newer(a, b) {
    return !b || Date.parse(a.ts) >= Date.parse(b.ts);
  }

  function takePrediction(p) {
    const bySlot = state.preds[p.symbol] || (state.preds[p.symbol] = {});
    if (newer(p, bySlot[p.model])) bySlot[p.model] = p;
  }

  function takeRecommendation(r) {
    if (!newer(r, state.recs[r.symbol])) return false;
    state.recs[r.symbol] = r;
    for (const p of r.predictions || []) takePrediction(p);
    return true;
  }

  async function loadSignals(symbol) {
    const q = encodeURIComponent(symbol);
    const [preds, recs] = await Promise.all([
      getJSON(`/api/predictions/latest?symbols=${q}`),
      getJSON(`/api/recommendations/latest?symbols=${q}`),
    ]);
    for (const p of preds) takePrediction(p);
    for (const r of recs) takeRecommendation(r);
    if (symbol === state.symbol) renderSignal();
  }

  function renderSignal() {
    const rec = state.recs[state.symbol];
    const action = $('rec-action');
    const previous = action.dataset.ts;
    action.textContent = rec ? rec.action : '—';
    action.dataset.action = rec ? rec.action : '';
    action.dataset.ts = rec ? rec.ts : '';
    if (rec && previous && previous !== rec.ts) {
      action.classList.remove('flash');
      void action.offsetWidth; // restart the animation
      action.classList.add('flash');
    }
    $('rec-confidence').textContent = rec ? pct(rec.confidence) : '—';
    const time = $('rec-time');
    time.textContent = rec ? fmtTime(rec.ts) : 'no signal yet';
    if (rec) time.setAttribute('datetime', rec.ts); else time.removeAttribute('datetime');
    $('rec-veto').hidden = !(rec && rec.vetoed);
    const reasons = rec && rec.reasons && rec.reasons.length
      ? rec.reasons.map((text) => el('li', { text }))
      : [el('li', { class: 'none', text: rec ? 'no reasons given' : 'waiting for the first signal' })];
    $('rec-reasons').replaceChildren(...reasons);
    const risk = rec && rec.risk ? Object.entries(rec.risk) : [];
    $('rec-risk').textContent = risk.length
      ? `Risk: ${risk.map(([k, v]) => `${k} ${typeof v === 'number' ? +v.toFixed(4) : v}`).join(' · ')}`
      : '';
    renderModels();
    test.lastRecTs = rec ? rec.ts : null;
    test.lastRecMs = rec ? Date.parse(rec.ts) : null;
  }

  function probRow(label, cls, value, threshold, top) {
    const track = el('div', { class: 'prob-track' },
      el('div', { class: `prob-fill ${cls}`, style: `width:${(100 * (value || 0)).toFixed(1)}%` }));
    if (threshold !== null && threshold !== undefined) {
      track.append(el('div', {
        class: 'prob-thr', style: `left:calc(${(100 * threshold).toFixed(1)}% - 1px)`,
        title: `threshold ${pct(threshold)}`,
      }));
    }
    return el('div', { class: `prob${top ? ' top' : ''}`, role: 'group', 'aria-label': `P(${label}) ${pct(value)}` },
      el('span', { class: 'prob-label', text: `P(${label})` }),
      track,
      el('span', { class: 'prob-val', text: pct(value) }));
  }

  function topClass(p) {
    const best = Math.max(p.p_down, p.p_neutral, p.p_up);
    if (p.p_neutral === best) return 'NEUTRAL';
    return p.p_up === best ? 'UP' : 'DOWN';
  }

  function renderModels() {
    const preds = state.preds[state.symbol] || {};
    const slots = [...new Set([...state.slots, ...Object.keys(preds).sort()])];
    const blocks = slots.map((slot) => {
      const p = preds[slot];
      if (!p) {
        return el('div', { class: 'model', 'data-model': slot },
          el('div', { class: 'model-head' }, el('span', { class: 'model-name', text: slot }),
            el('span', { class: 'model-ver', text: 'no prediction yet' })));
      }
      const top = topClass(p);
      return el('div', { class: 'model', 'data-model': slot, 'data-testid': `pred-${slot}` },
        el('div', { class: 'model-head' },
          el('span', { class: 'model-name', text: slot }),
          el('span', { class: 'model-ver', text: `${p.version} · thr ${pct(p.threshold, 0)}` })),
        probRow('UP', 'up', p.p_up, p.threshold, top === 'UP'),
        probRow('NEUTRAL', 'neutral', p.p_neutral, null, top === 'NEUTRAL'),
        probRow('DOWN', 'down', p.p_down, p.threshold, top === 'DOWN'));
    });
    $('pred-models').replaceChildren(...blocks);
    const times = Object.values(preds).map((p) => p.ts).sort();
    test.lastPredTs = times.length ? times[times.length - 1] : null;
  }

  // -- recent recommendations table ------------------------------------------------------

  function modelSummary(rec) {
    return (rec.predictions || [])
      .map((p) => `${p.model} ${pct(p.p_up, 0)} / ${pct(p.p_down, 0)}`)
      .join(' · ');
  }

  function recRow(rec, fresh) {
    const action = el('td', null, el('span', { class: `act act-${rec.action}`, text: rec.action }));
    if (rec.vetoed) action.append(el('span', { class: 'veto-tag', text: 'vetoed' }));
    return el('tr', { class: fresh ? 'new' : null, 'data-ts': rec.ts },
      el('td', { class: 'mono', text: fmtShortTime(rec.ts), title: fmtTime(rec.ts) }),
      action,
      el('td', { class: 'num', text: pct(rec.confidence) }),
      el('td', { class: 'mono models-cell', text: modelSummary(rec) || '—' }),
      el('td', { class: 'reasons-cell', text: (rec.reasons || []).join('; ') }));
  }

  function emptyRecRow() {
    return el('tr', { class: 'empty-row' }, el('td', { colspan: '5', text: 'no recommendations yet' }));
  }

  async function loadRecTable(symbol) {
    const rows = await getJSON(`/api/recommendations?symbol=${encodeURIComponent(symbol)}&limit=${REC_ROWS}`);
    if (symbol !== state.symbol) return;
    const body = $('rec-table').tBodies[0];
    body.replaceChildren(...(rows.length ? rows.map((r) => recRow(r, false)) : [emptyRecRow()]));
    test.recRows = rows.length;
  }

  function prependRec(rec) {
    const body = $('rec-table').tBodies[0];
    const first = body.rows[0];
    if (first && first.dataset.ts && Date.parse(first.dataset.ts) >= Date.parse(rec.ts)) return;
    if (first && first.classList.contains('empty-row')) first.remove();
    body.prepend(recRow(rec, true));
    while (body.rows.length > REC_ROWS) body.deleteRow(-1);
    test.recRows = body.rows.length;
  }

  // -- headlines -------------------------------------------------------------------------

  const SENTIMENT_RGB = { neutral: [120, 128, 142], up: [38, 166, 154], down: [239, 83, 80] };

  /** A colour from red (-1 and below) through grey (0) to green (+1 and above). */
  function sentimentColor(score) {
    const t = Math.max(-1, Math.min(1, score));
    const end = t >= 0 ? SENTIMENT_RGB.up : SENTIMENT_RGB.down;
    const k = Math.abs(t);
    const rgb = SENTIMENT_RGB.neutral.map((grey, i) => Math.round(grey + (end[i] - grey) * k));
    return `rgb(${rgb.join(', ')})`;
  }

  function sentimentBadge(story) {
    const score = story.sentiment;
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      return el('span', { class: 'senti', 'data-scored': 'false', title: 'not scored', text: '—' });
    }
    const text = `${score > 0 ? '+' : ''}${score.toFixed(2)}`;
    const by = story.sentiment_model ? `scored by ${story.sentiment_model}` : 'scorer unknown';
    return el('span', {
      class: 'senti', 'data-scored': 'true', 'data-sentiment': String(score),
      style: `background: ${sentimentColor(score)}`, title: `sentiment ${text} · ${by}`, text,
    });
  }

  /** The story's link if it is http(s) (a story's URL is untrusted input), else null. */
  function safeUrl(url) {
    if (!url) return null;
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  function newsItem(story, fresh) {
    const href = safeUrl(story.url);
    const text = story.headline || '(no headline)';
    const headline = href
      ? el('a', { class: 'news-headline', href, target: '_blank', rel: 'noopener noreferrer nofollow', text })
      : el('span', { class: 'news-headline', text });
    const when = story.published_at || story.available_at;
    const ms = Date.parse(when);
    return el('li', { class: `news-item${fresh ? ' new' : ''}`, 'data-id': story.id },
      el('time', {
        class: 'news-time', datetime: when, text: Number.isNaN(ms) ? '—' : wall(ms).slice(5, 16),
        title: `published ${fmtTime(story.published_at)} · available ${fmtTime(story.available_at)}`,
      }),
      sentimentBadge(story),
      el('span', { class: 'news-text' }, headline,
        el('span', { class: 'news-sources', text: (story.sources || []).join(' · ') || 'source unknown' })));
  }

  function newsMessage(text) {
    $('news-list').replaceChildren(el('li', { class: 'news-empty muted small', text }));
    $('news-info').textContent = '';
  }

  /** The newest headlines of ``symbol``; stories not shown before for it are highlighted. */
  async function loadNews(symbol) {
    const stories = await getJSON(`/api/news/${encodeURIComponent(symbol)}?limit=${NEWS_ROWS}`);
    if (symbol !== state.symbol) return; // another symbol was chosen meanwhile
    const seen = state.newsSeen.symbol === symbol ? state.newsSeen.ids : null;
    if (stories.length) {
      $('news-list').replaceChildren(...stories.map((s) => newsItem(s, seen !== null && !seen.has(s.id))));
      $('news-info').textContent = `newest ${stories.length}`;
    } else {
      newsMessage(`No headlines for ${symbol} yet`);
    }
    state.newsSeen = { symbol, ids: new Set(stories.map((s) => s.id)) };
    Object.assign(test, {
      newsSymbol: symbol, newsItems: stories.length, newsIds: stories.map((s) => s.id),
      newsLoads: test.newsLoads + 1,
    });
  }

  function refreshNews(symbol = state.symbol) {
    if (!symbol) return Promise.resolve();
    return loadNews(symbol).catch((error) => {
      report(error);
      if (symbol === state.symbol && test.newsSymbol !== symbol) newsMessage('Headlines unavailable');
    });
  }

  // -- macro series ----------------------------------------------------------------------

  function fmtValue(value) {
    return typeof value === 'number' ? value.toLocaleString('en-US', { maximumFractionDigits: 3 }) : '—';
  }

  function fmtChange(change) {
    if (typeof change !== 'number') return '—';
    if (change === 0) return '0';
    return `${change > 0 ? '+' : '-'}${fmtValue(Math.abs(change))}`;
  }

  function macroRow(series) {
    const { change } = series;
    const direction = typeof change !== 'number' || change === 0 ? '' : change > 0 ? ' chg-up' : ' chg-down';
    const released = Date.parse(series.released_at);
    return el('tr', { 'data-series': series.series_id },
      el('td', {
        class: 'series', text: series.series_id,
        title: `${series.series_id} · ${series.source} · ${series.periods} periods, ${series.vintages} releases`,
      }),
      el('td', { text: String(series.period).slice(0, 7), title: `the period from ${series.period}` }),
      el('td', { class: 'num', text: fmtValue(series.value) }),
      el('td', {
        class: `num${direction}`, text: fmtChange(change),
        title: series.previous_period ? `${series.previous_period}: ${fmtValue(series.previous)}` : 'no earlier period',
      }),
      el('td', {
        text: Number.isNaN(released) ? '—' : wall(released).slice(0, 10),
        title: `released ${fmtTime(series.released_at)}`,
      }));
  }

  async function loadMacro() {
    try {
      const series = await getJSON('/api/macro');
      const rows = series.length ? series.map(macroRow)
        : [el('tr', { class: 'empty-row' }, el('td', { colspan: '5', text: 'No macro series in the store yet' }))];
      $('macro-table').tBodies[0].replaceChildren(...rows);
      test.macroSeries = series.length;
      test.macroLoads += 1;
    } catch (error) {
      report(error);
    }
  }

  function refreshContext() {
    refreshNews();
    loadMacro();
    loadModels();  // the drift figures of each champion
  }

  // -- model panel and reports -----------------------------------------------------------

  function fmtWhen(iso) {
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? String(iso) : `${wall(ms).slice(0, 16)} ${tzShort(state.tz)}`;
  }

  function fmtFigures(figures) {
    return Object.entries(figures || {})
      .filter(([, v]) => typeof v === 'number')
      .slice(0, 2)
      .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`)
      .join(', ');
  }

  function fmtDecision(d) {
    if (d === null || d === undefined || d === '') return '—';
    if (typeof d !== 'object') return fmtWhen(d);
    const when = d.time || d.at;
    const short = when ? wall(Date.parse(when)).slice(5, 16) : null;
    // a first champion promoted so the engine can start, although validation kept it
    const action = d.figures && d.figures.bootstrap ? 'bootstrap (validation: keep)' : d.action;
    return [action, fmtFigures(d.figures), short].filter(Boolean).join(' · ');
  }

  function fmtDrift(check) {
    if (!check || check.status === 'no_reference') return check ? 'not judged (no reference)' : '—';
    const parts = [];
    if (check.drifted !== null && check.drifted !== undefined) parts.push(`${Math.round(check.drifted * 100)}% features`);
    if (check.accuracy !== null && check.accuracy !== undefined) {
      parts.push(`acc ${check.accuracy.toFixed(3)} (ref ${check.accuracy_ref.toFixed(3)})`);
    } else if (check.confidence !== null && check.confidence !== undefined) {
      parts.push(`conf ${check.confidence.toFixed(3)} (ref ${check.confidence_ref.toFixed(3)})`);
    }
    if (check.action) parts.push(check.action);
    return parts.join(' · ') || 'waiting for data';
  }

  function driftTitle(check) {
    if (!check) return 'no drift check stored yet (nexus monitor, or nexus up)';
    const top = (check.features || []).slice(0, 3)
      .map((f) => `${f.name} PSI ${f.psi === null ? '—' : f.psi.toFixed(2)}`).join(', ');
    return `checked ${fmtTime(check.at)}${top ? ` · highest PSI: ${top}` : ''}`;
  }

  function slotBlock(slot) {
    const drift = String(slot.drift || 'unknown').toLowerCase();
    const check = state.drift[slot.slot];
    const versions = slot.versions || [];
    const champion = versions.find((v) => v && v.version === slot.champion);
    const kv = (label, value, title, cls) => el('tr', null,
      el('th', { scope: 'row', text: label }), el('td', { text: value, title: title || value, class: cls }));
    const validation = slot.last_validation;
    return el('div', { class: 'slot', 'data-slot': slot.slot },
      el('div', { class: 'slot-head' },
        el('span', { class: 'slot-name', text: slot.slot }),
        el('span', { class: 'drift', 'data-drift': drift, title: 'drift status', text: `drift ${drift}` })),
      el('table', { class: 'kv' }, el('tbody', null,
        kv('Champion', slot.champion
          ? `${slot.champion}${champion && champion.model ? ` · ${champion.model}` : ''}` : 'none'),
        kv('Previous', `${slot.previous || '—'} · ${versions.length} stored`),
        kv('Validation', fmtDecision(validation), validation && validation.reason, 'wrap'),
        kv('Retrained', slot.last_retrain ? fmtWhen(slot.last_retrain) : '—'),
        kv('Drift', fmtDrift(check && check.version === slot.champion ? check : null),
          driftTitle(check), 'wrap'))));
  }

  async function loadModels() {
    try {
      const [data, drift] = await Promise.all([getJSON('/api/models'), getJSON('/api/drift')]);
      state.drift = Object.fromEntries(drift.map((d) => [d.slot, d]));
      test.driftLoads += 1;
      const slots = data.slots || [];
      state.slots = slots.map((s) => s.slot);
      $('model-body').replaceChildren(...(slots.length
        ? slots.map(slotBlock) : [el('p', { class: 'muted small', text: 'no model slots' })]));
      test.modelsLoaded += 1;
      renderModels();
    } catch (error) {
      report(error);
    }
  }

  function loadModelsSoon() {
    clearTimeout(state.modelTimer);
    state.modelTimer = setTimeout(loadModels, 300);
  }

  async function loadReports() {
    try {
      const reports = await getJSON('/api/reports');
      const items = reports.map((r) => el('li', null,
        el('a', { href: r.url, target: '_blank', rel: 'noopener', text: r.name, title: r.name }),
        el('span', { class: 'muted small', text: r.modified ? fmtShortTime(r.modified) : '' })));
      $('report-list').replaceChildren(...(items.length ? items
        : [el('li', { class: 'muted small', text: 'no reports yet (nexus backtest … --report)' })]));
      test.reportsLoaded += 1;
    } catch (error) {
      report(error);
    }
  }

  function alertItem(alert, fresh) {
    const level = alert.level || 'info';
    const when = Date.parse(alert.at);
    return el('li', { class: `alert-item${fresh ? ' new' : ''}`, 'data-level': level, 'data-id': alert.id || '' },
      el('time', { class: 'alert-time', datetime: alert.at, text: Number.isNaN(when) ? '—' : fmtShortTime(alert.at) }),
      el('span', { class: 'alert-level', text: level }),
      el('span', { class: 'alert-text', text: alert.message || '', title: `${alert.source || 'nexus'} · ${alert.kind || ''}` }));
  }

  function setAlerts(items) {
    const list = $('alert-list');
    list.replaceChildren(...(items.length ? items
      : [el('li', { class: 'alert-empty muted small', text: 'No alerts: the champions look as they did in training' })]));
    const ids = [...list.querySelectorAll('.alert-item')].map((node) => node.dataset.id);
    test.alertItems = ids.length;
    test.alertIds = ids;
  }

  async function loadAlerts() {
    try {
      const alerts = await getJSON(`/api/alerts?limit=${ALERT_ROWS}`);
      setAlerts(alerts.map((a) => alertItem(a, false)));
      test.alertLoads += 1;
    } catch (error) {
      report(error);
    }
  }

  function addAlert(alert) {
    const list = $('alert-list');
    if (alert.id && list.querySelector(`[data-id="${CSS.escape(alert.id)}"]`)) return;
    const kept = [...list.querySelectorAll('.alert-item')].slice(0, ALERT_ROWS - 1);
    setAlerts([alertItem(alert, true), ...kept]);
    if (['rollback', 'data_drift', 'severe_drift', 'accuracy'].includes(alert.kind)) loadModelsSoon();
  }

  function showAlert(alert) {
    addAlert(alert);
    const bar = $('alert-bar');
    const level = alert.level || 'info';
    bar.dataset.level = level;
    bar.textContent = `${level.toUpperCase()} · ${alert.source || 'nexus'}: ${alert.message || ''}`;
    bar.hidden = false;
    clearTimeout(state.alertTimer);
    state.alertTimer = setTimeout(() => { bar.hidden = true; }, ALERT_MS);
  }

  // -- WebSocket -------------------------------------------------------------------------

  function setConn(stateName, title) {
    const node = $('conn-status');
    node.dataset.state = stateName;
    node.title = title || `stream ${stateName}`;
    node.querySelector('.conn-text').textContent = stateName;
    test.connected = stateName === 'live';
  }

  function wsUrl(symbols) {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    return `${scheme}://${window.location.host}/ws/stream?symbols=${encodeURIComponent(symbols.join(','))}`;
  }

  function send(message) {
    const { ws } = state;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  /** Make the open socket carry exactly the selected symbol. */
  function resubscribe() {
    const { ws } = state;
    if (!ws || ws.readyState !== WebSocket.OPEN) return; // the next connect uses the new symbol
    const stale = [...state.wsSymbols].filter((s) => s !== state.symbol);
    if (!state.wsSymbols.has(state.symbol)) send({ action: 'subscribe', symbols: [state.symbol] });
    if (stale.length) send({ action: 'unsubscribe', symbols: stale });
    state.wsSymbols = new Set([state.symbol]);
  }

  function armWatchdog(ws) {
    clearTimeout(state.watchdog);
    state.watchdog = setTimeout(() => {
      if (ws === state.ws) ws.close(4000, 'no message for too long');
    }, STALE_MS);
  }

  function connect() {
    clearTimeout(state.retryTimer);
    const ws = new WebSocket(wsUrl([state.symbol]));
    state.ws = ws;
    state.wsSymbols = new Set([state.symbol]);
    setConn(state.everOpened ? 'reconnecting' : 'connecting');
    ws.onopen = () => {
      if (ws !== state.ws) return;
      state.backoff = BACKOFF_MIN_MS;
      test.connects += 1;
      setConn('live');
      armWatchdog(ws);
      resubscribe();
      if (state.everOpened) resync(); // fill the gap the outage left
      state.everOpened = true;
    };
    ws.onmessage = (event) => {
      if (ws !== state.ws) return;
      armWatchdog(ws);
      let message;
      try { message = JSON.parse(event.data); } catch (error) { report(error); return; }
      test.wsMessages += 1;
      test.byType[message.type] = (test.byType[message.type] || 0) + 1;
      handle(message);
    };
    ws.onclose = () => {
      if (ws !== state.ws) return;
      state.ws = null;
      clearTimeout(state.watchdog);
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    const delay = Math.round(state.backoff * (0.8 + 0.4 * Math.random()));
    state.backoff = Math.min(BACKOFF_MAX_MS, state.backoff * 2);
    setConn('reconnecting', `reconnecting in ${(delay / 1000).toFixed(1)} s`);
    state.retryTimer = setTimeout(connect, delay);
  }

  async function loadSymbols() {
    const symbols = await getJSON('/api/symbols');
    state.symbols = symbols;
    state.bySymbol = Object.fromEntries(symbols.map((s) => [s.symbol, s]));
    fillSymbols();
    if (state.symbol) $('symbol-select').value = state.symbol;
    return symbols;
  }

  function resync() {
    loadSymbols().catch(report);
    loadSymbol();
    loadModels();
    loadReports();
    loadMacro();
    loadAlerts();
  }

  /** The newest few bars of the chart's interval again from the store (it resamples). */
  function refreshTail() {
    clearTimeout(state.tailTimer);
    state.tailTimer = setTimeout(async () => {
      const { symbol, interval, loadToken } = state;
      try {
        const page = await getJSON(`/api/bars/${encodeURIComponent(symbol)}?interval=${encodeURIComponent(interval)}&limit=3`);
        if (loadToken !== state.loadToken || state.buffer) return;
        if (page.bars.map(applyBar).some(Boolean)) queueRender();
      } catch (error) {
        report(error);
      }
    }, 500);
  }

  function onBars(message) {
    if (message.interval && message.interval !== state.interval) {
      // a coarser chart: its current bar grows with each finer live bar
      const finer = (INTERVAL_MS[message.interval] || 0) < (INTERVAL_MS[state.interval] || 0);
      if (finer && (message.data || []).some((b) => b.symbol === state.symbol)) refreshTail();
      return;
    }
    let changed = false;
    for (const bar of message.data || []) {
      if (bar.symbol && bar.symbol !== state.symbol) continue;
      if (state.buffer) state.buffer.push(bar);
      else changed = applyBar(bar) || changed;
    }
    if (changed) queueRender();
  }

  function onSnapshot(message) {
    for (const [symbol, entry] of Object.entries(message.data || {})) {
      for (const p of entry.predictions || []) takePrediction(p);
      if (entry.recommendation) takeRecommendation(entry.recommendation);
      if (entry.bar && symbol === state.symbol) {
        onBars({ interval: message.interval, data: [{ symbol, ...entry.bar }] });
      }
    }
    renderSignal();
  }

  function onRecommendations(message) {
    let mine = false;
    for (const rec of message.data || []) {
      if (takeRecommendation(rec) && rec.symbol === state.symbol) {
        prependRec(rec);
        mine = true;
      }
    }
    if (mine) renderSignal();
  }

  function onPredictions(message) {
    for (const p of message.data || []) takePrediction(p);
    if ((message.data || []).some((p) => p.symbol === state.symbol)) renderModels();
  }

  function handle(message) {
    switch (message.type) {
      case 'snapshot': onSnapshot(message); break;
      case 'bar': onBars(message); break;
      case 'prediction': onPredictions(message); break;
      case 'recommendation': onRecommendations(message); break;
      case 'model': loadModelsSoon(); break;
      case 'alert': showAlert(message.data || {}); break;
      case 'heartbeat':
        $('footer-stats').textContent = `heartbeat ${fmtTime(message.at)}${message.dropped ? ` · ${message.dropped} dropped` : ''}`;
        break;
      case 'error': report(`server: ${message.message}`); break;
      default: break; // pong and future types
    }
  }

  // -- start -----------------------------------------------------------------------------

  async function start() {
    $('symbol-select').addEventListener('change', (event) => selectSymbol(event.target.value));
    $('interval-select').addEventListener('change', (event) => {
      state.interval = event.target.value;
      showSymbolInfo();
      loadSymbol();
    });
    let symbols;
    for (let delay = BACKOFF_MIN_MS; ; delay = Math.min(BACKOFF_MAX_MS, delay * 2)) {
      try {
        symbols = await loadSymbols();
        break;
      } catch (error) {
        report(error);
        setConn('reconnecting', 'waiting for the server');
        await new Promise((resolve) => { setTimeout(resolve, delay); });
      }
    }
    loadModels();
    loadReports();
    loadMacro();
    loadAlerts();
    state.contextTimer = setInterval(refreshContext, CONTEXT_REFRESH_MS);
    if (!symbols.length) {
      $('chart').textContent = 'The store holds no symbols yet: run `nexus ingest sim` or `nexus up`.';
      newsMessage('No headlines: the store holds no symbols yet');
      return;
    }
    state.symbol = initialSymbol();
    fillIntervals();
    showSymbolInfo();
    connect();
    await loadSymbol();
  }

  start().catch(report);
})();
