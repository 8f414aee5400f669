/* A drawing's recognition and the digits of a number: which digit is picked, what may be taught, what the
   controls allow. Pure functions over the controller's state:
     result: {gen, drawing, answer, number, message, digits: [{box, answer, predictions, preview, taught?}],
              taught: {index: digit}, whole: {predictions, preview}} or null
     gen: the drawing's generation now; selected: the index of the digit picked, or null. */
import { digitName, isDigit } from './texts.js';

// A drawing read as several digits, on either pad: each digit can be picked, then corrected alone.
export function numberShown(result) { return !!result && result.digits.length > 1; }

export function fresh(result, gen) { return !!result && result.gen === gen; }

export function freshNumber(result, gen) { return numberShown(result) && result.gen === gen; }

/* Whether the digit buttons may teach the whole drawing as one digit, as they do for a digit on the square pad
   even before it is recognized. A number is taught digit by digit, by the boxes of a fresh recognition: so on
   the wide pad, or once the drawing was read as a number, the drawing must be recognized first. */
export function wholeTeachable(result, gen, wide) {
  if (numberShown(result)) { return false; }
  return !wide || fresh(result, gen);
}

// The digits of the number not taught yet, by index.
export function untaught(result) {
  const out = [];
  result.digits.forEach((d, i) => { if (result.taught[i] === undefined) { out.push(i); } });
  return out;
}

/* The result of a /predict answer for the drawing of generation `gen`. The same drawing recognized again
   keeps what was taught of it and the digit picked. Returns {result, selected}. */
export function resultFrom(data, gen, drawing, previous, selected) {
  const same = !!previous && previous.gen === gen;
  const taught = same ? previous.taught : {};
  const keep = same ? selected : null;
  const digits = Array.isArray(data.digits) ? data.digits : [];
  const result = {
    gen, drawing, answer: data.answer === undefined ? null : data.answer,
    number: data.number === undefined ? null : data.number, message: data.message,
    digits, taught, whole: { predictions: data.predictions, preview: data.preview },
  };
  if (numberShown(result)) {
    digits.forEach((d, i) => { if (taught[i] !== undefined) { d.taught = taught[i]; } });
  }
  return { result, selected: keep !== null && keep < digits.length ? keep : null };
}

export function blankResult(gen) {
  return { gen, drawing: null, answer: null, number: null, digits: [], taught: {}, whole: {} };
}

// Whether digit i may be picked: only in a number recognized from the drawing as it is.
export function canPick(result, gen, i) {
  return freshNumber(result, gen) && Number.isInteger(i) && i >= 0 && i < result.digits.length;
}

// The digit picked after a press on digit i: another pick, or the same one again to unpick it.
export function pick(selected, i) { return selected === i ? null : i; }

/* What the results panel shows for the state: whose guesses and preview (the digit picked, the whole drawing,
   or none while a number waits for a pick), and the labels of the Correct and Wrong controls. */
export function selectionView(result, selected, gen) {
  const number = numberShown(result);
  const d = number && selected !== null ? result.digits[selected] : null;
  const which = d ? 'digit ' + (selected + 1) : '';
  const view = number
    ? { predictions: d ? d.predictions : {}, preview: d ? d.preview : null,
        chartsNote: d ? digitName(selected, result.digits.length) : 'pick a digit to see its guesses' }
    : { predictions: result ? result.whole.predictions : {}, preview: result ? result.whole.preview : null,
        chartsNote: 'original vs. updated' };
  view.wrongLabel = d ? 'Wrong, ' + which + ' was …'
    : (freshNumber(result, gen) ? 'Wrong? Pick a digit above, then what it was' : 'Wrong, it was …');
  view.wrongPrefix = d ? 'Wrong, ' + which + ' was ' : 'Wrong, it was ';
  view.correctText = number ? 'All correct' : 'Correct';
  view.showDigits = number;
  return view;
}

// One digit of a number in the list: the guess shown and the button's accessible name.
export function digitItemView(d, i, n, selected) {
  const known = isDigit(d.answer);
  const guess = known ? String(d.answer) : '?';
  return {
    guess, known, pressed: i === selected, place: (i + 1) + ' of ' + n,
    taught: d.taught !== undefined ? 'taught ' + d.taught : '',
    label: 'Digit ' + (i + 1) + ' of ' + n + ': read as ' + guess + (d.taught !== undefined ? ', taught ' + d.taught : ''),
  };
}

/* The digits' outlines on the screen's pad, for a fresh number only: boxes are in the sent image's pixels, so
   they scale by `scale` (the pad's height over the image's). */
export function outlines(result, selected, gen, scale) {
  if (!freshNumber(result, gen)) { return []; }
  return result.digits.map((d, i) => {
    const b = d.box;
    return { x: b[0] * scale, y: b[1] * scale, w: (b[2] - b[0]) * scale, h: (b[3] - b[1]) * scale, selected: i === selected };
  });
}

/* Which controls are off: {undo, recognize, live, correct, wrong, digitItems, collect, saveNumber}.
   s: {result, selected, gen, taughtGen, busy, mode, hasInk, wide}. */
export function controlState(s) {
  const { result, selected, gen, busy, mode, hasInk } = s;
  const off = { undo: !hasInk, recognize: mode !== 'recognize', live: mode !== 'recognize',
    digitItems: !fresh(result, gen), collect: busy || !hasInk, saveNumber: busy || !hasInk };
  if (freshNumber(result, gen)) {
    const left = untaught(result);
    off.correct = busy || !left.length || left.some((i) => !isDigit(result.digits[i].answer));
    off.wrong = busy || selected === null || result.taught[selected] !== undefined;
  } else {
    const taught = s.taughtGen === gen;
    off.correct = busy || taught || !fresh(result, gen) || !isDigit(result.answer) || numberShown(result);
    off.wrong = busy || !hasInk || taught || !wholeTeachable(result, gen, s.wide);
  }
  return off;
}

// A number typed in collect mode: its digits, or null when it is not digits 0-9 only (spaces are ignored).
export function typedNumber(value) {
  const typed = String(value).replace(/\s+/g, '');
  return /^[0-9]+$/.test(typed) ? typed : null;
}
