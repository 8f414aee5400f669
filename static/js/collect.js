/* Collect mode's table of stored drawings per digit, and how the counts follow a save. */
import { plural } from './texts.js';
import { setDisabled } from './results.js';

function countOf(counts, d) { return Number(counts[d] !== undefined ? counts[d] : counts[String(d)]); }

// The counts after a /samples answer `r` for `digit`: the server's, else the known ones plus one, else unknown.
export function countsAfterSave(counts, r, digit) {
  if (r.data && r.data.counts) { return r.data.counts; }
  if (!counts) { return counts; }
  return { ...counts, [digit]: (countOf(counts, digit) || 0) + 1 };
}

// Per digit 0-9 the count or null when unknown, and the total (null when none is known).
export function countsView(counts) {
  const cells = [];
  let total = 0, known = false;
  for (let d = 0; d < 10; d++) {
    const n = counts ? countOf(counts, d) : NaN;
    if (Number.isFinite(n)) { total += n; known = true; }
    cells.push(Number.isFinite(n) ? n : null);
  }
  return { cells, total: known ? total : null };
}

// Why a number typed for the drawing cannot be saved digit by digit: as many digits must be found as typed
// (else a label would go to the wrong one). '' when they match.
export function mismatchText(found, typed) {
  if (found === typed.length) { return ''; }
  return 'Nothing was saved: the pad shows ' + plural(found, 'digit', 'digits') + ' but ' + typed + ' has ' +
    typed.length + '. Leave a clear gap between digits, or fix the number typed.';
}

export class CollectView {
  constructor(doc) {
    const $ = (id) => doc.getElementById(id);
    this.el = { panel: $('collect-panel'), digits: $('collect-digits'), counts: $('counts'), total: $('counts-total'),
      form: $('collect-number-form'), input: $('collect-number'), save: $('save-number') };
  }

  // flash: the digits just saved
  renderCounts(counts, flash = []) {
    if (!this.el.counts) { return; }
    const view = countsView(counts);
    view.cells.forEach((n, d) => {
      const cell = this.el.counts.querySelector('[data-count-digit="' + d + '"]');
      if (!cell) { return; }
      cell.textContent = n === null ? '–' : String(n);
      cell.classList.toggle('flash', flash.indexOf(d) >= 0);
    });
    this.el.total.textContent = view.total === null ? '–' : String(view.total);
  }

  get typed() { return this.el.input.value; }

  clearTyped() { this.el.input.value = ''; }

  focusTyped() { this.el.input.focus(); }

  // off: digits.controlState's collect and saveNumber
  setControls(off) {
    setDisabled(this.el.digits, 'button[data-digit]', off.collect);
    this.el.save.disabled = off.saveNumber;
  }

  // onDigit(digit): a "Save as" button pressed; onNumber(): the number form submitted
  onAction(onDigit, onNumber) {
    this.el.digits.addEventListener('click', (e) => {
      const b = e.target.closest ? e.target.closest('button[data-digit]') : null;
      if (b && !b.disabled) { onDigit(Number(b.getAttribute('data-digit'))); }
    });
    this.el.form.addEventListener('submit', (e) => {
      e.preventDefault();
      onNumber();
    });
  }
}
