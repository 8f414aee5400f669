/* How strokes are painted on a 2D canvas context: the pad on the screen and the image sent use the same code,
   so the server sees what the person saw. Points are [x, y, ...] in units of the canvas's height. */

export const PEN_RATIO = 1 / 14;      // pen width as a fraction of the height (recognizer/training/render.py: PAGE_PEN)

// One stroke: a dot for a single point, a line for two, quadratic smoothing through the midpoints beyond.
export function traceStroke(c, pts, unit) {
  const n = pts.length;
  if (!n) { return; }
  const x0 = pts[0][0] * unit, y0 = pts[0][1] * unit;
  if (n === 1) {
    c.beginPath();
    c.arc(x0, y0, c.lineWidth / 2, 0, Math.PI * 2);
    c.fill();
    return;
  }
  c.beginPath();
  c.moveTo(x0, y0);
  if (n === 2) {
    c.lineTo(pts[1][0] * unit, pts[1][1] * unit);
  } else {
    // the points are control points, the midpoints between them are on the curve
    for (let i = 1; i < n - 1; i++) {
      const mx = (pts[i][0] + pts[i + 1][0]) / 2, my = (pts[i][1] + pts[i + 1][1]) / 2;
      c.quadraticCurveTo(pts[i][0] * unit, pts[i][1] * unit, mx * unit, my * unit);
    }
    c.lineTo(pts[n - 1][0] * unit, pts[n - 1][1] * unit);
  }
  c.stroke();
}

// The strokes, black on white, on a canvas of width x height.
export function paint(c, width, height, strokes, penRatio = PEN_RATIO) {
  c.setTransform(1, 0, 0, 1, 0, 0);
  c.globalCompositeOperation = 'source-over';
  c.fillStyle = '#ffffff';
  c.fillRect(0, 0, width, height);
  c.strokeStyle = '#000000';
  c.fillStyle = '#000000';
  c.lineWidth = height * penRatio;
  c.lineCap = 'round';
  c.lineJoin = 'round';
  for (const stroke of strokes) { traceStroke(c, stroke, height); }
}
