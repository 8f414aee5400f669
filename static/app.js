/* Drawing pad, recognition, corrections and data collection for the digit recognizer.
   Plain JavaScript, no inline handlers (the page runs under a strict Content-Security-Policy). */
(function () {
  'use strict';

  var MODELS = ['fnn', 'fnn_updated', 'cnn', 'cnn_updated'];
  var EXPORT_HEIGHT = 280;      // the image sent is 280 px tall whatever the screen: 280x280, or 840x280 for a number
  var WIDE_ASPECT = 3;          // number mode's pad is 3:1 (the server's recognizer/render.py WIDE_PAD: 840x280)
  var PEN_RATIO = 1 / 14;       // pen width as a fraction of the pad's height, in both shapes
  var LIVE_DELAY = 400;         // ms after a stroke ends before live recognition asks the server
  var MAX_DPR = 3;
  var NOT_A_DIGIT = "can't recognize this as a digit";
  var PROMPT = {
    recognize: ['Draw a digit, then press Recognize.', 'Write a number, then press Recognize.'],
    collect: ['Draw a digit, then press its number.', 'Write a number, then type it and press Save.']
  };

  function $(id) { return document.getElementById(id); }

  var pad = $('pad');
  if (!pad || !pad.getContext) { return; }
  var ctx = pad.getContext('2d');

  var el = {
    app: $('app'), padEmpty: $('pad-empty'), padHeading: $('pad-heading'),
    undo: $('undo'), clear: $('clear'), recognize: $('recognize'), live: $('live'), numberMode: $('number-mode'),
    modeRecognize: $('mode-recognize'), modeCollect: $('mode-collect'),
    status: $('status'), results: $('results-panel'), collect: $('collect-panel'),
    answer: $('answer'), preview: $('preview'), previewPlaceholder: $('preview-placeholder'),
    digits: $('digits'), digitList: $('digit-list'), chartsNote: $('charts-note'),
    version: $('model-version'), correct: $('correct'), wrongLabel: $('wrong-label'), wrongDigits: $('wrong-digits'),
    collectDigits: $('collect-digits'), counts: $('counts'), countsTotal: $('counts-total'),
    numberForm: $('collect-number-form'), numberInput: $('collect-number'), saveNumber: $('save-number'),
    after: $('after-learning'), afterLabel: $('after-label'), updatedAnswer: $('updated-answer'),
    updatedNote: $('updated-note')
  };

  // ---- state -------------------------------------------------------------------------------
  var aspect = 1;               // the pad's width over its height: 1, or WIDE_ASPECT in number mode
  var strokes = [];             // finished strokes: arrays of [x, y] in units of the pad's height (x runs to aspect)
  var current = null;           // the stroke being drawn
  var activePointer = null;
  var drawGen = 0;              // bumps whenever the drawing changes
  var result = null;            // last recognition: {gen, image (as sent), answer, number, message, digits, ...}
  var PAGE_ID = Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);   // names this page's /train requests
  var taughtGen = -1;           // the drawing generation already sent to /train whole and kept by the server
  var selected = null;          // the index in result.digits picked for correcting, in a number
  var busy = false;             // a /train or /samples request is in flight
  var predictSeq = 0;
  var predictAbort = null;
  var liveTimer = null;
  var renderQueued = false;
  var mode = 'recognize';
  var counts = null;            // {digit: n} known stored drawings, or null when unknown

  // ---- drawing -----------------------------------------------------------------------------
  function traceStroke(c, pts, unit) {
    var n = pts.length;
    if (!n) { return; }
    var x0 = pts[0][0] * unit, y0 = pts[0][1] * unit;
    if (n === 1) {
      c.beginPath();
      c.arc(x0, y0, c.lineWidth / 2, 0, Math.PI * 2);
      c.fill();
      return;
    }
    c.beginPath();
    c.moveTo(x0, y0);
    if (n === 2) {
      c.lineTo(pts[1][0] * unit, pts[1][1] * unit);
    } else {
      // quadratic smoothing: the points are control points, the midpoints between them are on the curve
      for (var i = 1; i < n - 1; i++) {
        var mx = (pts[i][0] + pts[i + 1][0]) / 2, my = (pts[i][1] + pts[i + 1][1]) / 2;
        c.quadraticCurveTo(pts[i][0] * unit, pts[i][1] * unit, mx * unit, my * unit);
      }
      c.lineTo(pts[n - 1][0] * unit, pts[n - 1][1] * unit);
    }
    c.stroke();
  }

  // The drawing on a canvas of width x height; points are in units of the height.
  function paint(c, width, height) {
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.globalCompositeOperation = 'source-over';
    c.fillStyle = '#ffffff';
    c.fillRect(0, 0, width, height);
    c.strokeStyle = '#000000';
    c.fillStyle = '#000000';
    c.lineWidth = height * PEN_RATIO;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    for (var i = 0; i < strokes.length; i++) { traceStroke(c, strokes[i], height); }
    if (current) { traceStroke(c, current, height); }
  }

  // Outline each digit of a number on the screen's pad (never in the image sent): the boxes are in the sent
  // image's pixels, so they scale by the pad's height over the export's.
  function outlineDigits() {
    if (!numberShown() || result.gen !== drawGen) { return; }
    var scale = pad.height / EXPORT_HEIGHT;
    var unit = Math.max(1, pad.height / 140);
    ctx.lineCap = 'butt';
    result.digits.forEach(function (d, i) {
      var b = d.box;
      ctx.strokeStyle = i === selected ? '#2f4ac0' : '#8a93a3';
      ctx.lineWidth = (i === selected ? 3 : 1.5) * unit;
      ctx.setLineDash(i === selected ? [] : [4 * unit, 3 * unit]);
      ctx.strokeRect(b[0] * scale, b[1] * scale, (b[2] - b[0]) * scale, (b[3] - b[1]) * scale);
    });
    ctx.setLineDash([]);
  }

  function render() {
    renderQueued = false;
    paint(ctx, pad.width, pad.height);
    outlineDigits();
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
    var width = Math.max(1, Math.round(rect.width * dpr));
    var height = Math.max(1, Math.round(width / aspect));
    if (pad.width !== width || pad.height !== height) {
      pad.width = width;
      pad.height = height;
    }
    render();
  }

  function exportImage() {
    var off = document.createElement('canvas');
    off.width = EXPORT_HEIGHT * aspect;
    off.height = EXPORT_HEIGHT;
    paint(off.getContext('2d'), off.width, off.height);
    return off.toDataURL('image/png');
  }

  function pointFrom(e) {
    var r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) / r.height, (e.clientY - r.top) / r.height];
  }

  function addPoint(p) {
    var last = current[current.length - 1];
    var dx = p[0] - last[0], dy = p[1] - last[1];
    if (dx * dx + dy * dy < 0.000004) { return; }   // under ~0.5 px on a 280 px tall pad
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
    if (numberShown()) { showSelection(); } else { updateControls(); }   // a number's labels and outlines are out of date
  }

  function prompt() { return PROMPT[mode][aspect > 1 ? 1 : 0]; }

  function undo() {
    if (current) { return; }
    if (!strokes.length) { return; }
    strokes.pop();
    scheduleRender();
    drawingChanged();
    if (!strokes.length) {
      resetResults();
      setStatus(prompt());
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
    if (!quiet) { setStatus(prompt()); }
  }

  // Square pad for a digit, wide pad for a number. The strokes would not fit the other shape: start afresh.
  function setShape(wide) {
    aspect = wide ? WIDE_ASPECT : 1;
    el.app.setAttribute('data-shape', wide ? 'wide' : 'square');
    el.padHeading.textContent = wide ? 'Write a number' : 'Draw a digit';
    pad.setAttribute('aria-label', wide
      ? 'Wide drawing pad: write a number, its digits side by side with a small gap, with a mouse, pen or finger. ' +
        'Enter recognizes, Escape clears, Control+Z undoes the last stroke.'
      : 'Drawing pad: draw one digit with a mouse, pen or finger. Enter recognizes, Escape clears, ' +
        'digit keys label the drawing, Control+Z undoes the last stroke.');
    el.padEmpty.textContent = wide ? 'write a number here' : 'draw here';
    clearPad(true);
    fitCanvas();
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

  function isDigit(answer) { return answer !== null && answer !== undefined && answer !== ''; }

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
    el.answer.textContent = isDigit(answer) ? String(answer) : (message || NOT_A_DIGIT);
    el.answer.classList.toggle('is-message', !isDigit(answer));
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

  function isImage(src) { return typeof src === 'string' && src.indexOf('data:image/') === 0; }

  function setPreview(src) {
    if (isImage(src)) {
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
    selected = null;
    el.answer.textContent = '?';
    el.answer.className = 'answer is-empty';
    el.results.classList.remove('is-stale');
    el.after.hidden = true;
    showSelection();
  }

  function showResult(data, gen, image) {
    var same = result && result.gen === gen;           // the same drawing recognized again: keep what was taught
    var taught = same ? result.taught : {};
    var keep = same ? selected : null;
    var digits = Array.isArray(data.digits) ? data.digits : [];
    result = {
      gen: gen, image: image, answer: (data.answer === undefined ? null : data.answer),
      number: data.number === undefined ? null : data.number, message: data.message,
      digits: digits, taught: taught, whole: { predictions: data.predictions, preview: data.preview }
    };
    selected = keep !== null && keep < digits.length ? keep : null;
    if (numberShown()) {
      setAnswer(result.number, data.message);
      digits.forEach(function (d, i) { if (taught[i] !== undefined) { d.taught = taught[i]; } });
    } else {
      setAnswer(result.answer, data.message);
    }
    setVersion(versionFrom(data.model_versions));
    el.after.hidden = true;
    el.results.classList.toggle('is-stale', gen !== drawGen);
    showSelection();
  }

  function showBlank(message, gen) {
    result = { gen: gen, answer: null, number: null, digits: [], taught: {}, whole: {} };
    selected = null;
    setAnswer(null, message || 'nothing is drawn');
    el.after.hidden = true;
    el.results.classList.toggle('is-stale', gen !== drawGen);
    showSelection();
  }

  // ---- the digits of a number --------------------------------------------------------------
  // A drawing read as several digits, on either pad: each digit can be picked, then corrected alone.
  function numberShown() { return !!result && result.digits.length > 1; }

  function freshNumber() { return numberShown() && result.gen === drawGen; }

  // Whether the digit buttons may teach the whole drawing as one digit, as they do for a digit on the square pad
  // even before it is recognized. A number is taught digit by digit, by the boxes of a fresh recognition: so on
  // the wide pad, or once the drawing was read as a number, the drawing must be recognized first.
  function wholeTeachable() {
    if (numberShown()) { return false; }
    return aspect === 1 || (!!result && result.gen === drawGen);
  }

  function untaught() {
    var out = [];
    result.digits.forEach(function (d, i) { if (result.taught[i] === undefined) { out.push(i); } });
    return out;
  }

  function digitName(i, n) { return 'digit ' + (i + 1) + ' of ' + n; }

  // One list item per digit, left to right: its place, then a toggle button named "Digit 2 of 3: read as 4",
  // which shows the preview and the reading. The place sits outside the button, so that the button's visible
  // text ("4", "taught 7") ends its name, as speech input needs; screen readers get the place from the name.
  function digitItem(d, i, n) {
    var guessed = isDigit(d.answer) ? String(d.answer) : '?';
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'digit-item';
    b.setAttribute('data-index', String(i));
    b.setAttribute('aria-pressed', i === selected ? 'true' : 'false');
    b.setAttribute('aria-label', 'Digit ' + (i + 1) + ' of ' + n + ': read as ' + guessed +
      (d.taught !== undefined ? ', taught ' + d.taught : ''));
    b.appendChild(span('digit-guess' + (isDigit(d.answer) ? '' : ' is-unknown'), guessed));
    if (d.taught !== undefined) { b.appendChild(span('digit-taught', 'taught ' + d.taught)); }
    if (isImage(d.preview)) {
      var img = document.createElement('img');
      img.className = 'digit-preview';
      img.width = 56;
      img.height = 56;
      img.alt = '';                                   // the name already says what it shows
      img.src = d.preview;
      b.appendChild(img);
    }
    var li = document.createElement('li');
    li.appendChild(span('digit-pos', (i + 1) + ' of ' + n)).setAttribute('aria-hidden', 'true');
    li.appendChild(b);
    return li;
  }

  function span(className, text) {
    var s = document.createElement('span');
    s.className = className;
    s.textContent = text;
    return s;
  }

  function renderDigits() {
    var list = el.digitList;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    el.digits.hidden = !numberShown();
    if (!numberShown()) { return; }
    var n = result.digits.length;
    result.digits.forEach(function (d, i) { list.appendChild(digitItem(d, i, n)); });
  }

  // The charts, the preview and the "Wrong" label follow the digit picked; with none picked in a number they
  // wait for a pick, since the whole drawing read as one digit means little there.
  function showSelection() {
    var d = numberShown() && selected !== null ? result.digits[selected] : null;
    if (numberShown()) {
      renderCharts(d ? d.predictions : {});
      setPreview(d ? d.preview : null);
      el.chartsNote.textContent = d ? digitName(selected, result.digits.length) : 'pick a digit to see its guesses';
    } else {
      renderCharts(result ? result.whole.predictions : {});
      setPreview(result ? result.whole.preview : null);
      el.chartsNote.textContent = 'original vs. updated';
    }
    var which = d ? 'digit ' + (selected + 1) : '';
    el.wrongLabel.textContent = d ? 'Wrong, ' + which + ' was …'
      : (freshNumber() ? 'Wrong? Pick a digit above, then what it was' : 'Wrong, it was …');
    var buttons = el.wrongDigits.querySelectorAll('button[data-digit]');
    for (var k = 0; k < buttons.length; k++) {
      buttons[k].setAttribute('aria-label', (d ? 'Wrong, ' + which + ' was ' : 'Wrong, it was ') + k);
    }
    el.correct.textContent = numberShown() ? 'All correct' : 'Correct';
    renderDigits();
    scheduleRender();
    updateControls();
  }

  function selectDigit(i) {
    if (!freshNumber() || i < 0 || i >= result.digits.length) { return; }
    selected = selected === i ? null : i;
    el.after.hidden = true;
    showSelection();
    var button = el.digitList.querySelector('[data-index="' + i + '"]');
    if (button) { button.focus(); }                   // renderDigits replaced the pressed button
    if (selected === null) { return; }
    var d = result.digits[i], n = result.digits.length;
    if (result.taught[i] !== undefined) {
      setStatus(capitalize(digitName(i, n)) + ' was taught as ' + result.taught[i] + '. Pick another digit, or clear the pad.');
    } else {
      setStatus(capitalize(digitName(i, n)) + (isDigit(d.answer) ? ' reads as ' + d.answer : ' is not recognized') +
        '. If it is wrong, pick what it was.');
    }
  }

  function updateControls() {
    var hasInk = strokes.length > 0;
    var fresh = !!result && result.gen === drawGen;
    el.undo.disabled = !hasInk;
    el.recognize.disabled = mode !== 'recognize';
    el.live.disabled = mode !== 'recognize';
    if (freshNumber()) {
      var left = untaught();
      el.correct.disabled = busy || !left.length ||
        left.some(function (i) { return !isDigit(result.digits[i].answer); });
      setDigitsDisabled(el.wrongDigits, busy || selected === null || result.taught[selected] !== undefined);
    } else {
      var taught = taughtGen === drawGen;
      el.correct.disabled = busy || taught || !fresh || !isDigit(result.answer) || numberShown();
      setDigitsDisabled(el.wrongDigits, busy || !hasInk || taught || !wholeTeachable());
    }
    var items = el.digitList.querySelectorAll('button');
    for (var i = 0; i < items.length; i++) { items[i].disabled = !fresh; }
    setDigitsDisabled(el.collectDigits, busy || !hasInk);
    el.saveNumber.disabled = busy || !hasInk;
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
    var image = exportImage();                         // kept: the digits' boxes are in this image's pixels
    send('POST', '/predict', { image: image }, predictAbort ? predictAbort.signal : undefined)
      .then(function (r) {
        if (seq !== predictSeq) { return; }
        if (r.ok) {
          showResult(r.data, gen, image);
          if (!live) {
            setStatus(resultText());
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

  function resultText() {
    if (numberShown()) {
      return result.number === null
        ? capitalize(result.message || 'some digit is not recognized') + ': pick it below the answer, then what it was.'
        : 'Is it ' + result.number + '? Press All correct, or pick a digit below the answer to correct it.';
    }
    return result.answer === null
      ? 'The models are not sure. If you know the digit, pick it below to teach them.'
      : 'Is it a ' + result.answer + '? Press Correct, or pick the right digit to teach the models.';
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
          showAfter(d, digit, 'After learning');
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

  // Teach digit `i` of the number shown, by its box in the image that was recognized. Resolves to true once
  // the server learned it. The request_id names the page, the drawing, the digit's place and the digit taught,
  // so a retry applies once while another digit of the same number is a new lesson.
  function teachPart(i, digit) {
    var shown = result, d = shown.digits[i], n = shown.digits.length;
    var body = { image: shown.image, digit: digit, box: d.box,
                 request_id: PAGE_ID + '-' + shown.gen + '-' + i + '-' + digit };
    return send('POST', '/train', body).then(function (r) {
      if (!r.ok && !keptDrawing(r)) {
        setStatus(errorText(r), 'error');
        return false;
      }
      shown.taught[i] = digit;             // stored either way: sending it again would only store a copy
      d.taught = digit;
      if (!r.ok) {
        setStatus(capitalize(digitName(i, n)) + ': ' + keptText(r), 'error');
        return false;
      }
      var a = r.data;
      d.answer = a.answer === undefined ? null : a.answer;
      if (a.predictions) { d.predictions = a.predictions; }
      if (isImage(a.preview)) { d.preview = a.preview; }
      setVersion(a.model_version !== undefined ? a.model_version : versionFrom(a.model_versions));
      if (result === shown) {
        showSelection();
        if (selected === i) { showAfter(a, digit, capitalize(digitName(i, n)) + ' after learning'); }
      }
      return true;
    });
  }

  function correctPart(digit) {
    if (busy) { return; }
    if (selected === null) {
      setStatus('Pick which digit of the number is wrong first: the buttons below the answer.', 'error');
      return;
    }
    var i = selected, n = result.digits.length;
    if (result.taught[i] !== undefined) {
      setStatus('The server already has ' + digitName(i, n) + '. Pick another digit, or clear the pad.');
      return;
    }
    busy = true;
    updateControls();
    setStatus('Teaching the models that ' + digitName(i, n) + ' is a ' + digit + '…');
    teachPart(i, digit).then(function (ok) {
      if (!ok) { return; }
      var left = untaught().length;
      setStatus('Learned that ' + digitName(i, n) + ' is a ' + digit + ' (now version ' + el.version.textContent + '). ' +
        (left ? 'Correct another digit, or press All correct for the rest.' : 'Clear the pad to write another.'), 'ok');
    }).catch(networkError).then(function () { busy = false; updateControls(); });
  }

  // "All correct" on a number: each digit not yet taught is confirmed as read, one /train per digit, in turn.
  function confirmNumber() {
    if (busy || !freshNumber()) { return; }
    var todo = untaught(), n = result.digits.length, done = 0;
    busy = true;
    updateControls();
    function next() {
      if (done === todo.length) {
        setStatus('Confirmed; the models learned from ' + (todo.length === n ? 'every digit' : 'the other digits') +
          ' (now version ' + el.version.textContent + '). Clear the pad to write another.', 'ok');
        return null;
      }
      var i = todo[done];
      setStatus('Thanks! Teaching the models ' + digitName(i, n) + ' (' + (done + 1) + ' of ' + todo.length + ')…');
      return teachPart(i, Number(result.digits[i].answer)).then(function (ok) {
        done += 1;
        return ok ? next() : null;
      });
    }
    next().catch(networkError).then(function () { busy = false; updateControls(); });
  }

  function showAfter(d, digit, label) {
    var p = d.predictions || {};
    var answer = d.answer;                 // /train's 200 body always carries answer (a digit or null)
    var right = isDigit(answer) && Number(answer) === Number(digit);
    el.afterLabel.textContent = label;
    el.updatedAnswer.textContent = isDigit(answer) ? String(answer) : (d.message || NOT_A_DIGIT);
    el.updatedAnswer.classList.toggle('is-message', !isDigit(answer));
    var parts = [];
    ['fnn_updated', 'cnn_updated'].forEach(function (key) {
      var top = p[key] && p[key][0];
      if (top) { parts.push((key === 'fnn_updated' ? 'FNN' : 'CNN') + ' ' + top.digit + ' (' + pct(top.probability) + ')'); }
    });
    var verdict = isDigit(answer) ? (right ? 'now right' : 'still not ' + digit) : '';
    el.updatedNote.textContent = [verdict, parts.length ? 'updated ' + parts.join(', ') : ''].filter(Boolean).join(' · ');
    el.after.classList.toggle('is-right', right);
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
        cell.classList.toggle('flash', flash.indexOf(d) >= 0);
      }
    }
    el.countsTotal.textContent = known ? String(total) : '–';
  }

  function counted(r, digit) {
    if (r.data.counts) {
      counts = r.data.counts;
    } else if (counts) {
      counts[digit] = (Number(counts[digit] !== undefined ? counts[digit] : counts[String(digit)]) || 0) + 1;
    }
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
          counted(r, digit);
          renderCounts([digit]);
          clearPad(true);
          setStatus('Saved as a ' + digit + '. Draw the next one.', 'ok');
        } else {
          setStatus(errorText(r), 'error');
        }
      })
      .catch(networkError)
      .then(function () { busy = false; updateControls(); });
  }

  // A number typed for the drawing: the server finds the digits' boxes, and each digit is stored under its
  // typed label, but only when as many digits were found as were typed (else a label would go to the wrong one).
  function saveNumber() {
    if (busy) { return; }
    var typed = el.numberInput.value.replace(/\s+/g, '');
    if (!strokes.length) { setStatus('Write a number on the pad first.', 'error'); return; }
    if (!/^[0-9]+$/.test(typed)) {
      setStatus('Type the number you wrote, digits 0–9 only.', 'error');
      el.numberInput.focus();
      return;
    }
    var gen = drawGen, image = exportImage(), saved = [];
    busy = true;
    updateControls();
    setStatus('Finding the digits of ' + typed + '…');
    send('POST', '/predict', { image: image }).then(function (r) {
      if (!r.ok) { setStatus(errorText(r), 'error'); return null; }
      if (gen !== drawGen) { setStatus('The drawing changed: press Save again.', 'error'); return null; }
      var digits = Array.isArray(r.data.digits) ? r.data.digits : [];
      if (digits.length !== typed.length) {
        setStatus('Nothing was saved: the pad shows ' + digits.length + (digits.length === 1 ? ' digit' : ' digits') +
          ' but ' + typed + ' has ' + typed.length + '. Leave a clear gap between digits, or fix the number typed.', 'error');
        return null;
      }
      function next(i) {
        if (i === digits.length) {
          clearPad(true);
          el.numberInput.value = '';
          setStatus('Saved ' + typed + ' as ' + digits.length + (digits.length === 1 ? ' digit' : ' digits') +
            '. Write the next one.', 'ok');
          return null;
        }
        var digit = Number(typed.charAt(i));
        setStatus('Saving digit ' + (i + 1) + ' of ' + digits.length + ' as a ' + digit + '…');
        return send('POST', '/samples', { image: image, digit: digit, box: digits[i].box }).then(function (s) {
          if (!s.ok) {
            setStatus((saved.length ? 'Saved ' + saved.length + ' of ' + digits.length + ' digits, then: ' : '') +
              errorText(s), 'error');
            return null;
          }
          counted(s, digit);
          saved.push(digit);
          renderCounts(saved);
          return next(i + 1);
        });
      }
      return next(0);
    }).catch(networkError).then(function () { busy = false; updateControls(); });
  }

  function labelDigit(digit) {
    if (mode === 'collect') {
      saveSample(digit);
    } else if (freshNumber()) {
      correctPart(digit);
    } else if (wholeTeachable()) {
      teach(digit, false);
    } else {
      setStatus(strokes.length ? 'Press Recognize first: a number is taught digit by digit.' : 'Write a number first.');
    }
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
      ? (aspect > 1 ? 'Data-collection mode: write a number, then type it and press Save.'
                    : 'Data-collection mode: draw a digit, then press its number to save it.')
      : prompt());
    if (mode === 'collect' && counts === null) { loadStats(); }
  }

  // ---- wiring ------------------------------------------------------------------------------
  el.recognize.addEventListener('click', function () { recognize(false); });
  el.clear.addEventListener('click', function () { clearPad(false); });
  el.undo.addEventListener('click', undo);
  el.correct.addEventListener('click', function () {
    if (freshNumber()) { confirmNumber(); return; }
    if (result && isDigit(result.answer) && result.gen === drawGen) { teach(Number(result.answer), true); }
  });
  el.wrongDigits.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button[data-digit]') : null;
    if (b && !b.disabled) { labelDigit(Number(b.getAttribute('data-digit'))); }
  });
  el.digitList.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button[data-index]') : null;
    if (b && !b.disabled) { selectDigit(Number(b.getAttribute('data-index'))); }
  });
  el.collectDigits.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button[data-digit]') : null;
    if (b && !b.disabled) { saveSample(Number(b.getAttribute('data-digit'))); }
  });
  el.numberForm.addEventListener('submit', function (e) {
    e.preventDefault();
    saveNumber();
  });
  el.modeRecognize.addEventListener('change', function () { if (el.modeRecognize.checked) { setMode('recognize'); } });
  el.modeCollect.addEventListener('change', function () { if (el.modeCollect.checked) { setMode('collect'); } });
  el.live.addEventListener('change', function () {
    try { window.localStorage.setItem('live-recognition', el.live.checked ? '1' : '0'); } catch (err) { /* private mode */ }
    if (el.live.checked && strokes.length && (!result || result.gen !== drawGen)) { scheduleLive(); }
  });
  el.numberMode.addEventListener('change', function () {
    try { window.localStorage.setItem('number-mode', el.numberMode.checked ? '1' : '0'); } catch (err) { /* private mode */ }
    setShape(el.numberMode.checked);
    setMode(mode);                                     // its prompt names the shape
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
        renderCounts([]);
      }
    }).catch(function () { /* the page works without it */ });
  }

  // ---- start -------------------------------------------------------------------------------
  try {
    el.live.checked = window.localStorage.getItem('live-recognition') === '1';
    el.numberMode.checked = window.localStorage.getItem('number-mode') === '1';
  } catch (err) { /* ignore */ }
  setShape(el.numberMode.checked);
  if (el.modeCollect.checked) { setMode('collect'); } else { setMode('recognize'); }
  loadStats();
}());
