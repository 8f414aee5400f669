/* The drawing pad: a canvas that records mouse, pen and touch strokes, in the manner of signature_pad.

   Strokes are lists of points [x, y, time]: x and y in units of the pad's height (x runs to the aspect), time in
   milliseconds on the events' clock. The pad paints them (ink.js) on the screen and exports them as an image of
   any height, always with the same pen (a fraction of the height), so the image depends on the strokes alone. */
import { PEN_RATIO, paint } from './ink.js';
import { farEnough } from './strokes.js';

const DEFAULTS = {
  aspect: 1,                 // width over height
  penRatio: PEN_RATIO,       // pen width over height
  minStep: 0.002,            // points closer than this to the last one are dropped (~0.5 px on a 280 px pad)
  maxDpr: 3,                 // the bitmap's pixels per CSS pixel, at most
  placeholder: null,         // an element shown while the pad is empty
  onBegin: null,             // (event) a stroke begins
  onEnd: null,               // (stroke) a stroke was added
  decorate: null,            // (context, width, height) paint over the strokes on the screen (never exported)
};

function eventTime(e) {
  return Number.isFinite(e.timeStamp) && e.timeStamp > 0 ? e.timeStamp : globalThis.performance.now();
}

export class Pad {
  constructor(canvas, options = {}) {
    this.canvas = canvas;
    this.options = { ...DEFAULTS, ...options };
    this.ctx = canvas.getContext('2d');
    this._strokes = [];
    this._current = null;
    this._pointer = null;
    this._queued = false;
    this._listen();
  }

  get aspect() { return this.options.aspect; }

  // A new shape: the strokes would not fit it, so the pad is cleared.
  setAspect(aspect) {
    this.options.aspect = aspect;
    this.clear();
    this.fit();
  }

  isEmpty() { return !this._strokes.length && !this._current; }

  get length() { return this._strokes.length; }

  // The finished strokes, copied.
  toData() { return this._strokes.map((s) => s.map((p) => p.slice())); }

  fromData(strokes) {
    this._strokes = strokes.map((s) => s.map((p) => p.slice()));
    this._current = null;
    this._pointer = null;
    this.redraw();
  }

  // Drops the last finished stroke; false when there is none, or a stroke is being drawn.
  undo() {
    if (this._current || !this._strokes.length) { return false; }
    this._strokes.pop();
    this.redraw();
    return true;
  }

  clear() {
    this._strokes = [];
    this._current = null;
    this._pointer = null;
    this.redraw();
  }

  // The drawing as a PNG data URL, `height` px tall and aspect times as wide.
  toDataURL(height) {
    const doc = this.canvas.ownerDocument;
    const off = doc.createElement('canvas');
    off.width = Math.round(height * this.aspect);
    off.height = height;
    paint(off.getContext('2d'), off.width, off.height, this._strokes, this.options.penRatio);
    return off.toDataURL('image/png');
  }

  // Repaint at the next animation frame (several calls, one repaint).
  redraw() {
    if (this._queued) { return; }
    this._queued = true;
    globalThis.requestAnimationFrame(() => this._render());
  }

  // Size the bitmap to the canvas's size on the screen, at the device's pixel ratio.
  fit() {
    const rect = this.canvas.getBoundingClientRect();
    if (!rect.width) { return; }
    const dpr = Math.min(globalThis.devicePixelRatio || 1, this.options.maxDpr);
    const width = Math.max(1, Math.round(rect.width * dpr));
    const height = Math.max(1, Math.round(width / this.aspect));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this._render();
  }

  _render() {
    this._queued = false;
    const { canvas, ctx, options } = this;
    paint(ctx, canvas.width, canvas.height, this._current ? this._strokes.concat([this._current]) : this._strokes,
      options.penRatio);
    if (options.decorate) { options.decorate(ctx, canvas.width, canvas.height); }
    if (options.placeholder) { options.placeholder.hidden = !this.isEmpty(); }
  }

  _point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [(e.clientX - r.left) / r.height, (e.clientY - r.top) / r.height, eventTime(e)];
  }

  _add(p) {
    if (farEnough(this._current[this._current.length - 1], p, this.options.minStep)) { this._current.push(p); }
  }

  _down(e) {
    if (this._pointer !== null) { return; }                     // one stroke at a time (ignore a second finger)
    if (e.pointerType === 'mouse' && e.button !== 0) { return; }
    e.preventDefault();
    this._pointer = e.pointerId;
    try { this.canvas.setPointerCapture(e.pointerId); } catch { /* not capturable: fine */ }
    if (this.options.onBegin) { this.options.onBegin(e); }
    this._current = [this._point(e)];
    this.redraw();
  }

  _move(e) {
    if (e.pointerId !== this._pointer || !this._current) { return; }
    e.preventDefault();
    let events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : null;
    if (!events || !events.length) { events = [e]; }
    for (const one of events) { this._add(this._point(one)); }
    this.redraw();
  }

  _end(e) {
    if (e.pointerId !== this._pointer) { return; }
    this._pointer = null;
    if (!this._current) { return; }
    if (e.type === 'pointerup') { this._add(this._point(e)); }
    const stroke = this._current;
    this._strokes.push(stroke);
    this._current = null;
    this.redraw();
    if (this.options.onEnd) { this.options.onEnd(stroke); }
  }

  _listen() {
    const c = this.canvas;
    c.addEventListener('pointerdown', (e) => this._down(e));
    c.addEventListener('pointermove', (e) => this._move(e));
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
      c.addEventListener(type, (e) => this._end(e));
    }
    c.addEventListener('contextmenu', (e) => e.preventDefault());
    // Older touch browsers without touch-action support: keep the page from scrolling or zooming.
    for (const type of ['touchstart', 'touchmove']) {
      c.addEventListener(type, (e) => e.preventDefault(), { passive: false });
    }
    if (typeof globalThis.ResizeObserver === 'function') {
      new globalThis.ResizeObserver(() => this.fit()).observe(c);
    }
    if (typeof globalThis.addEventListener === 'function') { globalThis.addEventListener('resize', () => this.fit()); }
  }
}
