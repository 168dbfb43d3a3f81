// Vector statistics behind every direction: means, percentiles, cosines, Gram-Schmidt and the
// first principal component. Vectors are Float32Array; sums run in float64 so means over
// thousands of activations do not drift.

export function meanVector(vectors: readonly Float32Array[]): Float32Array {
  const dim = commonDimension(vectors, 'a mean');
  const sum = new Float64Array(dim);
  for (const vector of vectors) for (let i = 0; i < dim; i++) sum[i] += vector[i];
  return Float32Array.from(sum, (value) => value / vectors.length);
}

/** mean(a) − mean(b), the diff-in-means direction (raw, not normalised). */
export function differenceOfMeans(a: readonly Float32Array[], b: readonly Float32Array[]): Float32Array {
  const meanA = meanVector(a);
  const meanB = meanVector(b);
  checkSameLength(meanA, meanB);
  return meanA.map((value, i) => value - meanB[i]);
}

/** The p-th percentile (0..100) with linear interpolation between order statistics, as numpy's default. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p}: expected a number from 0 to 100`);
  const sorted = Float64Array.from(values).sort();
  if (sorted.some(Number.isNaN)) throw new RangeError('percentile of values containing NaN');
  const position = ((sorted.length - 1) * p) / 100;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

export function norm(v: ArrayLike<number>): number {
  return Math.sqrt(dot(v, v));
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const denominator = norm(a) * norm(b);
  if (denominator === 0) throw new RangeError('cosine with a zero vector is undefined');
  return dot(a, b) / denominator;
}

export function normalize(v: Float32Array): Float32Array {
  const length = norm(v);
  if (!(length > 0) || !Number.isFinite(length)) throw new RangeError(`cannot normalise a vector of norm ${length}`);
  return v.map((value) => value / length);
}

/** The unit part of `v` orthogonal to every vector of `basis` (modified Gram-Schmidt). */
export function gramSchmidt(v: Float32Array, basis: readonly Float32Array[]): Float32Array {
  const rest = Float64Array.from(v);
  for (const b of basis) {
    const unit = normalize(b);
    const along = dot(rest, unit);
    for (let i = 0; i < rest.length; i++) rest[i] -= along * unit[i];
  }
  const left = norm(rest);
  if (!(left > 1e-6 * norm(v))) throw new RangeError('the vector lies in the span of the basis: nothing orthogonal is left');
  return Float32Array.from(rest, (value) => value / left);
}

export interface PrincipalComponent {
  /** Unit vector. Sign: aligned with `reference` when one is given, else its largest-|x| component is positive. */
  direction: Float32Array;
  /** Share of the total variance along it, in [0, 1]. */
  explainedVariance: number;
}

/**
 * PC1 of the mean-centred vectors (as sklearn's PCA(1)). The eigenproblem is solved by Jacobi
 * rotations on the smaller of the n×n Gram matrix and the d×d covariance, so the cost is
 * O(min(n, d)³) plus one pass over the data.
 */
export function firstPrincipalComponent(vectors: readonly Float32Array[], reference?: Float32Array): PrincipalComponent {
  const dim = commonDimension(vectors, 'a principal component');
  const mean = meanVector(vectors);
  const centred = vectors.map((v) => Float64Array.from(v, (value, i) => value - mean[i]));
  const useGram = vectors.length <= dim;
  const size = useGram ? vectors.length : dim;
  const matrix = new Float64Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let c = r; c < size; c++) {
      let sum = 0;
      if (useGram) sum = dot(centred[r], centred[c]);
      else for (const row of centred) sum += row[r] * row[c];
      matrix[r * size + c] = matrix[c * size + r] = sum;
    }
  }
  let total = 0;
  for (let i = 0; i < size; i++) total += matrix[i * size + i];
  if (!(total > 0)) throw new RangeError('the vectors are all equal: no principal component');
  const { values, vectors: eigenvectors } = symmetricEigen(matrix, size);
  let top = 0;
  for (let i = 1; i < size; i++) if (values[i] > values[top]) top = i;
  const eigenvector = Float64Array.from({ length: size }, (_, i) => eigenvectors[i * size + top]);

  const direction = new Float64Array(dim);
  if (useGram) centred.forEach((row, r) => row.forEach((value, i) => (direction[i] += eigenvector[r] * value)));
  else direction.set(eigenvector);
  return { direction: orient(normalize(Float32Array.from(direction)), reference), explainedVariance: values[top] / total };
}

/** The vector with the highest average cosine to all the others (Selective Steering's b1, §4.3); ties go to the first. */
export function mostCentral(vectors: readonly Float32Array[]): { index: number; meanCosine: number } {
  commonDimension(vectors, 'the most central vector');
  const units = vectors.map(normalize);
  let best = { index: 0, meanCosine: -Infinity };
  units.forEach((unit, i) => {
    let sum = 0;
    units.forEach((other, j) => {
      if (i !== j) sum += dot(unit, other);
    });
    const meanCosine = units.length > 1 ? sum / (units.length - 1) : 1;
    if (meanCosine > best.meanCosine) best = { index: i, meanCosine };
  });
  return best;
}

/** The sign convention of every computed direction: aligned with `reference` if given (and not orthogonal to it), else its largest-|x| component (the first, on ties) positive. */
export function orient(direction: Float32Array, reference?: Float32Array): Float32Array {
  let score = reference ? dot(direction, reference) : 0;
  if (score === 0) {
    let largest = 0;
    for (let i = 1; i < direction.length; i++) if (Math.abs(direction[i]) > Math.abs(direction[largest])) largest = i;
    score = direction[largest];
  }
  return score < 0 ? direction.map((value) => -value) : direction;
}

/** Eigen-decomposition of a symmetric matrix (row-major) by cyclic Jacobi rotations; eigenvectors are the columns. */
function symmetricEigen(input: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (const value of a) scale += value * value;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off <= 1e-30 * scale) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}

function commonDimension(vectors: readonly Float32Array[], what: string): number {
  if (vectors.length === 0) throw new RangeError(`${what} needs at least one vector`);
  const dim = vectors[0].length;
  const bad = vectors.findIndex((v) => v.length !== dim);
  if (bad !== -1) throw new RangeError(`vector ${bad} has ${vectors[bad].length} dimensions; vector 0 has ${dim}`);
  return dim;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`vectors of different lengths (${a.length} and ${b.length})`);
}
