/* Stand-ins for the few browser objects the page's modules touch, so that they run under node --test. */

// A 2D context that records what is drawn.
export class FakeContext {
  constructor() { this.calls = []; this.lineWidth = 1; }
  _log(name, args) { this.calls.push([name, ...args]); }
  setTransform(...a) { this._log('setTransform', a); }
  fillRect(...a) { this._log('fillRect', a); }
  beginPath() { this._log('beginPath', []); }
  arc(...a) { this._log('arc', a); }
  fill() { this._log('fill', []); }
  moveTo(...a) { this._log('moveTo', a); }
  lineTo(...a) { this._log('lineTo', a); }
  quadraticCurveTo(...a) { this._log('quadraticCurveTo', a); }
  stroke() { this._log('stroke', [this.lineWidth]); }
  strokeRect(...a) { this._log('strokeRect', a); }
  setLineDash(...a) { this._log('setLineDash', a); }
}

export class FakeCanvas {
  constructor(rect = { left: 10, top: 20, width: 300, height: 300 }) {
    this.rect = rect;
    this.width = 300;
    this.height = 300;
    this.listeners = {};
    this.ctx = new FakeContext();
    this.captured = [];
    this.created = [];
    const self = this;
    this.ownerDocument = {
      createElement(tag) {
        const c = new FakeCanvas();
        c.tag = tag;
        c.toDataURL = (type) => `data:${type};fake,${c.width}x${c.height}`;
        self.created.push(c);
        return c;
      },
    };
  }
  getContext() { return this.ctx; }
  getBoundingClientRect() { return this.rect; }
  setPointerCapture(id) { this.captured.push(id); }
  addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
  // a pointer event at (x, y) in the pad's height units, at time t (ms)
  fire(type, x, y, t, extra = {}) {
    const e = {
      type, pointerId: 1, pointerType: 'mouse', button: 0, timeStamp: t,
      clientX: this.rect.left + x * this.rect.height, clientY: this.rect.top + y * this.rect.height,
      prevented: false, preventDefault() { this.prevented = true; }, ...extra,
    };
    for (const fn of this.listeners[type] || []) { fn(e); }
    return e;
  }
}

// Animation frames run when flush() is called.
export function fakeFrames() {
  const queue = [];
  globalThis.requestAnimationFrame = (fn) => { queue.push(fn); return queue.length; };
  return { flush() { while (queue.length) { queue.shift()(); } }, get pending() { return queue.length; } };
}
