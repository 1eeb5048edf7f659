// Principal component analysis of a few hundred points, by power iteration
// on X'X (never forming the d x d covariance), with Gram-Schmidt against
// the components found before.  Deterministic: a fixed starting vector.

// points: array of n arrays of d numbers.  Answers {coords: [[x, y], ...],
// variance: [share of the first axis, of the second]} (shares of the total).
export function pca2(points, components = 2) {
  const n = points.length;
  const d = n ? points[0].length : 0;
  if (!n || !d) return {coords: [], variance: [0, 0]};
  const mean = new Float64Array(d);
  for (const p of points) for (let j = 0; j < d; j++) mean[j] += p[j] / n;
  const X = points.map((p) => Float64Array.from(p, (v, j) => v - mean[j]));
  let total = 0;
  for (const row of X) for (let j = 0; j < d; j++) total += row[j] * row[j];

  const axes = [];
  const lambdas = [];
  for (let c = 0; c < Math.min(components, d); c++) {
    const [v, lambda] = powerIteration(X, d, axes, c);
    axes.push(v);
    lambdas.push(lambda);
  }
  const coords = X.map((row) => {
    const out = [0, 0];
    axes.forEach((v, c) => {
      out[c] = dot(row, v);
    });
    return out;
  });
  const variance = [0, 1].map((c) => (total > 0 && lambdas[c] ? lambdas[c] / total : 0));
  return {coords, variance};
}

function dot(a, b) {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

function orthonormalise(v, axes) {
  for (const u of axes) {
    const p = dot(v, u);
    for (let j = 0; j < v.length; j++) v[j] -= p * u[j];
  }
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) for (let j = 0; j < v.length; j++) v[j] /= norm;
  return norm;
}

// The leading eigenvector of X'X orthogonal to `axes`, and its eigenvalue.
function powerIteration(X, d, axes, seed) {
  let v = new Float64Array(d);
  let state = 12345 + 7919 * seed;
  for (let j = 0; j < d; j++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    v[j] = state / 2147483648 - 0.5;
  }
  if (orthonormalise(v, axes) === 0) return [v, 0];
  let lambda = 0;
  for (let iter = 0; iter < 1000; iter++) {
    const w = new Float64Array(d);
    for (const row of X) {
      const p = dot(row, v);
      for (let j = 0; j < d; j++) w[j] += p * row[j];
    }
    const norm = orthonormalise(w, axes);
    if (norm === 0) return [v, 0];
    let change = 0;
    for (let j = 0; j < d; j++) change += (w[j] - v[j]) ** 2;
    v = w;
    lambda = norm;
    if (change < 1e-18) break;
  }
  // Fix the sign so the same data always gives the same picture.
  let big = 0;
  for (let j = 0; j < d; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
  if (v[big] < 0) for (let j = 0; j < d; j++) v[j] = -v[j];
  return [v, lambda];
}
