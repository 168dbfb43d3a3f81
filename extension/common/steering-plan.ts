// Compiles steering interventions into the per-hook inputs of the graph's steering blocks:
//   h' = h + Σ_j gate_j(p) · u_j · f_j(w_jᵀ h + b_j)
// with f_j the identity for the first LINEAR_COLUMNS columns and relu for the rest. Every method is
// such a sum (architecture.md): add is a relu column with w = 0, b = 1; ablate a linear column; a cap
// floor or ceiling a relu column; a rotation two linear columns.

export const LINEAR_COLUMNS = 4;
export const RELU_COLUMNS = 4;
export const STEERING_COLUMNS = LINEAR_COLUMNS + RELU_COLUMNS;

export type Positions = 'all' | { from: number } | number[];

interface Targeted {
  hook: string;
  positions?: Positions;
}
export type Intervention =
  | (Targeted & { kind: 'add'; vector: Float32Array; scale: number })
  | (Targeted & { kind: 'ablate'; direction: Float32Array })
  | (Targeted & { kind: 'cap'; direction: Float32Array; min?: number; max?: number })
  | (Targeted & { kind: 'rotate'; plane: [Float32Array, Float32Array]; degrees: number });

/** A readout of ⟨h, w⟩ at a hook point, taken before that hook's edits. */
export interface ProbeRequest {
  hook: string;
  direction: Float32Array;
}

export interface HookPlan {
  hook: string;
  w: Float32Array; // [H, C], column-major by column j: w[i * C + j]
  b: Float32Array; // [C]
  u: Float32Array; // [C, H]
  positions: (Positions | null)[]; // per column; null = unused
  /** Probe name → column index of its readout. */
  probes: Map<string, number>;
}

export class SteeringError extends Error {}

function checkVector(v: Float32Array, hidden: number, what: string): void {
  if (v.length !== hidden) throw new SteeringError(`${what} has ${v.length} values; this model's hidden size is ${hidden}`);
  if (!v.every(Number.isFinite)) throw new SteeringError(`${what} contains a value that is not a finite number`);
}

function unit(v: Float32Array, what: string): Float64Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (!(norm > 0)) throw new SteeringError(`${what} is the zero vector: it has no direction`);
  return Float64Array.from(v, (x) => x / norm);
}

/** Orthonormal basis of the plane (Gram-Schmidt in float64); rotation from b1 towards b2. */
function orthonormalPlane(b1: Float32Array, b2: Float32Array, what: string): [Float64Array, Float64Array] {
  const e1 = unit(b1, `${what} b1`);
  const dot = e1.reduce((s, x, i) => s + x * b2[i], 0);
  const rest = Float32Array.from(b2, (x, i) => x - dot * e1[i]);
  let norm = 0;
  for (const x of rest) norm += x * x;
  if (Math.sqrt(norm) < 1e-6 * Math.sqrt(b2.reduce((s, x) => s + x * x, 0))) throw new SteeringError(`${what}: b1 and b2 are parallel, so they span no plane`);
  return [e1, unit(rest, `${what} b2`)];
}

export function positionIncluded(positions: Positions, p: number): boolean {
  if (positions === 'all') return true;
  if (Array.isArray(positions)) return positions.includes(p);
  return p >= positions.from;
}

/** Whether every position of `inner` is in `outer` (decidable for the three forms). */
function covers(outer: Positions, inner: Positions): boolean {
  if (outer === 'all') return true;
  if (inner === 'all') return false;
  if (Array.isArray(inner)) return inner.every((p) => positionIncluded(outer, p));
  return !Array.isArray(outer) && inner.from >= outer.from;
}

function disjoint(a: Positions, b: Positions): boolean {
  if (a === 'all' || b === 'all') return false;
  if (Array.isArray(a)) return a.every((p) => !positionIncluded(b, p));
  if (Array.isArray(b)) return b.every((p) => !positionIncluded(a, p));
  return false;
}

export function checkPositions(positions: unknown, what: string): Positions {
  if (positions === undefined || positions === 'all') return 'all';
  if (Array.isArray(positions) && positions.every((p) => Number.isInteger(p) && p >= 0)) return positions as number[];
  if (typeof positions === 'object' && positions !== null && Number.isInteger((positions as { from?: unknown }).from) && (positions as { from: number }).from >= 0) {
    return { from: (positions as { from: number }).from };
  }
  throw new SteeringError(`${what}: positions must be "all", {"from": N} or a list of non-negative integers`);
}

class HookBuilder {
  readonly plan: HookPlan;
  private linearUsed = 0;
  private reluUsed = 0;
  private directionalSeen = false;
  private readonly adds: { vector: Float64Array; positions: Positions }[] = [];

  constructor(
    hook: string,
    private readonly hidden: number,
  ) {
    this.plan = {
      hook,
      w: new Float32Array(hidden * STEERING_COLUMNS),
      b: new Float32Array(STEERING_COLUMNS),
      u: new Float32Array(STEERING_COLUMNS * hidden),
      positions: new Array(STEERING_COLUMNS).fill(null),
      probes: new Map(),
    };
  }

  private column(kind: 'linear' | 'relu', what: string): number {
    if (kind === 'linear') {
      if (this.linearUsed === LINEAR_COLUMNS) throw new SteeringError(`${what}: too many ablations, rotations and probes at ${this.plan.hook} (at most ${LINEAR_COLUMNS} directions)`);
      return this.linearUsed++;
    }
    if (this.reluUsed === RELU_COLUMNS) throw new SteeringError(`${what}: too many additions and caps at ${this.plan.hook} (at most ${RELU_COLUMNS})`);
    return LINEAR_COLUMNS + this.reluUsed++;
  }

  private set(j: number, w: ArrayLike<number> | null, bias: number, u: ArrayLike<number> | null, positions: Positions | null): void {
    const { hidden: H } = this;
    for (let i = 0; i < H; i++) {
      this.plan.w[i * STEERING_COLUMNS + j] = w ? w[i] : 0;
      this.plan.u[j * H + i] = u ? u[i] : 0;
    }
    this.plan.b[j] = bias;
    this.plan.positions[j] = positions;
  }

  /** ⟨w, Σ earlier adds⟩: a directional edit after additions at the same hook reads h + those additions. */
  private shiftAlong(w: ArrayLike<number>, positions: Positions, what: string): number {
    let shift = 0;
    for (const add of this.adds) {
      if (disjoint(add.positions, positions)) continue;
      if (!covers(add.positions, positions)) {
        throw new SteeringError(`${what}: an addition earlier at ${this.plan.hook} covers only some of its positions; give both the same positions or put them at different hook points`);
      }
      for (let i = 0; i < this.hidden; i++) shift += w[i] * add.vector[i];
    }
    return shift;
  }

  private directional(what: string): void {
    if (this.directionalSeen) {
      throw new SteeringError(`${what}: ${this.plan.hook} already has an ablation, cap or rotation; put the second one at another hook point (e.g. the next layer's) so their order is explicit`);
    }
    this.directionalSeen = true;
  }

  add(item: Intervention, what: string): void {
    const positions = checkPositions(item.positions, what);
    switch (item.kind) {
      case 'add': {
        checkVector(item.vector, this.hidden, `${what} vector`);
        if (!Number.isFinite(item.scale)) throw new SteeringError(`${what}: scale must be a finite number`);
        const scaled = Float32Array.from(item.vector, (x) => Math.fround(item.scale * x));
        this.set(this.column('relu', what), null, 1, scaled, positions);
        this.adds.push({ vector: Float64Array.from(scaled), positions });
        return;
      }
      case 'ablate': {
        checkVector(item.direction, this.hidden, `${what} direction`);
        this.directional(what);
        const v = Float32Array.from(unit(item.direction, `${what} direction`));
        const neg = v.map((x) => -x);
        this.set(this.column('linear', what), v, this.shiftAlong(v, positions, what), neg, positions);
        return;
      }
      case 'cap': {
        checkVector(item.direction, this.hidden, `${what} direction`);
        if (item.min === undefined && item.max === undefined) throw new SteeringError(`${what}: a cap needs "min" (a floor), "max" (a ceiling) or both`);
        if (item.min !== undefined && item.max !== undefined && item.min > item.max) throw new SteeringError(`${what}: min ${item.min} is above max ${item.max}`);
        this.directional(what);
        const v = Float32Array.from(unit(item.direction, `${what} direction`));
        const neg = v.map((x) => -x);
        const shift = this.shiftAlong(v, positions, what);
        // floor: + v̂ · relu(min − ⟨h, v̂⟩); ceiling: − v̂ · relu(⟨h, v̂⟩ − max)
        if (item.min !== undefined) this.set(this.column('relu', what), neg, item.min - shift, v, positions);
        if (item.max !== undefined) this.set(this.column('relu', what), v, shift - item.max, neg, positions);
        return;
      }
      case 'rotate': {
        item.plane.forEach((p, i) => checkVector(p, this.hidden, `${what} plane b${i + 1}`));
        if (!Number.isFinite(item.degrees)) throw new SteeringError(`${what}: degrees must be a finite number`);
        this.directional(what);
        const [e1, e2] = orthonormalPlane(item.plane[0], item.plane[1], what);
        const theta = (item.degrees * Math.PI) / 180;
        const c = Math.cos(theta) - 1;
        const s = Math.sin(theta);
        // h' = h + b1((cosθ−1)c1 − sinθ c2) + b2(sinθ c1 + (cosθ−1)c2), c_i = ⟨h, b_i⟩
        const u1 = Float64Array.from(e1, (x, i) => c * x + s * e2[i]);
        const u2 = Float64Array.from(e1, (x, i) => -s * x + c * e2[i]);
        this.set(this.column('linear', what), e1, this.shiftAlong(e1, positions, what), u1, positions);
        this.set(this.column('linear', what), e2, this.shiftAlong(e2, positions, what), u2, positions);
        return;
      }
    }
  }

  probe(name: string, direction: Float32Array): void {
    checkVector(direction, this.hidden, `probe ${name}`);
    const j = this.column('linear', `probe ${name}`);
    this.set(j, direction, 0, null, null);
    this.plan.probes.set(name, j);
  }
}

/**
 * Plans every hook's columns. `canonical` maps a hook name to the graph hook carrying it (a layer's
 * hook_resid_pre is the previous layer's hook_resid_post). Items at one hook apply in list order.
 */
export function planSteering(
  interventions: readonly Intervention[],
  probes: readonly (ProbeRequest & { name: string })[],
  hidden: number,
  canonical: (hook: string) => string,
): Map<string, HookPlan> {
  const builders = new Map<string, HookBuilder>();
  const at = (hook: string) => {
    const key = canonical(hook);
    let builder = builders.get(key);
    if (!builder) builders.set(key, (builder = new HookBuilder(key, hidden)));
    return builder;
  };
  interventions.forEach((item, i) => at(item.hook).add(item, `intervention ${i + 1} (${item.kind} at ${item.hook})`));
  for (const probe of probes) at(probe.hook).probe(probe.name, probe.direction);
  return new Map([...builders].map(([k, v]) => [k, v.plan]));
}

/**
 * The gate rows for the given absolute positions (one per new token): [count, C], or [1, C] when no
 * column depends on the position.
 */
export function gateRows(plan: HookPlan, positions: readonly number[]): { rows: number; data: Float32Array } {
  const C = STEERING_COLUMNS;
  const uniform = plan.positions.every((p) => p === null || p === 'all');
  const rows = uniform ? 1 : positions.length;
  const data = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < C; j++) {
      const spec = plan.positions[j];
      data[r * C + j] = spec !== null && positionIncluded(spec, positions[r]) ? 1 : 0;
    }
  }
  return { rows, data };
}
