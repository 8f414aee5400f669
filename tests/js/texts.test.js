import assert from 'node:assert/strict';
import { test } from 'node:test';

import { countsAfterSave, countsView, mismatchText } from '../../static/js/collect.js';
import { keyAction } from '../../static/js/keys.js';
import * as texts from '../../static/js/texts.js';

test('a digit is shown as itself, 0 included', () => {
  assert.deepEqual(texts.answerView(7, ''), { text: '7', isMessage: false });
  assert.deepEqual(texts.answerView(0, ''), { text: '0', isMessage: false });
  assert.deepEqual(texts.answerView('2026', ''), { text: '2026', isMessage: false });
});

test('a null answer shows the server message, or says it is not a digit', () => {
  assert.deepEqual(texts.answerView(null, 'the models are not sure'), { text: 'the models are not sure', isMessage: true });
  assert.deepEqual(texts.answerView(null, ''), { text: "can't recognize this as a digit", isMessage: true });
  assert.deepEqual(texts.answerView(undefined), { text: texts.NOT_A_DIGIT, isMessage: true });
});

test('the status line for each kind of result', () => {
  assert.equal(texts.resultText({ answer: 3 }, false),
    'Is it a 3? Press Correct, or pick the right digit to teach the models.');
  assert.equal(texts.resultText({ answer: 0 }, false),
    'Is it a 0? Press Correct, or pick the right digit to teach the models.');
  assert.equal(texts.resultText({ answer: null, message: 'x' }, false),
    'The models are not sure. If you know the digit, pick it below to teach them.');
  assert.equal(texts.resultText({ number: '42' }, true),
    'Is it 42? Press All correct, or pick a digit below the answer to correct it.');
  // a number with a digit that cannot be named: the server's message, capitalized
  assert.equal(texts.resultText({ number: null, message: "can't recognize digit 2 of 3 (from the left) as a digit" }, true),
    "Can't recognize digit 2 of 3 (from the left) as a digit: pick it below the answer, then what it was.");
  assert.equal(texts.resultText({ number: null, message: '' }, true),
    'Some digit is not recognized: pick it below the answer, then what it was.');
  assert.equal(texts.blankText('nothing is drawn'), 'Nothing is drawn.');
  assert.equal(texts.blankText(undefined), 'Nothing is drawn.');
});

test('errors say what happened and what to do', () => {
  assert.equal(texts.errorText({ status: 429, data: { error: 'too many requests' } }),
    'too many requests — please wait a moment and try again.');
  assert.equal(texts.errorText({ status: 429, data: {} }), 'Too many requests — please wait a moment and try again.');
  assert.equal(texts.errorText({ status: 503, data: { error: 'store unreachable' } }),
    'store unreachable — nothing was saved; try again shortly.');
  assert.equal(texts.errorText({ status: 503, data: {} }), 'The store is unreachable — nothing was saved; try again shortly.');
  assert.equal(texts.errorText({ status: 400, data: { error: 'not a data URL' } }), 'not a data URL');
  assert.equal(texts.errorText({ status: 502, data: {} }), 'The server answered 502.');
  // a 503 that kept the drawing is not "nothing was saved"
  const kept = { status: 503, data: { error: 'the drawing was kept and will be learned later', sample_id: 's' } };
  assert.equal(texts.keptDrawing(kept), true);
  assert.doesNotMatch(texts.errorText(kept), /nothing was saved/);
  assert.equal(texts.keptText(kept), 'The drawing was kept and will be learned later. Clear the pad to draw another.');
  assert.equal(texts.keptText({ status: 422, data: { sample_id: 's' } }),
    'The drawing was kept, but the models did not learn from it. Clear the pad to draw another.');
  assert.equal(texts.keptDrawing({ status: 422, data: { error: 'digit must be 0-9' } }), false);
});

test('after learning: the updated answer, whether it is now right, the updated guesses', () => {
  const P = { fnn_updated: [{ digit: 3, probability: 0.914 }], cnn_updated: [{ digit: 3, probability: 0.996 }],
    fnn: [{ digit: 8, probability: 1 }] };
  assert.deepEqual(texts.afterView({ answer: 3, predictions: P }, 3),
    { text: '3', isMessage: false, note: 'now right · updated FNN 3 (91%), CNN 3 (100%)', right: true });
  assert.deepEqual(texts.afterView({ answer: 5, predictions: { cnn_updated: [{ digit: 5, probability: 0.004 }] } }, '3'),
    { text: '5', isMessage: false, note: 'still not 3 · updated CNN 5 (<1%)', right: false });
  assert.deepEqual(texts.afterView({ answer: null, message: 'not sure' }, 3),
    { text: 'not sure', isMessage: true, note: '', right: false });
});

test('small formats', () => {
  assert.equal(texts.pct(0.5), '50%');
  assert.equal(texts.pct(0.001), '<1%');
  assert.equal(texts.pct(0), '0%');
  assert.equal(texts.pct(2), '100%');
  assert.equal(texts.pct('x'), '0%');
  assert.equal(texts.versionFrom({ fnn_updated: 3, cnn_updated: 5 }), 5);
  assert.equal(texts.versionFrom({ cnn_updated: 2 }), 2);
  assert.equal(texts.versionFrom({ fnn_updated: 0 }), 0);
  assert.equal(texts.versionFrom(null), null);
  assert.equal(texts.versionFrom({}), null);
  assert.equal(texts.isImage('data:image/png;base64,x'), true);
  assert.equal(texts.isImage('javascript:alert(1)'), false);
  assert.equal(texts.plural(1, 'digit', 'digits'), '1 digit');
  assert.equal(texts.prompt('collect', true), 'Write a number, then type it and press Save.');
  assert.equal(texts.modePrompt('collect', false), 'Data-collection mode: draw a digit, then press its number to save it.');
  assert.equal(texts.modePrompt('recognize', false), 'Draw a digit, then press Recognize.');
});

test('collect counts follow each save', () => {
  assert.deepEqual(countsAfterSave({ 3: 1 }, { data: { counts: { 3: 9 } } }, 3), { 3: 9 });   // the server's
  assert.deepEqual(countsAfterSave({ 3: 1, 4: 2 }, { data: {} }, 3), { 3: 2, 4: 2 });
  assert.deepEqual(countsAfterSave({ '3': 1 }, { data: {} }, 3), { 3: 2 });
  assert.deepEqual(countsAfterSave({}, { data: {} }, 5), { 5: 1 });
  assert.equal(countsAfterSave(null, { data: {} }, 5), null);                                  // unknown stays unknown
  const view = countsView({ 0: 2, '1': 3 });
  assert.deepEqual(view.cells.slice(0, 3), [2, 3, null]);
  assert.equal(view.total, 5);
  assert.deepEqual(countsView(null), { cells: Array(10).fill(null), total: null });
  assert.equal(mismatchText(2, '42'), '');
  assert.equal(mismatchText(2, '421'), 'Nothing was saved: the pad shows 2 digits but 421 has 3. ' +
    'Leave a clear gap between digits, or fix the number typed.');
  assert.match(mismatchText(1, '42'), /shows 1 digit but/);
});

test('keyboard shortcuts', () => {
  const key = (k, extra = {}) => keyAction({ key: k, target: { tagName: 'BODY' }, ...extra });
  assert.equal(key('Enter'), 'recognize');
  assert.equal(key('Escape'), 'clear');
  assert.equal(key('Esc'), 'clear');
  assert.equal(key('7'), 7);
  assert.equal(key('0'), 0);
  assert.equal(key('z', { ctrlKey: true }), 'undo');
  assert.equal(key('Z', { metaKey: true }), 'undo');
  assert.equal(key('z', { ctrlKey: true, shiftKey: true }), null);
  assert.equal(key('7', { altKey: true }), null);
  assert.equal(key('a'), null);
  assert.equal(key('Enter', { target: { tagName: 'BUTTON' } }), null);          // Enter presses the button
  assert.equal(key('Escape', { target: { tagName: 'BUTTON' } }), 'clear');
  assert.equal(key('4', { target: { tagName: 'INPUT', type: 'text' } }), null);  // typing the number
  assert.equal(key('4', { target: { tagName: 'INPUT', type: 'checkbox' } }), 4);
  assert.equal(key('Enter', { isComposing: true }), null);
  assert.equal(key('Enter', { defaultPrevented: true }), null);
});
