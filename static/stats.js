/* Stats page: refreshes the numbers from GET /stats (JSON) and plots each model's running accuracy. */
(function () {
  'use strict';

  var SERIES = [
    { key: 'fnn', label: 'FNN original', color: '#1c6fc7', dash: [6, 4] },
    { key: 'fnn_updated', label: 'FNN updated', color: '#1c6fc7', dash: [] },
    { key: 'cnn', label: 'CNN original', color: '#d9480f', dash: [6, 4] },
    { key: 'cnn_updated', label: 'CNN updated', color: '#d9480f', dash: [] }
  ];

  var canvas = document.getElementById('accuracy-plot');
  var history = [];

  function num(v) { var n = Number(v); return isFinite(n) ? n : 0; }
  function get(obj, d) {
    if (!obj) { return undefined; }
    return obj[d] !== undefined ? obj[d] : obj[String(d)];
  }
  function setText(id, text) { var e = document.getElementById(id); if (e) { e.textContent = text; } }
  function pct(v) { return (v === null || v === undefined) ? '—' : Math.round(v * 100) + '%'; }

  function renderNumbers(s) {
    var drawings = s.drawings || {};
    var max = 0, total = 0, d;
    for (d = 0; d < 10; d++) { var n = num(get(drawings, d)); max = Math.max(max, n); total += n; }
    for (d = 0; d < 10; d++) {
      var count = num(get(drawings, d));
      var cell = document.querySelector('[data-drawings-digit="' + d + '"]');
      if (cell) { cell.textContent = String(count); }
      var fill = document.querySelector('[data-share-digit="' + d + '"]');
      if (fill) { fill.style.width = (max ? (count / max) * 100 : 0).toFixed(1) + '%'; }
    }
    setText('total-drawings', String(s.total_drawings !== undefined ? s.total_drawings : total));
    var hist = Array.isArray(s.history) ? s.history : [];
    var corrections = s.corrections !== undefined ? num(s.corrections) : hist.length;
    setText('corrections', String(corrections));
    var v = s.model_versions || {};
    var version = v.fnn_updated !== undefined ? v.fnn_updated : v.cnn_updated;
    if (version !== undefined && version !== null) { setText('stats-version', String(version)); }
    var acc = s.accuracy || {};
    SERIES.forEach(function (m) {
      var e = document.getElementById('accuracy-' + m.key);
      if (!e) { return; }
      var value = acc[m.key];
      e.textContent = pct(value);
      e.classList.toggle('none', value === null || value === undefined);
    });
    var none = document.getElementById('no-corrections');
    if (none) { none.hidden = corrections > 0 || hist.length > 0; }
  }

  /* Running accuracy per model: after the i-th correction, right answers so far / corrections so far. */
  function runningSeries(hist) {
    var out = {};
    SERIES.forEach(function (m) {
      var right = 0, seen = 0, points = [];
      hist.forEach(function (h, i) {
        var r = h && h.right ? h.right[m.key] : undefined;
        if (typeof r !== 'boolean') { return; }
        seen += 1;
        if (r) { right += 1; }
        points.push([i + 1, right / seen]);
      });
      out[m.key] = points;
    });
    return out;
  }

  function niceStep(n, maxTicks) {
    var raw = n / maxTicks, steps = [1, 2, 5];
    var mag = Math.pow(10, Math.floor(Math.log(Math.max(raw, 1)) / Math.LN10));
    for (var i = 0; i < 10; i++) {
      for (var j = 0; j < steps.length; j++) {
        if (steps[j] * mag >= raw) { return Math.max(1, steps[j] * mag); }
      }
      mag *= 10;
    }
    return Math.max(1, Math.ceil(raw));
  }

  function draw() {
    if (!canvas || !canvas.getContext) { return; }
    var rect = canvas.getBoundingClientRect();
    var w = Math.max(200, rect.width || 600), h = Math.max(160, rect.height || 280);
    var dpr = Math.min(window.devicePixelRatio || 1, 3);
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    var c = canvas.getContext('2d');
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, w, h);
    var font = '12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
    c.font = font;

    var left = 44, right = 14, top = 12, bottom = 34;
    var pw = w - left - right, ph = h - top - bottom;
    var n = history.length;

    // axes and grid
    c.strokeStyle = '#dde2ec';
    c.fillStyle = '#556070';
    c.lineWidth = 1;
    c.textAlign = 'right';
    c.textBaseline = 'middle';
    for (var g = 0; g <= 4; g++) {
      var gy = top + ph - (g / 4) * ph;
      c.beginPath(); c.moveTo(left, Math.round(gy) + 0.5); c.lineTo(left + pw, Math.round(gy) + 0.5); c.stroke();
      c.fillText((g * 25) + '%', left - 6, gy);
    }

    if (!n) {
      c.textAlign = 'center';
      c.fillStyle = '#556070';
      c.font = '15px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
      c.fillText('no corrections yet', left + pw / 2, top + ph / 2);
      canvas.setAttribute('aria-label', 'Running accuracy chart: no corrections yet.');
      return;
    }

    var xMax = Math.max(n, 2);
    function X(i) { return left + ((i - 1) / (xMax - 1)) * pw; }
    function Y(v) { return top + ph - v * ph; }

    c.textAlign = 'center';
    c.textBaseline = 'top';
    c.fillStyle = '#556070';
    var step = niceStep(n, Math.max(2, Math.floor(pw / 60)));
    for (var t = 1; t <= n; t += (t === 1 && step > 1 ? step - 1 : step)) {
      c.fillText(String(t), X(t), top + ph + 6);
      c.beginPath(); c.moveTo(Math.round(X(t)) + 0.5, top + ph); c.lineTo(Math.round(X(t)) + 0.5, top + ph + 4); c.stroke();
    }
    c.fillText('corrections', left + pw / 2, top + ph + 20);

    var series = runningSeries(history);
    var summary = [];
    SERIES.forEach(function (m) {
      var pts = series[m.key];
      if (!pts.length) { return; }
      c.strokeStyle = m.color;
      c.fillStyle = m.color;
      c.lineWidth = m.dash.length ? 2 : 2.5;
      c.lineJoin = 'round';
      c.lineCap = 'round';
      c.setLineDash(m.dash);
      c.beginPath();
      pts.forEach(function (p, i) { if (i) { c.lineTo(X(p[0]), Y(p[1])); } else { c.moveTo(X(p[0]), Y(p[1])); } });
      c.stroke();
      c.setLineDash([]);
      if (pts.length <= 40) {
        pts.forEach(function (p) { c.beginPath(); c.arc(X(p[0]), Y(p[1]), m.dash.length ? 2 : 2.75, 0, Math.PI * 2); c.fill(); });
      }
      summary.push(m.label + ' ' + Math.round(pts[pts.length - 1][1] * 100) + '%');
    });
    canvas.setAttribute('aria-label', 'Running accuracy over ' + n + ' correction' + (n === 1 ? '' : 's') +
      '; final values: ' + summary.join(', ') + '.');
  }

  function setHistory(hist) {
    history = (Array.isArray(hist) ? hist.slice() : []).filter(function (h) { return h && h.right; });
    if (history.every(function (h) { return typeof h.version === 'number'; })) {
      history.sort(function (a, b) { return a.version - b.version; });
    }
    draw();
  }

  // draw at once from the data rendered into the page, then refresh from the JSON route
  if (canvas) {
    try { setHistory(JSON.parse(canvas.getAttribute('data-history') || '[]')); } catch { setHistory([]); }
  }
  var initialDrawings = {};
  for (var d = 0; d < 10; d++) {
    var cell = document.querySelector('[data-drawings-digit="' + d + '"]');
    initialDrawings[d] = cell ? num(cell.textContent) : 0;
  }
  renderShares(initialDrawings);

  function renderShares(drawings) {
    var max = 0, k;
    for (k = 0; k < 10; k++) { max = Math.max(max, num(get(drawings, k))); }
    for (k = 0; k < 10; k++) {
      var fill = document.querySelector('[data-share-digit="' + k + '"]');
      if (fill) { fill.style.width = (max ? (num(get(drawings, k)) / max) * 100 : 0).toFixed(1) + '%'; }
    }
  }

  fetch('/stats', { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
    .then(function (res) { return res.ok ? res.json() : null; })
    .then(function (s) {
      if (!s || typeof s !== 'object') { return; }
      renderNumbers(s);
      setHistory(s.history);
    })
    .catch(function () { /* keep what the server rendered */ });

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(draw, 100);
  });
}());
