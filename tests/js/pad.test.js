import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import { Pad } from '../../static/js/pad.js';
import { strokesForImage } from '../../static/js/strokes.js';
import { FakeCanvas, fakeFrames } from './fakes.js';

let frames;
beforeEach(() => { frames = fakeFrames(); });

function draw(canvas, points, t0 = 0, extra = {}) {
  const [first, ...rest] = points;
  canvas.fire('pointerdown', first[0], first[1], t0 + first[2], extra);
  for (const p of rest.slice(0, -1)) { canvas.fire('pointermove', p[0], p[1], t0 + p[2], extra); }
  const last = rest.length ? rest[rest.length - 1] : first;
  canvas.fire('pointerup', last[0], last[1], t0 + last[2], extra);
}

test('strokes are recorded in units of the pad height, with their times', () => {
  const canvas = new FakeCanvas({ left: 10, top: 20, width: 300, height: 300 });
  const ended = [];
  let begun = 0;
  const pad = new Pad(canvas, { onBegin: () => { begun += 1; }, onEnd: (s) => ended.push(s) });
  assert.ok(pad.isEmpty());
  draw(canvas, [[0.1, 0.2, 0], [0.3, 0.4, 16], [0.5, 0.6, 33]], 5000);
  draw(canvas, [[0.7, 0.1, 400]], 5000);
  assert.equal(begun, 2);
  assert.equal(ended.length, 2);
  assert.equal(pad.length, 2);
  const data = pad.toData();
  assert.deepEqual(data.map((s) => s.map((p) => p[2])), [[5000, 5016, 5033], [5400]]);
  data.flat().forEach((p, i) => {
    const want = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.1]][i];
    assert.ok(Math.abs(p[0] - want[0]) < 1e-9 && Math.abs(p[1] - want[1]) < 1e-9, String(p));
  });
  assert.deepEqual(canvas.captured, [1, 1]);
  // sent with a 280 px image: pixels of the image, ms since the drawing's first point
  assert.deepEqual(strokesForImage(data, 280), [[[28, 56, 0], [84, 112, 16], [140, 168, 33]], [[196, 28, 400]]]);
});

test('toData is a copy; fromData restores strokes', () => {
  const pad = new Pad(new FakeCanvas());
  pad.fromData([[[0.1, 0.1, 0], [0.2, 0.2, 10]]]);
  const data = pad.toData();
  data[0][0][0] = 9;
  assert.deepEqual(pad.toData(), [[[0.1, 0.1, 0], [0.2, 0.2, 10]]]);
  const other = new Pad(new FakeCanvas());
  other.fromData(pad.toData());
  assert.deepEqual(other.toData(), pad.toData());
});

test('moves closer than the step are dropped, coalesced events are all read', () => {
  const canvas = new FakeCanvas({ left: 0, top: 0, width: 280, height: 280 });
  const pad = new Pad(canvas);
  canvas.fire('pointerdown', 0.5, 0.5, 1000);
  canvas.fire('pointermove', 0.5005, 0.5, 1005);                    // 0.14 px on a 280 px pad: dropped
  const coalesced = [0.52, 0.54, 0.56].map((x, i) => ({ clientX: x * 280, clientY: 140, timeStamp: 1010 + i }));
  canvas.fire('pointermove', 0.56, 0.5, 1012, { getCoalescedEvents: () => coalesced });
  canvas.fire('pointerup', 0.56, 0.5, 1020);                       // where the last move was: dropped
  assert.deepEqual(pad.toData()[0].map((p) => p[2]), [1000, 1010, 1011, 1012]);
});

test('one pointer at a time, and only the main mouse button draws', () => {
  const canvas = new FakeCanvas();
  const pad = new Pad(canvas);
  canvas.fire('pointerdown', 0.5, 0.5, 1000, { button: 2 });
  canvas.fire('pointerup', 0.5, 0.5, 1001, { button: 2 });
  assert.ok(pad.isEmpty());
  canvas.fire('pointerdown', 0.1, 0.1, 1000, { pointerType: 'touch', pointerId: 7 });
  canvas.fire('pointerdown', 0.9, 0.9, 1001, { pointerType: 'touch', pointerId: 8 });   // a second finger
  canvas.fire('pointermove', 0.8, 0.8, 1002, { pointerType: 'touch', pointerId: 8 });
  canvas.fire('pointermove', 0.2, 0.2, 1003, { pointerType: 'touch', pointerId: 7 });
  assert.ok(!pad.isEmpty());                                     // a stroke is being drawn
  assert.equal(pad.length, 0);
  assert.equal(pad.undo(), false);                               // not while drawing
  canvas.fire('pointercancel', 0.2, 0.2, 1004, { pointerType: 'touch', pointerId: 7 });
  assert.equal(pad.length, 1);
  assert.deepEqual(pad.toData()[0].map((p) => p[2]), [1000, 1003]);     // a cancel adds no point
  canvas.fire('lostpointercapture', 0.2, 0.2, 1005, { pointerId: 7 });
  assert.equal(pad.length, 1);
});

test('undo drops the last stroke, clear drops all', () => {
  const canvas = new FakeCanvas();
  const pad = new Pad(canvas);
  draw(canvas, [[0.1, 0.1, 0], [0.2, 0.2, 10]]);
  draw(canvas, [[0.5, 0.5, 100], [0.6, 0.6, 110]]);
  draw(canvas, [[0.8, 0.8, 200]]);
  assert.equal(pad.undo(), true);
  assert.equal(pad.length, 2);
  assert.equal(pad.toData()[1][0][2], 100);
  pad.clear();
  assert.ok(pad.isEmpty());
  assert.equal(pad.undo(), false);
});

test('the screen pad repaints once per frame, with the placeholder and decoration', () => {
  const canvas = new FakeCanvas();
  const placeholder = { hidden: false };
  let decorated = 0;
  const pad = new Pad(canvas, { placeholder, decorate: (ctx, w, h) => { decorated += 1; assert.equal(h, canvas.height); } });
  draw(canvas, [[0.1, 0.1, 0], [0.2, 0.2, 10], [0.3, 0.3, 20]]);
  assert.equal(frames.pending, 1);
  frames.flush();
  assert.equal(decorated, 1);
  assert.equal(placeholder.hidden, true);
  pad.clear();
  frames.flush();
  assert.equal(placeholder.hidden, false);
});

function strokesPainted(ctx) {
  return ctx.calls.filter((c) => c[0] === 'stroke' || c[0] === 'fill').length;
}

test('the image is exported at the height asked, with the pen at 1/14 of it', () => {
  const canvas = new FakeCanvas();
  const pad = new Pad(canvas);
  draw(canvas, [[0.1, 0.1, 0], [0.2, 0.5, 10], [0.3, 0.9, 20]]);
  draw(canvas, [[0.6, 0.4, 40]]);
  const url = pad.toDataURL(280);
  assert.equal(url, 'data:image/png;fake,280x280');
  const ctx = canvas.created[0].ctx;
  assert.deepEqual(ctx.calls.find((c) => c[0] === 'fillRect'), ['fillRect', 0, 0, 280, 280]);
  assert.equal(ctx.lineWidth, 20);
  assert.equal(strokesPainted(ctx), 2);
  assert.deepEqual(ctx.calls.find((c) => c[0] === 'moveTo').slice(1).map(Math.round), [28, 28]);
  const curve = ctx.calls.find((c) => c[0] === 'quadraticCurveTo').slice(1);
  assert.deepEqual(curve.map((v) => Math.round(v * 100) / 100), [56, 140, 70, 196]);   // control, then midpoint
  const dot = ctx.calls.find((c) => c[0] === 'arc').slice(1, 4);
  assert.deepEqual(dot.map((v) => Math.round(v * 100) / 100), [168, 112, 10]);          // a dot of the pen's width

  pad.setAspect(3);                                              // number mode: 840x280, the same pen
  assert.ok(pad.isEmpty());
  draw(canvas, [[2.5, 0.5, 0], [2.9, 0.5, 10]]);
  assert.equal(pad.toDataURL(280), 'data:image/png;fake,840x280');
  const wide = canvas.created[1].ctx;
  assert.deepEqual(wide.calls.find((c) => c[0] === 'fillRect'), ['fillRect', 0, 0, 840, 280]);
  assert.equal(wide.lineWidth, 20);
  assert.deepEqual(wide.calls.find((c) => c[0] === 'lineTo').slice(1).map(Math.round), [812, 140]);
});
