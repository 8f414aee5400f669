/* Drawing pad, recognition, corrections and data collection for the digit recognizer.
   Plain JavaScript, no inline handlers (the page runs under a strict Content-Security-Policy). */
(function () {
  'use strict';

  var MODELS = ['fnn', 'fnn_updated', 'cnn', 'cnn_updated'];
  var EXPORT_SIZE = 280;        // the image sent to the server is always 280x280, whatever the screen
  var PEN_RATIO = 1 / 14;       // pen width as a fraction of the canvas side
  var LIVE_DELAY = 400;         // ms after a stroke ends before live recognition asks the server
  var MAX_DPR = 3;
  var NOT_A_DIGIT = "can't recognize this as a digit";

  function $(id) { return document.getElementById(id); }

  var pad = $('pad');
  if (!pad || !pad.getContext) { return; }
  var ctx = pad.getContext('2d');

  var el = {
    app: $('app'), padEmpty: $('pad-empty'),
    undo: $('undo'), clear: $('clear'), recognize: $('recognize'), live: $('live'),
    modeRecognize: $('mode-recognize'), modeCollect: $('mode-collect'),
    status: $('status'), results: $('results-panel'), collect: $('collect-panel'),
    answer: $('answer'), preview: $('preview'), previewPlaceholder: $('preview-placeholder'),
    version: $('model-version'), correct: $('correct'), wrongDigits: $('wrong-digits'),
    collectDigits: $('collect-digits'), counts: $('counts'), countsTotal: $('counts-total'),
    after: $('after-learning'), updatedAnswer: $('updated-answer'), updatedNote: $('updated-note')
  };

  // ---- state -------------------------------------------------------------------------------
  var strokes = [];             // finished strokes: arrays of [x, y] in 0..1 of the canvas side
  var current = null;           // the stroke being drawn
  var activePointer = null;
  var drawGen = 0;              // bumps whenever the drawing changes
  var result = null;            // last recognition: {gen, answer}
  var PAGE_ID = Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);   // names this page's /train requests
  var taughtGen = -1;           // the drawing generation already sent to /train and kept by the server
  var busy = false;             // a /train or /samples request is in flight
  var predictSeq = 0;
  var predictAbort = null;
  var liveTimer = null;
  var renderQueued = false;
  var mode = 'recognize';
  var counts = null;            // {digit: n} known stored drawings, or null when unknown

  // ---- drawing -----------------------------------------------------------------------------
  function traceStroke(c, pts, side) {
    var n = pts.length;
    if (!n) { return; }
    var x0 = pts[0][0] * side, y0 = pts[0][1] * side;
    if (n === 1) {
      c.beginPath();
      c.arc(x0, y0, c.lineWidth / 2, 0, Math.PI * 2);
      c.fill();
      return;
    }
    c.beginPath();
    c.moveTo(x0, y0);
    if (n === 2) {
      c.lineTo(pts[1][0] * side, pts[1][1] * side);
    } else {
      // quadratic smoothing: the points are control points, the midpoints between them are on the curve
      for (var i = 1; i < n - 1; i++) {
        var mx = (pts[i][0] + pts[i + 1][0]) / 2, my = (pts[i][1] + pts[i + 1][1]) / 2;
        c.quadraticCurveTo(pts[i][0] * side, pts[i][1] * side, mx * side, my * side);
      }
      c.lineTo(pts[n - 1][0] * side, pts[n - 1][1] * side);
    }
    c.stroke();
  }

  function paint(c, side) {
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.globalCompositeOperation = 'source-over';
    c.fillStyle = '#ffffff';
    c.fillRect(0, 0, side, side);
    c.strokeStyle = '#000000';
    c.fillStyle = '#000000';
    c.lineWidth = side * PEN_RATIO;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    for (var i = 0; i < strokes.length; i++) { traceStroke(c, strokes[i], side); }
    if (current) { traceStroke(c, current, side); }
  }

  function render() {
    renderQueued = false;
    paint(ctx, pad.width);
    var empty = !strokes.length && !current;
    if (el.padEmpty) { el.padEmpty.hidden = !empty; }
  }

  function scheduleRender() {
    if (renderQueued) { return; }
    renderQueued = true;
    window.requestAnimationFrame(render);
  }

  function fitCanvas() {
    var rect = pad.getBoundingClientRect();
    if (!rect.width) { return; }
    var dpr = Math.min(window.devicePixelRatio || 1, MAX_DPR);
    var side = Math.max(1, Math.round(rect.width * dpr));
    if (pad.width !== side || pad.height !== side) {
      pad.width = side;
      pad.height = side;
    }
    render();
  }

  function exportImage() {
    var off = document.createElement('canvas');
    off.width = EXPORT_SIZE;
    off.height = EXPORT_SIZE;
    paint(off.getContext('2d'), EXPORT_SIZE);
    return off.toDataURL('image/png');
  }

  function pointFrom(e) {
    var r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
  }

  function addPoint(p) {
    var last = current[current.length - 1];
    var dx = p[0] - last[0], dy = p[1] - last[1];
    if (dx * dx + dy * dy < 0.000004) { return; }   // under ~0.5 px on a 280 px pad
    current.push(p);
  }

  pad.addEventListener('pointerdown', function (e) {
    if (activePointer !== null) { return; }                 // one stroke at a time (ignore a second finger)
    if (e.pointerType === 'mouse' && e.button !== 0) { return; }
    e.preventDefault();
    activePointer = e.pointerId;
    try { pad.setPointerCapture(e.pointerId); } catch (err) { /* not capturable: fine */ }
    window.clearTimeout(liveTimer);
    current = [pointFrom(e)];
    scheduleRender();
  });

  pad.addEventListener('pointermove', function (e) {
    if (e.pointerId !== activePointer || !current) { return; }
    e.preventDefault();
    var events = (typeof e.getCoalescedEvents === 'function') ? e.getCoalescedEvents() : null;
    if (!events || !events.length) { events = [e]; }
    for (var i = 0; i < events.length; i++) { addPoint(pointFrom(events[i])); }
    scheduleRender();
  });

  function endStroke(e) {
    if (e.pointerId !== activePointer) { return; }
    activePointer = null;
    if (!current) { return; }
    if (e.type === 'pointerup') { addPoint(pointFrom(e)); }
    strokes.push(current);
    current = null;
    scheduleRender();
    drawingChanged();
    scheduleLive();
  }
  pad.addEventListener('pointerup', endStroke);
  pad.addEventListener('pointercancel', endStroke);
  pad.addEventListener('lostpointercapture', endStroke);
  pad.addEventListener('contextmenu', function (e) { e.preventDefault(); });
  // Older touch browsers without touch-action support: keep the page from scrolling or zooming.
  ['touchstart', 'touchmove'].forEach(function (type) {
    pad.addEventListener(type, function (e) { e.preventDefault(); }, { passive: false });
  });

  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(fitCanvas).observe(pad);
  }
  window.addEventListener('resize', fitCanvas);

  function drawingChanged() {
    drawGen += 1;
    if (result && result.gen !== drawGen) { el.results.classList.add('is-stale'); }
    updateControls();
  }

  function undo() {
    if (current) { return; }
    if (!strokes.length) { return; }
    strokes.pop();
    scheduleRender();
    drawingChanged();
    if (!strokes.length) {
      resetResults();
      setStatus('Draw a digit, then press Recognize.');
    } else {
      scheduleLive();
    }
  }

  function clearPad(quiet) {
    strokes = [];
    current = null;
    activePointer = null;
    window.clearTimeout(liveTimer);
    scheduleRender();
    drawingChanged();
    resetResults();
    if (!quiet) { setStatus(mode === 'collect' ? 'Draw a digit, then press its number.' : 'Draw a digit, then press Recognize.'); }
  }

  // ---- server ------------------------------------------------------------------------------
  function send(method, url, body, signal) {
    var init = {
      method: method,
      headers: { 'Accept': 'application/json' },
      credentials: 'same-origin',
      signal: signal
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (err) { data = null; }
        return { ok: res.ok, status: res.status, data: data || {} };
      });
    });
  }

  // An error answer that still carries a sample_id: the server stored the drawing (a /train whose update was
  // refused, 422, or failed, 503, and is learned later).
  function keptDrawing(r) {
    return !!(r.data && r.data.sample_id);
  }

  function errorText(r) {
    var msg = r.data && r.data.error ? String(r.data.error) : '';
    if (r.status === 429) { return (msg || 'Too many requests') + ' — please wait a moment and try again.'; }
    if (r.status === 503 && !keptDrawing(r)) {
      return (msg || 'The store is unreachable') + ' — nothing was saved; try again shortly.';
    }
    return msg || ('The server answered ' + r.status + '.');
  }

  function keptText(r) {
    var msg = r.data && r.data.error ? String(r.data.error) : 'the drawing was kept, but the models did not learn from it';
    return capitalize(msg) + '. Clear the pad to draw another.';
  }

  function networkError(err) {
    if (err && err.name === 'AbortError') { return; }
    setStatus('Could not reach the server. Check the connection and try again.', 'error');
  }

  // ---- status and results ------------------------------------------------------------------
  function setStatus(text, kind) {
    el.status.textContent = text;
    el.status.className = 'status' + (kind ? ' is-' + kind : '');
  }

  function pct(p) {
    var v = Math.max(0, Math.min(1, Number(p) || 0)) * 100;
    return (v > 0 && v < 1 ? '<1' : Math.round(v)) + '%';
  }

  function renderChart(key, list) {
    var chart = $('chart-' + key);
    if (!chart) { return; }
    var rows = chart.querySelectorAll('.bar-row');
    list = Array.isArray(list) ? list : [];
    for (var i = 0; i < rows.length; i++) {
      var item = list[i];
      var row = rows[i];
      var fill = row.querySelector('.bar-fill');
      if (item) {
        var prob = Math.max(0, Math.min(1, Number(item.probability) || 0));
        row.querySelector('.bar-digit').textContent = String(item.digit);
        row.querySelector('.bar-pct').textContent = pct(prob);
        fill.style.width = (prob * 100).toFixed(1) + '%';
        row.setAttribute('aria-label', item.digit + ': ' + pct(prob));
      } else {
        row.querySelector('.bar-digit').textContent = '–';
        row.querySelector('.bar-pct').textContent = '';
        fill.style.width = '0';
        row.removeAttribute('aria-label');
      }
    }
    var top = list[0] ? list[0].digit : null;
    chart.setAttribute('data-top', top === null ? '' : String(top));
  }

  function renderCharts(predictions) {
    predictions = predictions || {};
    MODELS.forEach(function (key) { renderChart(key, predictions[key]); });
    // mark an updated model whose top guess differs from its original
    [['fnn', 'fnn_updated'], ['cnn', 'cnn_updated']].forEach(function (pair) {
      var a = $('chart-' + pair[0]), b = $('chart-' + pair[1]);
      if (!a || !b) { return; }
      var differs = a.getAttribute('data-top') !== '' && b.getAttribute('data-top') !== '' &&
        a.getAttribute('data-top') !== b.getAttribute('data-top');
      b.classList.toggle('differs', differs);
    });
  }

  function setAnswer(answer, message) {
    var isDigit = answer !== null && answer !== undefined && answer !== '';
    el.answer.textContent = isDigit ? String(answer) : (message || NOT_A_DIGIT);
    el.answer.classList.toggle('is-message', !isDigit);
    el.answer.classList.remove('is-empty');
  }

  function setVersion(v) {
    if (v === null || v === undefined) { return; }
    el.version.textContent = String(v);
  }

  function versionFrom(versions) {
    if (!versions) { return null; }
    var a = versions.fnn_updated, b = versions.cnn_updated;
    if (a === undefined || a === null) { return b === undefined ? null : b; }
    if (b === undefined || b === null) { return a; }
    return Math.max(a, b);
  }

  function setPreview(src) {
    if (typeof src === 'string' && src.indexOf('data:image/') === 0) {
      el.preview.src = src;
      el.preview.hidden = false;
      el.previewPlaceholder.hidden = true;
    } else {
      el.preview.removeAttribute('src');
      el.preview.hidden = true;
      el.previewPlaceholder.hidden = false;
    }
  }

  function resetResults() {
    predictSeq += 1;                                   // drop answers still on their way
    if (predictAbort) { predictAbort.abort(); predictAbort = null; }
    result = null;
    el.answer.textContent = '?';
    el.answer.className = 'answer is-empty';
    el.results.classList.remove('is-stale');
    el.after.hidden = true;
    setPreview(null);
    renderCharts({});
    updateControls();
  }

  function showResult(data, gen) {
    result = { gen: gen, answer: (data.answer === undefined ? null : data.answer) };
    setAnswer(result.answer, data.message);
    renderCharts(data.predictions);
    setPreview(data.preview);
    setVersion(versionFrom(data.model_versions));
    el.after.hidden = true;
    el.results.classList.toggle('is-stale', gen !== drawGen);
    updateControls();
  }

  function showBlank(message, gen) {
    result = { gen: gen, answer: null };
    setAnswer(null, message || 'nothing is drawn');
    renderCharts({});
    setPreview(null);
    el.after.hidden = true;
    el.results.classList.toggle('is-stale', gen !== drawGen);
    updateControls();
  }

  function updateControls() {
    var hasInk = strokes.length > 0;
    var taught = taughtGen === drawGen;
    var fresh = !!result && result.gen === drawGen;
    el.undo.disabled = !hasInk;
    el.recognize.disabled = mode !== 'recognize';
    el.live.disabled = mode !== 'recognize';
    el.correct.disabled = busy || taught || !fresh || result.answer === null || result.answer === undefined;
    var digitsOff = busy || !hasInk || taught;
    setDigitsDisabled(el.wrongDigits, digitsOff);
    setDigitsDisabled(el.collectDigits, busy || !hasInk);
    el.app.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function setDigitsDisabled(container, off) {
    if (!container) { return; }
    var buttons = container.querySelectorAll('button[data-digit]');
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = off; }
  }

  // ---- recognition -------------------------------------------------------------------------
  function recognize(live) {
    if (mode !== 'recognize') { return; }
    window.clearTimeout(liveTimer);
    var gen = drawGen;
    if (!strokes.length) {
      resetResults();
      showBlank('nothing is drawn', gen);
      if (!live) { setStatus('Nothing is drawn yet: draw a digit first.'); }
      return;
    }
    var seq = ++predictSeq;
    if (predictAbort) { predictAbort.abort(); }
    predictAbort = (typeof AbortController === 'function') ? new AbortController() : null;
    el.recognize.setAttribute('aria-busy', 'true');
    el.results.classList.add('is-loading');
    if (!live) { setStatus('Recognizing…'); }
    send('POST', '/predict', { image: exportImage() }, predictAbort ? predictAbort.signal : undefined)
      .then(function (r) {
        if (seq !== predictSeq) { return; }
        if (r.ok) {
          showResult(r.data, gen);
          if (!live) {
            setStatus(result.answer === null
              ? 'The models are not sure. If you know the digit, pick it below to teach them.'
              : 'Is it a ' + result.answer + '? Press Correct, or pick the right digit to teach the models.');
            revealAnswer();
          }
        } else if (r.status === 422) {
          showBlank(r.data.error || 'nothing is drawn', gen);
          if (!live) { setStatus(r.data.error ? capitalize(r.data.error) + '.' : 'Nothing is drawn.'); }
        } else {
          setStatus(errorText(r), 'error');
        }
      })
      .catch(networkError)
      .then(function () {
        if (seq === predictSeq) {
          el.recognize.removeAttribute('aria-busy');
          el.results.classList.remove('is-loading');
        }
      });
  }

  // On a phone the results sit below the pad: when the answer is out of sight, scroll so that the status line,
  // the answer and the Correct / Wrong buttons show.
  function revealAnswer() {
    var r = el.answer.getBoundingClientRect();
    var h = window.innerHeight || document.documentElement.clientHeight;
    if (r.top >= 0 && r.bottom <= h) { return; }
    try { el.status.scrollIntoView({ block: 'start' }); } catch (err) { el.status.scrollIntoView(true); }
  }

  function scheduleLive() {
    window.clearTimeout(liveTimer);
    if (!el.live.checked || mode !== 'recognize' || !strokes.length) { return; }
    liveTimer = window.setTimeout(function () { recognize(true); }, LIVE_DELAY);
  }

  function capitalize(s) { s = String(s); return s.charAt(0).toUpperCase() + s.slice(1); }

  // ---- learning ----------------------------------------------------------------------------
  function teach(digit, confirming) {
    if (busy) { return; }
    if (!strokes.length) { setStatus('Draw a digit first.', 'error'); return; }
    if (taughtGen === drawGen) {
      setStatus('The server already has this drawing. Clear the pad to draw another.');
      return;
    }
    var gen = drawGen;
    busy = true;
    updateControls();
    setStatus(confirming ? 'Thanks! Teaching the models that this ' + digit + ' is right…'
                         : 'Teaching the models that this is a ' + digit + '…');
    // the same drawing taught the same digit again (after an answer that never came) is applied once
    send('POST', '/train', { image: exportImage(), digit: digit, request_id: PAGE_ID + '-' + gen + '-' + digit })
      .then(function (r) {
        if (r.ok) {
          taughtGen = gen;
          var d = r.data;
          if (d.predictions) { renderCharts(d.predictions); }
          setVersion(d.model_version !== undefined ? d.model_version : versionFrom(d.model_versions));
          showAfter(d, digit);
          var v = d.model_version !== undefined ? ' (now version ' + d.model_version + ')' : '';
          setStatus((confirming ? 'Confirmed ' + digit + '; the models learned from it' : 'Learned that this is a ' + digit) +
            v + '. Clear the pad to draw another.', 'ok');
        } else if (keptDrawing(r)) {
          taughtGen = gen;                 // stored already: sending it again would only store a copy
          setStatus(keptText(r), 'error');
        } else {
          setStatus(errorText(r), 'error');
        }
      })
      .catch(networkError)
      .then(function () { busy = false; updateControls(); });
  }

  function showAfter(d, digit) {
    var p = d.predictions || {};
    var answer = d.answer;                 // /train's 200 body always carries answer (a digit or null)
    var message = d.message;
    var isDigit = answer !== null && answer !== undefined;
    el.updatedAnswer.textContent = isDigit ? String(answer) : (message || NOT_A_DIGIT);
    el.updatedAnswer.classList.toggle('is-message', !isDigit);
    var parts = [];
    ['fnn_updated', 'cnn_updated'].forEach(function (key) {
      var top = p[key] && p[key][0];
      if (top) { parts.push((key === 'fnn_updated' ? 'FNN' : 'CNN') + ' ' + top.digit + ' (' + pct(top.probability) + ')'); }
    });
    var verdict = isDigit ? (Number(answer) === Number(digit) ? 'now right' : 'still not ' + digit) : '';
    el.updatedNote.textContent = [verdict, parts.length ? 'updated ' + parts.join(', ') : ''].filter(Boolean).join(' · ');
    el.after.classList.toggle('is-right', isDigit && Number(answer) === Number(digit));
    el.after.hidden = false;
  }

  // ---- data collection ---------------------------------------------------------------------
  function renderCounts(flash) {
    if (!el.counts) { return; }
    var total = 0, known = false;
    for (var d = 0; d < 10; d++) {
      var cell = el.counts.querySelector('[data-count-digit="' + d + '"]');
      var n = counts ? Number(counts[d] !== undefined ? counts[d] : counts[String(d)]) : NaN;
      if (isFinite(n)) { total += n; known = true; }
      if (cell) {
        cell.textContent = isFinite(n) ? String(n) : '–';
        cell.classList.toggle('flash', flash === d);
      }
    }
    el.countsTotal.textContent = known ? String(total) : '–';
  }

  function saveSample(digit) {
    if (busy) { return; }
    if (!strokes.length) { setStatus('Draw a digit first.', 'error'); return; }
    busy = true;
    updateControls();
    setStatus('Saving this drawing as a ' + digit + '…');
    send('POST', '/samples', { image: exportImage(), digit: digit })
      .then(function (r) {
        if (r.ok) {
          if (r.data.counts) {
            counts = r.data.counts;
          } else if (counts) {
            counts[digit] = (Number(counts[digit] !== undefined ? counts[digit] : counts[String(digit)]) || 0) + 1;
          }
          renderCounts(digit);
          clearPad(true);
          setStatus('Saved as a ' + digit + '. Draw the next one.', 'ok');
        } else {
          setStatus(errorText(r), 'error');
        }
      })
      .catch(networkError)
      .then(function () { busy = false; updateControls(); });
  }

  function labelDigit(digit) {
    if (mode === 'collect') { saveSample(digit); } else { teach(digit, false); }
  }

  // ---- mode --------------------------------------------------------------------------------
  function setMode(next) {
    mode = next === 'collect' ? 'collect' : 'recognize';
    el.app.setAttribute('data-mode', mode);
    el.results.hidden = mode !== 'recognize';
    el.collect.hidden = mode !== 'collect';
    window.clearTimeout(liveTimer);
    updateControls();
    setStatus(mode === 'collect'
      ? 'Data-collection mode: draw a digit, then press its number to save it.'
      : 'Draw a digit, then press Recognize.');
    if (mode === 'collect' && counts === null) { loadStats(); }
  }

  // ---- wiring ------------------------------------------------------------------------------
  el.recognize.addEventListener('click', function () { recognize(false); });
  el.clear.addEventListener('click', function () { clearPad(false); });
  el.undo.addEventListener('click', undo);
  el.correct.addEventListener('click', function () {
    if (result && result.answer !== null && result.gen === drawGen) { teach(Number(result.answer), true); }
  });
  el.wrongDigits.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button[data-digit]') : null;
    if (b && !b.disabled) { teach(Number(b.getAttribute('data-digit')), false); }
  });
  el.collectDigits.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button[data-digit]') : null;
    if (b && !b.disabled) { saveSample(Number(b.getAttribute('data-digit'))); }
  });
  el.modeRecognize.addEventListener('change', function () { if (el.modeRecognize.checked) { setMode('recognize'); } });
  el.modeCollect.addEventListener('change', function () { if (el.modeCollect.checked) { setMode('collect'); } });
  el.live.addEventListener('change', function () {
    try { window.localStorage.setItem('live-recognition', el.live.checked ? '1' : '0'); } catch (err) { /* private mode */ }
    if (el.live.checked && strokes.length && (!result || result.gen !== drawGen)) { scheduleLive(); }
  });

  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.isComposing) { return; }
    var t = e.target || {};
    var tag = t.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT' || t.isContentEditable ||
        (tag === 'INPUT' && t.type !== 'radio' && t.type !== 'checkbox')) { return; }
    var key = e.key;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && (key === 'z' || key === 'Z')) {
      e.preventDefault();
      undo();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (key === 'Enter') {
      if (tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY') { return; }   // let Enter press the focused control
      e.preventDefault();
      recognize(false);
    } else if (key === 'Escape' || key === 'Esc') {
      e.preventDefault();
      clearPad(false);
    } else if (/^[0-9]$/.test(key)) {
      e.preventDefault();
      labelDigit(Number(key));
    }
  });

  function loadStats() {
    send('GET', '/stats').then(function (r) {
      if (!r.ok) { return; }
      setVersion(versionFrom(r.data.model_versions));
      if (r.data.drawings && counts === null) {
        counts = r.data.drawings;
        renderCounts(null);
      }
    }).catch(function () { /* the page works without it */ });
  }

  // ---- start -------------------------------------------------------------------------------
  try { el.live.checked = window.localStorage.getItem('live-recognition') === '1'; } catch (err) { /* ignore */ }
  if (el.modeCollect.checked) { setMode('collect'); } else { setMode('recognize'); }
  fitCanvas();
  resetResults();
  loadStats();
}());
