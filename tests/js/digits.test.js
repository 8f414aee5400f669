import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as digits from '../../static/js/digits.js';

const P = (d) => ({ fnn: [{ digit: d, probability: 0.9 }], cnn: [{ digit: d, probability: 0.8 }] });

function numberData(answers = [4, 2]) {
  return {
    answer: 4, message: '', number: answers.every((a) => a !== null) ? answers.join('') : null,
    predictions: P(4), preview: 'data:image/png;base64,whole',
    digits: answers.map((a, i) => ({ box: [i * 400 + 20, 30, i * 400 + 200, 250], answer: a, predictions: P(a ?? 0),
      preview: 'data:image/png;base64,d' + i })),
  };
}

const DIGIT = { answer: 7, message: '', number: '7', predictions: P(7), preview: 'data:image/png;base64,x',
  digits: [{ box: [0, 0, 280, 280], answer: 7, predictions: P(7), preview: 'data:image/png;base64,x' }] };

test('a single digit is not shown as a number', () => {
  const { result, selected } = digits.resultFrom(DIGIT, 3, { image: 'i' }, null, null);
  assert.equal(digits.numberShown(result), false);
  assert.equal(digits.freshNumber(result, 3), false);
  assert.equal(result.answer, 7);
  assert.equal(result.number, '7');
  assert.equal(selected, null);
  assert.deepEqual(result.drawing, { image: 'i' });
  assert.equal(digits.numberShown(null), false);
});

test('several digits are a number, fresh while the drawing is unchanged', () => {
  const { result } = digits.resultFrom(numberData(), 5, {}, null, null);
  assert.equal(digits.numberShown(result), true);
  assert.equal(digits.freshNumber(result, 5), true);
  assert.equal(digits.freshNumber(result, 6), false);
  assert.deepEqual(digits.untaught(result), [0, 1]);
});

test('recognizing the same drawing again keeps what was taught and the pick; a new drawing does not', () => {
  const first = digits.resultFrom(numberData(), 5, {}, null, null).result;
  first.taught[1] = 2;
  const again = digits.resultFrom(numberData(), 5, {}, first, 1);
  assert.equal(again.selected, 1);
  assert.deepEqual(again.result.taught, { 1: 2 });
  assert.equal(again.result.digits[1].taught, 2);
  assert.equal(again.result.digits[0].taught, undefined);
  assert.deepEqual(digits.untaught(again.result), [0]);
  const next = digits.resultFrom(numberData(), 6, {}, again.result, 1);
  assert.equal(next.selected, null);
  assert.deepEqual(next.result.taught, {});
  const fewer = digits.resultFrom(numberData([4]), 5, {}, first, 1);   // the pick no longer exists
  assert.equal(fewer.selected, null);
});

test('a digit can be picked and unpicked only in a fresh number', () => {
  const { result } = digits.resultFrom(numberData(), 5, {}, null, null);
  assert.equal(digits.canPick(result, 5, 0), true);
  assert.equal(digits.canPick(result, 5, 2), false);
  assert.equal(digits.canPick(result, 5, -1), false);
  assert.equal(digits.canPick(result, 6, 0), false);               // the drawing changed since
  const single = digits.resultFrom(DIGIT, 5, {}, null, null).result;
  assert.equal(digits.canPick(single, 5, 0), false);
  assert.equal(digits.pick(null, 1), 1);
  assert.equal(digits.pick(0, 1), 1);
  assert.equal(digits.pick(1, 1), null);
});

test('the panel follows the digit picked', () => {
  const { result } = digits.resultFrom(numberData(), 5, {}, null, null);
  const none = digits.selectionView(result, null, 5);
  assert.deepEqual(none.predictions, {});
  assert.equal(none.preview, null);
  assert.equal(none.chartsNote, 'pick a digit to see its guesses');
  assert.equal(none.wrongLabel, 'Wrong? Pick a digit above, then what it was');
  assert.equal(none.correctText, 'All correct');
  assert.equal(none.showDigits, true);
  const second = digits.selectionView(result, 1, 5);
  assert.deepEqual(second.predictions, P(2));
  assert.equal(second.preview, 'data:image/png;base64,d1');
  assert.equal(second.chartsNote, 'digit 2 of 2');
  assert.equal(second.wrongLabel, 'Wrong, digit 2 was …');
  assert.equal(second.wrongPrefix + 7, 'Wrong, digit 2 was 7');
  const stale = digits.selectionView(result, null, 6);
  assert.equal(stale.wrongLabel, 'Wrong, it was …');

  const single = digits.selectionView(digits.resultFrom(DIGIT, 1, {}, null, null).result, null, 1);
  assert.deepEqual(single.predictions, P(7));
  assert.equal(single.preview, 'data:image/png;base64,x');
  assert.equal(single.chartsNote, 'original vs. updated');
  assert.equal(single.correctText, 'Correct');
  assert.equal(single.wrongPrefix + 3, 'Wrong, it was 3');
  assert.equal(single.showDigits, false);
  const empty = digits.selectionView(null, null, 0);
  assert.deepEqual(empty.predictions, {});
  assert.equal(empty.preview, null);
});

test('each digit of a number is named by its place, its reading and what it was taught', () => {
  const v = digits.digitItemView({ answer: 4 }, 0, 2, 0);
  assert.deepEqual(v, { guess: '4', known: true, pressed: true, place: '1 of 2', taught: '', label: 'Digit 1 of 2: read as 4' });
  const unknown = digits.digitItemView({ answer: null, taught: 7 }, 1, 3, 0);
  assert.equal(unknown.guess, '?');
  assert.equal(unknown.known, false);
  assert.equal(unknown.pressed, false);
  assert.equal(unknown.taught, 'taught 7');
  assert.equal(unknown.label, 'Digit 2 of 3: read as ?, taught 7');
  assert.equal(digits.digitItemView({ answer: 0 }, 0, 2, null).guess, '0');
});

test('outlines scale the boxes to the screen pad, for a fresh number only', () => {
  const { result } = digits.resultFrom(numberData(), 5, {}, null, null);
  const boxes = digits.outlines(result, 1, 5, 0.5);
  assert.deepEqual(boxes, [{ x: 10, y: 15, w: 90, h: 110, selected: false }, { x: 210, y: 15, w: 90, h: 110, selected: true }]);
  assert.deepEqual(digits.outlines(result, 1, 6, 0.5), []);
  assert.deepEqual(digits.outlines(null, null, 0, 1), []);
});

test('the controls a state allows', () => {
  const base = { selected: null, gen: 5, taughtGen: -1, busy: false, mode: 'recognize', hasInk: true, wide: false };
  // nothing recognized yet: a digit on the square pad may be taught, on the wide pad not
  let off = digits.controlState({ ...base, result: null });
  assert.deepEqual({ undo: off.undo, correct: off.correct, wrong: off.wrong }, { undo: false, correct: true, wrong: false });
  assert.equal(digits.controlState({ ...base, result: null, wide: true }).wrong, true);
  assert.equal(digits.controlState({ ...base, result: null, hasInk: false }).undo, true);
  // a digit recognized
  const single = digits.resultFrom(DIGIT, 5, {}, null, null).result;
  off = digits.controlState({ ...base, result: single });
  assert.equal(off.correct, false);
  assert.equal(off.wrong, false);
  assert.equal(digits.controlState({ ...base, result: single, taughtGen: 5 }).correct, true);   // taught once
  assert.equal(digits.controlState({ ...base, result: single, taughtGen: 5 }).wrong, true);
  assert.equal(digits.controlState({ ...base, result: single, busy: true }).correct, true);
  assert.equal(digits.controlState({ ...base, result: single, gen: 6 }).correct, true);          // stale
  const unsure = digits.resultFrom({ ...DIGIT, answer: null, message: 'not sure' }, 5, {}, null, null).result;
  assert.equal(digits.controlState({ ...base, result: unsure }).correct, true);
  assert.equal(digits.controlState({ ...base, result: unsure }).wrong, false);
  // a number: Wrong waits for a pick, All correct needs every untaught digit named
  const number = digits.resultFrom(numberData(), 5, {}, null, null).result;
  off = digits.controlState({ ...base, result: number });
  assert.equal(off.correct, false);
  assert.equal(off.wrong, true);
  assert.equal(off.digitItems, false);
  assert.equal(digits.controlState({ ...base, result: number, selected: 1 }).wrong, false);
  number.taught[1] = 2;
  assert.equal(digits.controlState({ ...base, result: number, selected: 1 }).wrong, true);
  number.taught[0] = 4;
  assert.equal(digits.controlState({ ...base, result: number }).correct, true);   // nothing left to confirm
  const unnamed = digits.resultFrom(numberData([4, null]), 5, {}, null, null).result;
  assert.equal(digits.controlState({ ...base, result: unnamed }).correct, true);
  assert.equal(digits.controlState({ ...base, result: unnamed, gen: 6 }).digitItems, true);
  // collect mode
  off = digits.controlState({ ...base, mode: 'collect', result: null });
  assert.equal(off.recognize, true);
  assert.equal(off.collect, false);
  assert.equal(digits.controlState({ ...base, mode: 'collect', result: null, busy: true }).saveNumber, true);
  assert.equal(digits.controlState({ ...base, mode: 'collect', result: null, hasInk: false }).collect, true);
});

test('a number typed for collecting', () => {
  assert.equal(digits.typedNumber(' 4 2 '), '42');
  assert.equal(digits.typedNumber('042'), '042');
  assert.equal(digits.typedNumber('4a'), null);
  assert.equal(digits.typedNumber(''), null);
  assert.equal(digits.typedNumber('٤٢'), null);
});
