/* The HTTP client of ../shared/API.md: /predict, /train, /samples and /stats, each answer as
   {ok, status, data} (data is {} when the body is not JSON). Nothing here touches the page. Drawings go with
   their strokes, which say which ink the server should read as one digit. */

// Names this page's /train requests: a retry of the same lesson carries the same request_id.
export function newPageId(now = Date.now(), random = Math.random) {
  return now.toString(36) + '-' + random().toString(36).slice(2, 10);
}

// page id, drawing generation, then (for one digit of a number) its place, then the digit taught
export function requestId(pageId, gen, ...parts) { return [pageId, gen, ...parts].join('-'); }

/* A request body. `drawing` is {image, strokes} (strokes as strokes.js gives them, or null to leave them out);
   `label` adds {digit, box, requestId} where given. */
export function drawingBody(drawing, label = {}) {
  const body = { image: drawing.image };
  if (drawing.strokes) { body.strokes = drawing.strokes; }
  if (label.digit !== undefined) { body.digit = label.digit; }
  if (label.box) { body.box = label.box; }
  if (label.requestId) { body.request_id = label.requestId; }
  return body;
}

export class Api {
  constructor({ fetch = globalThis.fetch.bind(globalThis), AbortController = globalThis.AbortController } = {}) {
    this.fetch = fetch;
    this.AbortController = AbortController;
    this.seq = 0;              // the latest predictLatest's number
    this.abort = null;
  }

  async send(method, url, body, signal) {
    const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin', signal };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await this.fetch(url, init);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    return { ok: res.ok, status: res.status, data: data || {} };
  }

  // POST a drawing with its strokes.
  post(url, drawing, label, signal) { return this.send('POST', url, drawingBody(drawing, label), signal); }

  predict(drawing) { return this.post('/predict', drawing); }

  /* A /predict that replaces any still on its way (aborted, its answer dropped): {seq, answer}, where answer
     resolves to the response, or to null once another predictLatest or cancelPredict came after it. */
  predictLatest(drawing) {
    this.cancelPredict();
    const seq = this.seq;
    this.abort = typeof this.AbortController === 'function' ? new this.AbortController() : null;
    const answer = this.post('/predict', drawing, {}, this.abort ? this.abort.signal : undefined)
      .then((r) => (this.isLatest(seq) ? r : null), (err) => {
        if (!this.isLatest(seq)) { return null; }
        throw err;
      });
    return { seq, answer };
  }

  isLatest(seq) { return seq === this.seq; }

  cancelPredict() {
    this.seq += 1;
    if (this.abort) { this.abort.abort(); this.abort = null; }
  }

  train(drawing, digit, { box, requestId } = {}) {
    return this.post('/train', drawing, { digit, box, requestId });
  }

  samples(drawing, digit, { box } = {}) {
    return this.post('/samples', drawing, { digit, box });
  }

  stats() { return this.send('GET', '/stats'); }
}
