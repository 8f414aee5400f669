import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Api, drawingBody, newPageId, requestId } from '../../static/js/api.js';

const STROKES = [[[28, 56, 0], [84, 112, 16]]];
const DRAWING = { image: 'data:image/png;base64,AAAA', strokes: STROKES };

// A fetch that records each request and answers from `answers` (a function of the url), in order.
function fakeFetch(answer = () => ({ status: 200, body: '{}' })) {
  const requests = [];
  const fetch = (url, init) => {
    requests.push({ url, init, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    const a = answer(url, init);
    if (a instanceof Promise) { return a; }
    return Promise.resolve({ ok: a.status < 300, status: a.status, text: () => Promise.resolve(a.body) });
  };
  return { fetch, requests };
}

test('request bodies carry the image, the strokes and the label', () => {
  assert.deepEqual(drawingBody(DRAWING), { image: DRAWING.image, strokes: STROKES });
  assert.deepEqual(drawingBody(DRAWING, { digit: 0, box: [1, 2, 3, 4], requestId: 'p-1-0' }),
    { image: DRAWING.image, strokes: STROKES, digit: 0, box: [1, 2, 3, 4], request_id: 'p-1-0' });
  // too many strokes for the contract: the image goes alone
  assert.deepEqual(drawingBody({ image: 'x', strokes: null }, { digit: 3 }), { image: 'x', digit: 3 });
});

test('predict, train and samples post JSON bodies to their routes', async () => {
  const { fetch, requests } = fakeFetch((url) => ({ status: url === '/samples' ? 201 : 200, body: '{"answer": 7}' }));
  const api = new Api({ fetch });
  const r = await api.predict(DRAWING);
  assert.deepEqual(r, { ok: true, status: 200, data: { answer: 7 } });
  await api.train(DRAWING, 7, { requestId: 'abc-def-3-7' });
  await api.train(DRAWING, 2, { box: [420, 10, 600, 270], requestId: 'abc-def-3-1-2' });
  await api.samples(DRAWING, 4, { box: [0, 0, 10, 10] });
  await api.samples(DRAWING, 5);
  await api.stats();
  assert.deepEqual(requests.map((q) => [q.init.method, q.url]),
    [['POST', '/predict'], ['POST', '/train'], ['POST', '/train'], ['POST', '/samples'], ['POST', '/samples'], ['GET', '/stats']]);
  assert.deepEqual(requests[0].body, { image: DRAWING.image, strokes: STROKES });
  assert.deepEqual(requests[1].body, { image: DRAWING.image, strokes: STROKES, digit: 7, request_id: 'abc-def-3-7' });
  assert.deepEqual(requests[2].body,
    { image: DRAWING.image, strokes: STROKES, digit: 2, box: [420, 10, 600, 270], request_id: 'abc-def-3-1-2' });
  assert.deepEqual(requests[3].body, { image: DRAWING.image, strokes: STROKES, digit: 4, box: [0, 0, 10, 10] });
  assert.deepEqual(requests[4].body, { image: DRAWING.image, strokes: STROKES, digit: 5 });
  assert.equal(requests[5].body, undefined);
  assert.equal(requests[0].init.headers['Content-Type'], 'application/json');
  assert.equal(requests[5].init.headers['Content-Type'], undefined);
  assert.equal(requests[0].init.credentials, 'same-origin');
});

test('an answer that is not JSON gives empty data', async () => {
  const { fetch } = fakeFetch(() => ({ status: 502, body: '<html>Bad gateway</html>' }));
  assert.deepEqual(await new Api({ fetch }).predict(DRAWING), { ok: false, status: 502, data: {} });
  const empty = fakeFetch(() => ({ status: 204, body: '' }));
  assert.deepEqual(await new Api({ fetch: empty.fetch }).stats(), { ok: true, status: 204, data: {} });
});

test('a newer predict aborts the one on its way, whose answer is dropped', async () => {
  const pending = [];
  const fetch = (url, init) => new Promise((resolve, reject) => {
    pending.push({ init, resolve });
    init.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
  });
  const api = new Api({ fetch });
  const first = api.predictLatest(DRAWING);
  const second = api.predictLatest(DRAWING);
  assert.equal(pending[0].init.signal.aborted, true);
  assert.equal(pending[1].init.signal.aborted, false);
  assert.equal(await first.answer, null);
  assert.equal(api.isLatest(first.seq), false);
  assert.equal(api.isLatest(second.seq), true);
  pending[1].resolve({ ok: true, status: 200, text: () => Promise.resolve('{"answer": 1}') });
  assert.deepEqual((await second.answer).data, { answer: 1 });

  const third = api.predictLatest(DRAWING);
  api.cancelPredict();                                 // the pad was cleared
  assert.equal(await third.answer, null);
  assert.equal(api.isLatest(third.seq), false);
});

test('without AbortController a stale answer is still dropped', async () => {
  const pending = [];
  const api = new Api({ fetch: () => new Promise((resolve) => pending.push(resolve)), AbortController: undefined });
  const first = api.predictLatest(DRAWING);
  const second = api.predictLatest(DRAWING);
  const reply = (body) => ({ ok: true, status: 200, text: () => Promise.resolve(body) });
  pending[1](reply('{"answer": 2}'));
  pending[0](reply('{"answer": 1}'));
  assert.equal(await first.answer, null);
  assert.deepEqual((await second.answer).data, { answer: 2 });
});

test('a network failure of the latest predict is an error', async () => {
  const api = new Api({ fetch: () => Promise.reject(new TypeError('Failed to fetch')) });
  await assert.rejects(api.predictLatest(DRAWING).answer, TypeError);
});

test('request ids name the page, the drawing, the digit place and the digit taught', () => {
  const page = newPageId(1700000000000, () => 0.123456789);
  assert.match(page, /^[a-z0-9]+-[a-z0-9]+$/);
  assert.equal(requestId(page, 4, 7), page + '-4-7');
  // the browser test's pattern for digit 2 of a number taught as 2
  assert.match(requestId(page, 12, 1, 2), /^[a-z0-9]+-[a-z0-9]+-\d+-1-2$/);
  assert.notEqual(newPageId(), newPageId());
});

test('a refusal is not sent again', async () => {
  const { fetch, requests } = fakeFetch(() => ({ status: 422, body: '{"error": "nothing is drawn"}' }));
  const api = new Api({ fetch });
  assert.equal((await api.predict(DRAWING)).status, 422);
  assert.equal((await api.samples(DRAWING, 1)).status, 422);
  assert.deepEqual(requests.map((q) => 'strokes' in q.body), [true, true]);
});
