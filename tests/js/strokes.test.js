import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MAX_POINTS, MAX_STROKES, farEnough, round2, strokesForImage, thin } from '../../static/js/strokes.js';

test('strokes are sent in the image pixels, times from the first point in whole ms', () => {
  const pad = [
    [[0.5, 0.25, 1000.4], [0.6, 0.3, 1016.9]],
    [[0.1, 0.9, 1500]],
  ];
  assert.deepEqual(strokesForImage(pad, 280), [
    [[140, 70, 0], [168, 84, 17]],
    [[28, 252, 500]],
  ]);
});

test('coordinates are rounded to two decimals', () => {
  const sent = strokesForImage([[[1 / 3, 2 / 7, 0]]], 280);
  assert.deepEqual(sent, [[[93.33, 80, 0]]]);
  assert.equal(round2(0.123456), 0.12);
});

test('on the wide pad x runs to three times the height', () => {
  const sent = strokesForImage([[[2.5, 0.5, 10], [2.9, 0.5, 20]]], 280, 3);
  assert.deepEqual(sent, [[[700, 140, 0], [812, 140, 10]]]);
});

test('points carried past the edge are put on it', () => {
  const sent = strokesForImage([[[-0.2, 0.5, 0], [1.3, 1.1, 5], [0.5, -1, 9]]], 280, 1);
  assert.deepEqual(sent, [[[0, 140, 0], [280, 280, 5], [140, 0, 9]]]);
  const wide = strokesForImage([[[3.4, 0.5, 0]]], 280, 3);
  assert.deepEqual(wide, [[[840, 140, 0]]]);
});

test('points without a time go as [x, y]', () => {
  assert.deepEqual(strokesForImage([[[0.5, 0.5], [0.6, 0.5]]], 280), [[[140, 140], [168, 140]]]);
});

test('no strokes, or more than the contract takes: none are sent', () => {
  assert.equal(strokesForImage([], 280), null);
  const many = Array.from({ length: MAX_STROKES + 1 }, (_, i) => [[0.001 * i, 0.5, i]]);
  assert.equal(strokesForImage(many, 280), null);
  assert.equal(strokesForImage(many.slice(0, MAX_STROKES), 280).length, MAX_STROKES);
});

function strokeOf(n, offset) { return Array.from({ length: n }, (_, i) => [i / n, offset, i]); }

test('a drawing over the point limit is thinned, keeping each stroke\'s ends', () => {
  const pad = [strokeOf(15000, 0.1), strokeOf(9000, 0.5), strokeOf(2, 0.7), strokeOf(1, 0.8), strokeOf(7000, 0.9)];
  const sent = strokesForImage(pad, 280);
  const total = sent.reduce((n, s) => n + s.length, 0);
  assert.ok(total <= MAX_POINTS, `${total} points`);
  assert.ok(total >= MAX_POINTS - pad.length, `${total} points: thinned too much`);
  assert.equal(sent.length, pad.length);
  sent.forEach((s, k) => {
    const first = pad[k][0], last = pad[k][pad[k].length - 1];
    assert.deepEqual(s[0].slice(0, 2), [round2(first[0] * 280), round2(first[1] * 280)]);
    assert.deepEqual(s[s.length - 1].slice(0, 2), [round2(last[0] * 280), round2(last[1] * 280)]);
    for (let i = 1; i < s.length; i++) { assert.ok(s[i][2] > s[i - 1][2], 'in drawing order'); }
  });
  assert.equal(sent[2].length, 2);
  assert.equal(sent[3].length, 1);
  // the long strokes are thinned in proportion
  const ratio = (sent[0].length - 2) / (sent[1].length - 2);
  assert.ok(Math.abs(ratio - 14998 / 8998) < 0.01, String(ratio));
});

test('a drawing at the limit is sent whole', () => {
  const pad = [strokeOf(MAX_POINTS / 2, 0.2), strokeOf(MAX_POINTS / 2, 0.6)];
  assert.equal(thin(pad), pad);
  const sent = strokesForImage(pad, 280);
  assert.equal(sent[0].length + sent[1].length, MAX_POINTS);
});

test('thinning to a small budget keeps the ends of every stroke', () => {
  const pad = [strokeOf(50, 0.1), strokeOf(50, 0.2), strokeOf(50, 0.3)];
  const kept = thin(pad, 10);
  assert.ok(kept.reduce((n, s) => n + s.length, 0) <= 10);
  kept.forEach((s, k) => {
    assert.equal(s[0], pad[k][0]);
    assert.equal(s[s.length - 1], pad[k][49]);
  });
  const limited = strokesForImage(pad, 280, 1, { maxPoints: 10 });
  assert.equal(limited.reduce((n, s) => n + s.length, 0), kept.reduce((n, s) => n + s.length, 0));
});

test('points closer than the step are not far enough', () => {
  assert.equal(farEnough([0, 0], [0.001, 0.001], 0.002), false);
  assert.equal(farEnough([0, 0], [0.002, 0], 0.002), true);
  assert.equal(farEnough([0.5, 0.5], [0.5, 0.51], 0.002), true);
});
