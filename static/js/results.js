/* The results panel: the answer, the models' view, the digits of a number, each model's top three, the version,
   the Correct / Wrong controls' labels and "after learning". It shows what it is given and keeps no state. */
import { afterView, answerView, isImage, pct } from './texts.js';
import { digitItemView } from './digits.js';

export const MODELS = ['fnn', 'fnn_updated', 'cnn', 'cnn_updated'];

function span(doc, className, text) {
  const s = doc.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}

export class ResultsView {
  constructor(doc) {
    const $ = (id) => doc.getElementById(id);
    this.doc = doc;
    this.el = {
      panel: $('results-panel'), answer: $('answer'), preview: $('preview'), placeholder: $('preview-placeholder'),
      digits: $('digits'), digitList: $('digit-list'), chartsNote: $('charts-note'), version: $('model-version'),
      correct: $('correct'), wrongLabel: $('wrong-label'), wrongDigits: $('wrong-digits'),
      after: $('after-learning'), afterLabel: $('after-label'), updatedAnswer: $('updated-answer'),
      updatedNote: $('updated-note'), charts: Object.fromEntries(MODELS.map((key) => [key, $('chart-' + key)])),
    };
  }

  // answer: a digit, a number's digits, or null with the server's message
  setAnswer(answer, message) {
    const view = answerView(answer, message);
    this.el.answer.textContent = view.text;
    this.el.answer.classList.toggle('is-message', view.isMessage);
    this.el.answer.classList.remove('is-empty');
  }

  reset() {
    this.el.answer.textContent = '?';
    this.el.answer.className = 'answer is-empty';
    this.setStale(false);
    this.hideAfter();
  }

  setStale(stale) { this.el.panel.classList.toggle('is-stale', stale); }

  setLoading(loading) { this.el.panel.classList.toggle('is-loading', loading); }

  setVersion(v) {
    if (v === null || v === undefined) { return; }
    this.el.version.textContent = String(v);
  }

  get version() { return this.el.version.textContent; }

  setPreview(src) {
    const { preview, placeholder } = this.el;
    if (isImage(src)) {
      preview.src = src;
      preview.hidden = false;
      placeholder.hidden = true;
    } else {
      preview.removeAttribute('src');
      preview.hidden = true;
      placeholder.hidden = false;
    }
  }

  renderChart(key, list) {
    const chart = this.el.charts[key];
    if (!chart) { return; }
    const rows = chart.querySelectorAll('.bar-row');
    list = Array.isArray(list) ? list : [];
    rows.forEach((row, i) => {
      const item = list[i];
      const fill = row.querySelector('.bar-fill');
      if (item) {
        const prob = Math.max(0, Math.min(1, Number(item.probability) || 0));
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
    });
    chart.setAttribute('data-top', list[0] ? String(list[0].digit) : '');
  }

  renderCharts(predictions) {
    predictions = predictions || {};
    for (const key of MODELS) { this.renderChart(key, predictions[key]); }
    // mark an updated model whose top guess differs from its original
    for (const [original, updated] of [['fnn', 'fnn_updated'], ['cnn', 'cnn_updated']]) {
      const a = this.el.charts[original], b = this.el.charts[updated];
      if (!a || !b) { continue; }
      const top = a.getAttribute('data-top'), other = b.getAttribute('data-top');
      b.classList.toggle('differs', top !== '' && other !== '' && top !== other);
    }
  }

  /* One list item per digit, left to right: its place, then a toggle button named "Digit 2 of 3: read as 4",
     which shows the preview and the reading. The place sits outside the button, so that the button's visible
     text ("4", "taught 7") ends its name, as speech input needs; screen readers get the place from the name. */
  renderDigits(digits, selected, shown) {
    const list = this.el.digitList, doc = this.doc;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    this.el.digits.hidden = !shown;
    if (!shown) { return; }
    digits.forEach((d, i) => {
      const view = digitItemView(d, i, digits.length, selected);
      const b = doc.createElement('button');
      b.type = 'button';
      b.className = 'digit-item';
      b.setAttribute('data-index', String(i));
      b.setAttribute('aria-pressed', view.pressed ? 'true' : 'false');
      b.setAttribute('aria-label', view.label);
      b.appendChild(span(doc, 'digit-guess' + (view.known ? '' : ' is-unknown'), view.guess));
      if (view.taught) { b.appendChild(span(doc, 'digit-taught', view.taught)); }
      if (isImage(d.preview)) {
        const img = doc.createElement('img');
        img.className = 'digit-preview';
        img.width = 56;
        img.height = 56;
        img.alt = '';                                   // the name already says what it shows
        img.src = d.preview;
        b.appendChild(img);
      }
      const li = doc.createElement('li');
      li.appendChild(span(doc, 'digit-pos', view.place)).setAttribute('aria-hidden', 'true');
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  focusDigit(i) {
    const button = this.el.digitList.querySelector('[data-index="' + i + '"]');
    if (button) { button.focus(); }
  }

  // What digits.selectionView says: whose guesses, and the feedback controls' labels.
  showSelection(view, digits, selected) {
    this.renderCharts(view.predictions);
    this.setPreview(view.preview);
    this.el.chartsNote.textContent = view.chartsNote;
    this.el.wrongLabel.textContent = view.wrongLabel;
    this.el.wrongDigits.querySelectorAll('button[data-digit]').forEach((b, k) => {
      b.setAttribute('aria-label', view.wrongPrefix + k);
    });
    this.el.correct.textContent = view.correctText;
    this.renderDigits(digits, selected, view.showDigits);
  }

  // off: digits.controlState's correct, wrong and digitItems
  setControls(off) {
    this.el.correct.disabled = off.correct;
    setDisabled(this.el.wrongDigits, 'button[data-digit]', off.wrong);
    setDisabled(this.el.digitList, 'button', off.digitItems);
  }

  showAfter(d, digit, label) {
    const view = afterView(d, digit);
    this.el.afterLabel.textContent = label;
    this.el.updatedAnswer.textContent = view.text;
    this.el.updatedAnswer.classList.toggle('is-message', view.isMessage);
    this.el.updatedNote.textContent = view.note;
    this.el.after.classList.toggle('is-right', view.right);
    this.el.after.hidden = false;
  }

  hideAfter() { this.el.after.hidden = true; }

  // Buttons of the panel that act: (which, value) => ...; which is 'correct', 'wrong' (a digit) or 'pick' (an index).
  onAction(handler) {
    this.el.correct.addEventListener('click', () => handler('correct'));
    this.el.wrongDigits.addEventListener('click', (e) => {
      const b = e.target.closest ? e.target.closest('button[data-digit]') : null;
      if (b && !b.disabled) { handler('wrong', Number(b.getAttribute('data-digit'))); }
    });
    this.el.digitList.addEventListener('click', (e) => {
      const b = e.target.closest ? e.target.closest('button[data-index]') : null;
      if (b && !b.disabled) { handler('pick', Number(b.getAttribute('data-index'))); }
    });
  }

  // On a phone the results sit below the pad: when the answer is out of sight, scroll so that the status line
  // (`status`), the answer and the Correct / Wrong buttons show.
  reveal(status) {
    const r = this.el.answer.getBoundingClientRect();
    const win = this.doc.defaultView;
    const h = win.innerHeight || this.doc.documentElement.clientHeight;
    if (r.top >= 0 && r.bottom <= h) { return; }
    try { status.scrollIntoView({ block: 'start' }); } catch { status.scrollIntoView(true); }
  }
}

export function setDisabled(container, selector, off) {
  if (!container) { return; }
  container.querySelectorAll(selector).forEach((b) => { b.disabled = off; });
}
