/* The ink as the request's `strokes` field (../shared/API.md): strokes in drawing order, each a list of
   [x, y, t] in the sent image's pixels, t in whole milliseconds since the drawing's first point. */

export const MAX_STROKES = 200;
export const MAX_POINTS = 20000;

export function round2(v) { return Math.round(v * 100) / 100; }

function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }

// Whether point p lies at least `step` (in the pad's height units) from `last`: closer ones are not recorded.
export function farEnough(last, p, step) {
  const dx = p[0] - last[0], dy = p[1] - last[1];
  return dx * dx + dy * dy >= step * step;
}

// At most `maxPoints` points in all: every stroke keeps its first and last point, and its inner points are
// thinned evenly, in the same proportion in every stroke.
export function thin(strokes, maxPoints = MAX_POINTS) {
  const total = strokes.reduce((n, s) => n + s.length, 0);
  if (total <= maxPoints) { return strokes; }
  const ends = strokes.reduce((n, s) => n + Math.min(s.length, 2), 0);
  const inner = total - ends;
  const ratio = Math.max(0, maxPoints - ends) / inner;
  return strokes.map((s) => {
    if (s.length <= 2) { return s; }
    const m = s.length - 2, k = Math.floor(m * ratio);
    const kept = [s[0]];
    for (let j = 0; j < k; j++) { kept.push(s[1 + Math.floor((j + 0.5) * m / k)]); }
    kept.push(s[s.length - 1]);
    return kept;
  });
}

/* The pad's strokes (points [x, y, time] in units of its height, time in ms on any clock) as sent with an image
   `height` px tall and `aspect` times as wide. Points off the image (a stroke carried past the pad's edge) are
   put on its edge; a point without a time is sent as [x, y]. Null when there are more strokes than the
   contract takes: the request then goes without them. */
export function strokesForImage(strokes, height, aspect = 1, limits = {}) {
  const maxStrokes = limits.maxStrokes ?? MAX_STROKES, maxPoints = limits.maxPoints ?? MAX_POINTS;
  const drawn = strokes.filter((s) => s.length);
  if (!drawn.length || drawn.length > maxStrokes) { return null; }
  const width = height * aspect;
  const t0 = drawn[0][0][2];
  return thin(drawn, maxPoints).map((s) => s.map((p) => {
    const x = round2(clamp(p[0] * height, 0, width)), y = round2(clamp(p[1] * height, 0, height));
    const t = p[2];
    return Number.isFinite(t) && Number.isFinite(t0) ? [x, y, Math.max(0, Math.round(t - t0))] : [x, y];
  }));
}
