/* The drawing page's controller: it holds the page's state (the drawing's generation, the last result, the digit
   picked, what was taught, the mode) and wires the pad, the API client, the results and collect views and the
   keyboard. The modules know nothing of each other; everything passes through here. */
import { Api, newPageId, requestId } from './api.js';
import { CollectView, countsAfterSave, mismatchText } from './collect.js';
import * as digits from './digits.js';
import { bindKeys } from './keys.js';
import { Pad } from './pad.js';
import { ResultsView } from './results.js';
import { strokesForImage } from './strokes.js';
import * as texts from './texts.js';

const EXPORT_HEIGHT = 280;      // the image sent is 280 px tall whatever the screen: 280x280, or 840x280 for a number
const WIDE_ASPECT = 3;          // number mode's pad is 3:1 (the server's recognizer/training/render.py WIDE_PAD)
const LIVE_DELAY = 400;         // ms after a stroke ends before live recognition asks the server
const PAD_LABEL = {
  square: 'Drawing pad: draw one digit with a mouse, pen or finger. Enter recognizes, Escape clears, ' +
    'digit keys label the drawing, Control+Z undoes the last stroke.',
  wide: 'Wide drawing pad: write a number, its digits side by side with a small gap, with a mouse, pen or finger. ' +
    'Enter recognizes, Escape clears, Control+Z undoes the last stroke.',
};

function start(doc) {
  const win = doc.defaultView;
  const $ = (id) => doc.getElementById(id);
  const canvas = $('pad');
  if (!canvas || !canvas.getContext) { return; }
  const el = {
    app: $('app'), padHeading: $('pad-heading'), padEmpty: $('pad-empty'), undo: $('undo'), clear: $('clear'),
    recognize: $('recognize'), live: $('live'), numberMode: $('number-mode'), modeRecognize: $('mode-recognize'),
    modeCollect: $('mode-collect'), status: $('status'), results: $('results-panel'), collect: $('collect-panel'),
  };

  // ---- state -------------------------------------------------------------------------------
  const PAGE_ID = newPageId();  // names this page's /train requests
  let gen = 0;                  // bumps whenever the drawing changes
  let result = null;            // the last recognition (digits.js), with the drawing as sent
  let selected = null;          // the index in result.digits picked for correcting, in a number
  let taughtGen = -1;           // the drawing generation already sent to /train whole and kept by the server
  let busy = false;             // a /train or /samples request is in flight
  let liveTimer = null;
  let mode = 'recognize';
  let counts = null;            // {digit: n} known stored drawings, or null when unknown

  const api = new Api();
  const view = new ResultsView(doc);
  const collectView = new CollectView(doc);
  const pad = new Pad(canvas, { placeholder: el.padEmpty, onBegin: () => win.clearTimeout(liveTimer),
    onEnd: strokeEnded, decorate: outline });

  const wide = () => pad.aspect > 1;
  const hasInk = () => pad.length > 0;

  // The drawing as sent: the image and its strokes in the image's pixels.
  function drawing() {
    return { image: pad.toDataURL(EXPORT_HEIGHT), strokes: strokesForImage(pad.toData(), EXPORT_HEIGHT, pad.aspect) };
  }

  function setStatus(text, kind) {
    el.status.textContent = text;
    el.status.className = 'status' + (kind ? ' is-' + kind : '');
  }

  function networkError(err) {
    if (err && err.name === 'AbortError') { return; }
    setStatus(texts.NETWORK_ERROR, 'error');
  }

  // Outline each digit of a number on the screen's pad (never in the image sent).
  function outline(ctx, width, height) {
    const boxes = digits.outlines(result, selected, gen, height / EXPORT_HEIGHT);
    if (!boxes.length) { return; }
    const unit = Math.max(1, height / 140);
    ctx.lineCap = 'butt';
    for (const b of boxes) {
      ctx.strokeStyle = b.selected ? '#2f4ac0' : '#8a93a3';
      ctx.lineWidth = (b.selected ? 3 : 1.5) * unit;
      ctx.setLineDash(b.selected ? [] : [4 * unit, 3 * unit]);
      ctx.strokeRect(b.x, b.y, b.w, b.h);
    }
    ctx.setLineDash([]);
  }

  function updateControls() {
    const off = digits.controlState({ result, selected, gen, taughtGen, busy, mode, hasInk: hasInk(), wide: wide() });
    el.undo.disabled = off.undo;
    el.recognize.disabled = off.recognize;
    el.live.disabled = off.live;
    view.setControls(off);
    collectView.setControls(off);
    el.app.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  // The charts, the preview and the "Wrong" label follow the digit picked; with none picked in a number they
  // wait for a pick, since the whole drawing read as one digit means little there.
  function showSelection() {
    view.showSelection(digits.selectionView(result, selected, gen), result ? result.digits : [], selected);
    pad.redraw();
    updateControls();
  }

  // ---- the drawing -------------------------------------------------------------------------
  function drawingChanged() {
    gen += 1;
    if (result && result.gen !== gen) { view.setStale(true); }
    if (digits.numberShown(result)) { showSelection(); } else { updateControls(); }   // a number's labels are out of date
  }

  function strokeEnded() {
    drawingChanged();
    scheduleLive();
  }

  function undo() {
    if (!pad.undo()) { return; }
    drawingChanged();
    if (!hasInk()) {
      resetResults();
      setStatus(texts.prompt(mode, wide()));
    } else {
      scheduleLive();
    }
  }

  function clearPad(quiet) {
    pad.clear();
    win.clearTimeout(liveTimer);
    drawingChanged();
    resetResults();
    if (!quiet) { setStatus(texts.prompt(mode, wide())); }
  }

  // Square pad for a digit, wide pad for a number. The strokes would not fit the other shape: start afresh.
  function setShape(isWide) {
    el.app.setAttribute('data-shape', isWide ? 'wide' : 'square');
    el.padHeading.textContent = isWide ? 'Write a number' : 'Draw a digit';
    canvas.setAttribute('aria-label', isWide ? PAD_LABEL.wide : PAD_LABEL.square);
    el.padEmpty.textContent = isWide ? 'write a number here' : 'draw here';
    pad.setAspect(isWide ? WIDE_ASPECT : 1);
    clearPad(true);
  }

  // ---- recognition -------------------------------------------------------------------------
  function resetResults() {
    api.cancelPredict();                               // drop answers still on their way
    result = null;
    selected = null;
    view.reset();
    showSelection();
  }

  function showResult(data, forGen, sent) {
    ({ result, selected } = digits.resultFrom(data, forGen, sent, result, selected));
    if (digits.numberShown(result)) { view.setAnswer(result.number, data.message); } else { view.setAnswer(result.answer, data.message); }
    view.setVersion(texts.versionFrom(data.model_versions));
    view.hideAfter();
    view.setStale(forGen !== gen);
    showSelection();
  }

  function showBlank(message, forGen) {
    result = digits.blankResult(forGen);
    selected = null;
    view.setAnswer(null, message || 'nothing is drawn');
    view.hideAfter();
    view.setStale(forGen !== gen);
    showSelection();
  }

  function recognize(live) {
    if (mode !== 'recognize') { return; }
    win.clearTimeout(liveTimer);
    const forGen = gen;
    if (!hasInk()) {
      resetResults();
      showBlank('nothing is drawn', forGen);
      if (!live) { setStatus('Nothing is drawn yet: draw a digit first.'); }
      return;
    }
    const sent = drawing();                            // kept: the digits' boxes are in this image's pixels
    const { seq, answer } = api.predictLatest(sent);
    el.recognize.setAttribute('aria-busy', 'true');
    view.setLoading(true);
    if (!live) { setStatus('Recognizing…'); }
    answer.then((r) => {
      if (!r) { return; }
      if (r.ok) {
        showResult(r.data, forGen, sent);
        if (!live) {
          setStatus(texts.resultText(result, digits.numberShown(result)));
          view.reveal(el.status);
        }
      } else if (r.status === 422) {
        showBlank(r.data.error || 'nothing is drawn', forGen);
        if (!live) { setStatus(texts.blankText(r.data.error)); }
      } else {
        setStatus(texts.errorText(r), 'error');
      }
    }).catch(networkError).then(() => {
      if (api.isLatest(seq)) {
        el.recognize.removeAttribute('aria-busy');
        view.setLoading(false);
      }
    });
  }

  function scheduleLive() {
    win.clearTimeout(liveTimer);
    if (!el.live.checked || mode !== 'recognize' || !hasInk()) { return; }
    liveTimer = win.setTimeout(() => recognize(true), LIVE_DELAY);
  }

  // ---- learning ----------------------------------------------------------------------------
  function settle() { busy = false; updateControls(); }

  function teach(digit, confirming) {
    if (busy) { return; }
    if (!hasInk()) { setStatus('Draw a digit first.', 'error'); return; }
    if (taughtGen === gen) {
      setStatus('The server already has this drawing. Clear the pad to draw another.');
      return;
    }
    const forGen = gen;
    busy = true;
    updateControls();
    setStatus(confirming ? 'Thanks! Teaching the models that this ' + digit + ' is right…'
      : 'Teaching the models that this is a ' + digit + '…');
    // the same drawing taught the same digit again (after an answer that never came) is applied once
    api.train(drawing(), digit, { requestId: requestId(PAGE_ID, forGen, digit) }).then((r) => {
      if (r.ok) {
        taughtGen = forGen;
        const d = r.data;
        if (d.predictions) { view.renderCharts(d.predictions); }
        view.setVersion(d.model_version !== undefined ? d.model_version : texts.versionFrom(d.model_versions));
        view.showAfter(d, digit, 'After learning');
        const v = d.model_version !== undefined ? ' (now version ' + d.model_version + ')' : '';
        setStatus((confirming ? 'Confirmed ' + digit + '; the models learned from it' : 'Learned that this is a ' + digit) +
          v + '. Clear the pad to draw another.', 'ok');
      } else if (texts.keptDrawing(r)) {
        taughtGen = forGen;                // stored already: sending it again would only store a copy
        setStatus(texts.keptText(r), 'error');
      } else {
        setStatus(texts.errorText(r), 'error');
      }
    }).catch(networkError).then(settle);
  }

  // Teach digit `i` of the number shown, by its box in the image that was recognized. Resolves to true once
  // the server learned it. The request_id names the page, the drawing, the digit's place and the digit taught,
  // so a retry applies once while another digit of the same number is a new lesson.
  function teachPart(i, digit) {
    const shown = result, d = shown.digits[i], n = shown.digits.length;
    return api.train(shown.drawing, digit, { box: d.box, requestId: requestId(PAGE_ID, shown.gen, i, digit) })
      .then((r) => {
        if (!r.ok && !texts.keptDrawing(r)) {
          setStatus(texts.errorText(r), 'error');
          return false;
        }
        shown.taught[i] = digit;           // stored either way: sending it again would only store a copy
        d.taught = digit;
        if (!r.ok) {
          setStatus(texts.capitalize(texts.digitName(i, n)) + ': ' + texts.keptText(r), 'error');
          return false;
        }
        const a = r.data;
        d.answer = a.answer === undefined ? null : a.answer;
        if (a.predictions) { d.predictions = a.predictions; }
        if (texts.isImage(a.preview)) { d.preview = a.preview; }
        view.setVersion(a.model_version !== undefined ? a.model_version : texts.versionFrom(a.model_versions));
        if (result === shown) {
          showSelection();
          if (selected === i) { view.showAfter(a, digit, texts.capitalize(texts.digitName(i, n)) + ' after learning'); }
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
    const i = selected, n = result.digits.length;
    if (result.taught[i] !== undefined) {
      setStatus('The server already has ' + texts.digitName(i, n) + '. Pick another digit, or clear the pad.');
      return;
    }
    busy = true;
    updateControls();
    setStatus('Teaching the models that ' + texts.digitName(i, n) + ' is a ' + digit + '…');
    teachPart(i, digit).then((ok) => {
      if (!ok) { return; }
      const left = digits.untaught(result).length;
      setStatus('Learned that ' + texts.digitName(i, n) + ' is a ' + digit + ' (now version ' + view.version + '). ' +
        (left ? 'Correct another digit, or press All correct for the rest.' : 'Clear the pad to write another.'), 'ok');
    }).catch(networkError).then(settle);
  }

  // "All correct" on a number: each digit not yet taught is confirmed as read, one /train per digit, in turn.
  function confirmNumber() {
    if (busy || !digits.freshNumber(result, gen)) { return; }
    const todo = digits.untaught(result), n = result.digits.length;
    let done = 0;
    busy = true;
    updateControls();
    function next() {
      if (done === todo.length) {
        setStatus('Confirmed; the models learned from ' + (todo.length === n ? 'every digit' : 'the other digits') +
          ' (now version ' + view.version + '). Clear the pad to write another.', 'ok');
        return null;
      }
      const i = todo[done];
      setStatus('Thanks! Teaching the models ' + texts.digitName(i, n) + ' (' + (done + 1) + ' of ' + todo.length + ')…');
      return teachPart(i, Number(result.digits[i].answer)).then((ok) => {
        done += 1;
        return ok ? next() : null;
      });
    }
    Promise.resolve(next()).catch(networkError).then(settle);
  }

  function selectDigit(i) {
    if (!digits.canPick(result, gen, i)) { return; }
    selected = digits.pick(selected, i);
    view.hideAfter();
    showSelection();
    view.focusDigit(i);                                // the list was rebuilt: focus the pressed button again
    if (selected === null) { return; }
    const d = result.digits[i], n = result.digits.length;
    const name = texts.capitalize(texts.digitName(i, n));
    if (result.taught[i] !== undefined) {
      setStatus(name + ' was taught as ' + result.taught[i] + '. Pick another digit, or clear the pad.');
    } else {
      setStatus(name + (texts.isDigit(d.answer) ? ' reads as ' + d.answer : ' is not recognized') +
        '. If it is wrong, pick what it was.');
    }
  }

  // ---- data collection ---------------------------------------------------------------------
  function saveSample(digit) {
    if (busy) { return; }
    if (!hasInk()) { setStatus('Draw a digit first.', 'error'); return; }
    busy = true;
    updateControls();
    setStatus('Saving this drawing as a ' + digit + '…');
    api.samples(drawing(), digit).then((r) => {
      if (r.ok) {
        counts = countsAfterSave(counts, r, digit);
        collectView.renderCounts(counts, [digit]);
        clearPad(true);
        setStatus('Saved as a ' + digit + '. Draw the next one.', 'ok');
      } else {
        setStatus(texts.errorText(r), 'error');
      }
    }).catch(networkError).then(settle);
  }

  // A number typed for the drawing: the server finds the digits' boxes, and each digit is stored under its
  // typed label, but only when as many digits were found as were typed.
  function saveNumber() {
    if (busy) { return; }
    const typed = digits.typedNumber(collectView.typed);
    if (!hasInk()) { setStatus('Write a number on the pad first.', 'error'); return; }
    if (typed === null) {
      setStatus('Type the number you wrote, digits 0–9 only.', 'error');
      collectView.focusTyped();
      return;
    }
    const forGen = gen, sent = drawing(), saved = [];
    busy = true;
    updateControls();
    setStatus('Finding the digits of ' + typed + '…');
    api.predict(sent).then((r) => {
      if (!r.ok) { setStatus(texts.errorText(r), 'error'); return null; }
      if (forGen !== gen) { setStatus('The drawing changed: press Save again.', 'error'); return null; }
      const found = Array.isArray(r.data.digits) ? r.data.digits : [];
      const mismatch = mismatchText(found.length, typed);
      if (mismatch) { setStatus(mismatch, 'error'); return null; }
      function next(i) {
        if (i === found.length) {
          clearPad(true);
          collectView.clearTyped();
          setStatus('Saved ' + typed + ' as ' + texts.plural(found.length, 'digit', 'digits') + '. Write the next one.', 'ok');
          return null;
        }
        const digit = Number(typed.charAt(i));
        setStatus('Saving digit ' + (i + 1) + ' of ' + found.length + ' as a ' + digit + '…');
        return api.samples(sent, digit, { box: found[i].box }).then((s) => {
          if (!s.ok) {
            setStatus((saved.length ? 'Saved ' + saved.length + ' of ' + found.length + ' digits, then: ' : '') +
              texts.errorText(s), 'error');
            return null;
          }
          counts = countsAfterSave(counts, s, digit);
          saved.push(digit);
          collectView.renderCounts(counts, saved);
          return next(i + 1);
        });
      }
      return next(0);
    }).catch(networkError).then(settle);
  }

  function labelDigit(digit) {
    if (mode === 'collect') {
      saveSample(digit);
    } else if (digits.freshNumber(result, gen)) {
      correctPart(digit);
    } else if (digits.wholeTeachable(result, gen, wide())) {
      teach(digit, false);
    } else {
      setStatus(hasInk() ? 'Press Recognize first: a number is taught digit by digit.' : 'Write a number first.');
    }
  }

  // ---- mode --------------------------------------------------------------------------------
  function setMode(next) {
    mode = next === 'collect' ? 'collect' : 'recognize';
    el.app.setAttribute('data-mode', mode);
    el.results.hidden = mode !== 'recognize';
    el.collect.hidden = mode !== 'collect';
    win.clearTimeout(liveTimer);
    updateControls();
    setStatus(texts.modePrompt(mode, wide()));
    if (mode === 'collect' && counts === null) { loadStats(); }
  }

  function loadStats() {
    api.stats().then((r) => {
      if (!r.ok) { return; }
      view.setVersion(texts.versionFrom(r.data.model_versions));
      if (r.data.drawings && counts === null) {
        counts = r.data.drawings;
        collectView.renderCounts(counts);
      }
    }).catch(() => { /* the page works without it */ });
  }

  function remember(key, on) {
    try { win.localStorage.setItem(key, on ? '1' : '0'); } catch { /* private mode */ }
  }

  // ---- wiring ------------------------------------------------------------------------------
  el.recognize.addEventListener('click', () => recognize(false));
  el.clear.addEventListener('click', () => clearPad(false));
  el.undo.addEventListener('click', undo);
  view.onAction((action, value) => {
    if (action === 'pick') {
      selectDigit(value);
    } else if (action === 'wrong') {
      labelDigit(value);
    } else if (digits.freshNumber(result, gen)) {
      confirmNumber();
    } else if (result && texts.isDigit(result.answer) && result.gen === gen) {
      teach(Number(result.answer), true);
    }
  });
  collectView.onAction(saveSample, saveNumber);
  el.modeRecognize.addEventListener('change', () => { if (el.modeRecognize.checked) { setMode('recognize'); } });
  el.modeCollect.addEventListener('change', () => { if (el.modeCollect.checked) { setMode('collect'); } });
  el.live.addEventListener('change', () => {
    remember('live-recognition', el.live.checked);
    if (el.live.checked && hasInk() && !digits.fresh(result, gen)) { scheduleLive(); }
  });
  el.numberMode.addEventListener('change', () => {
    remember('number-mode', el.numberMode.checked);
    setShape(el.numberMode.checked);
    setMode(mode);                                     // its prompt names the shape
  });
  bindKeys(doc, (action) => {
    if (action === 'undo') {
      undo();
    } else if (action === 'recognize') {
      recognize(false);
    } else if (action === 'clear') {
      clearPad(false);
    } else {
      labelDigit(action);
    }
  });

  // ---- start -------------------------------------------------------------------------------
  try {
    el.live.checked = win.localStorage.getItem('live-recognition') === '1';
    el.numberMode.checked = win.localStorage.getItem('number-mode') === '1';
  } catch { /* ignore */ }
  setShape(el.numberMode.checked);
  setMode(el.modeCollect.checked ? 'collect' : 'recognize');
  loadStats();
}

start(document);
