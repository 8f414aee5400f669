/* What the page says: the answer shown for each kind of result, status lines, errors. Pure functions. */

export const NOT_A_DIGIT = "can't recognize this as a digit";
export const NETWORK_ERROR = 'Could not reach the server. Check the connection and try again.';

const PROMPT = {
  recognize: ['Draw a digit, then press Recognize.', 'Write a number, then press Recognize.'],
  collect: ['Draw a digit, then press its number.', 'Write a number, then type it and press Save.'],
};

export function prompt(mode, wide) { return PROMPT[mode][wide ? 1 : 0]; }

// The status line when a mode is picked.
export function modePrompt(mode, wide) {
  if (mode !== 'collect') { return prompt(mode, wide); }
  return wide ? 'Data-collection mode: write a number, then type it and press Save.'
    : 'Data-collection mode: draw a digit, then press its number to save it.';
}

export function isDigit(answer) { return answer !== null && answer !== undefined && answer !== ''; }

export function capitalize(s) { s = String(s); return s.charAt(0).toUpperCase() + s.slice(1); }

export function pct(p) {
  const v = Math.max(0, Math.min(1, Number(p) || 0)) * 100;
  return (v > 0 && v < 1 ? '<1' : Math.round(v)) + '%';
}

export function digitName(i, n) { return 'digit ' + (i + 1) + ' of ' + n; }

export function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

export function isImage(src) { return typeof src === 'string' && src.indexOf('data:image/') === 0; }

// The large answer: a digit (or a number's digits), else the server's message, else "can't recognize".
export function answerView(answer, message) {
  return isDigit(answer) ? { text: String(answer), isMessage: false } : { text: message || NOT_A_DIGIT, isMessage: true };
}

// The status line once a recognition is shown (`number` when the drawing was read as several digits).
export function resultText(result, number) {
  if (number) {
    return result.number === null
      ? capitalize(result.message || 'some digit is not recognized') + ': pick it below the answer, then what it was.'
      : 'Is it ' + result.number + '? Press All correct, or pick a digit below the answer to correct it.';
  }
  return result.answer === null
    ? 'The models are not sure. If you know the digit, pick it below to teach them.'
    : 'Is it a ' + result.answer + '? Press Correct, or pick the right digit to teach the models.';
}

// The status line for a 422 from /predict (a blank drawing).
export function blankText(error) { return error ? capitalize(error) + '.' : 'Nothing is drawn.'; }

// An error answer that still carries a sample_id: the server stored the drawing (a /train whose update was
// refused, 422, or failed, 503, and is learned later).
export function keptDrawing(r) { return !!(r.data && r.data.sample_id); }

export function errorText(r) {
  const msg = r.data && r.data.error ? String(r.data.error) : '';
  if (r.status === 429) { return (msg || 'Too many requests') + ' — please wait a moment and try again.'; }
  if (r.status === 503 && !keptDrawing(r)) {
    return (msg || 'The store is unreachable') + ' — nothing was saved; try again shortly.';
  }
  return msg || ('The server answered ' + r.status + '.');
}

export function keptText(r) {
  const msg = r.data && r.data.error ? String(r.data.error) : 'the drawing was kept, but the models did not learn from it';
  return capitalize(msg) + '. Clear the pad to draw another.';
}

// "After learning": the updated models' answer to the digit taught, and their top guesses.
export function afterView(d, digit) {
  const p = d.predictions || {};
  const answer = d.answer;                 // /train's 200 body always carries answer (a digit or null)
  const right = isDigit(answer) && Number(answer) === Number(digit);
  const parts = [];
  for (const key of ['fnn_updated', 'cnn_updated']) {
    const top = p[key] && p[key][0];
    if (top) { parts.push((key === 'fnn_updated' ? 'FNN' : 'CNN') + ' ' + top.digit + ' (' + pct(top.probability) + ')'); }
  }
  const verdict = isDigit(answer) ? (right ? 'now right' : 'still not ' + digit) : '';
  return {
    ...answerView(answer, d.message),
    note: [verdict, parts.length ? 'updated ' + parts.join(', ') : ''].filter(Boolean).join(' · '),
    right,
  };
}

// The single version number shown: the higher of the two updated models'.
export function versionFrom(versions) {
  if (!versions) { return null; }
  const a = versions.fnn_updated, b = versions.cnn_updated;
  if (a === undefined || a === null) { return b === undefined ? null : b; }
  if (b === undefined || b === null) { return a; }
  return Math.max(a, b);
}
