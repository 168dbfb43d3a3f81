// Seeded, fast random numbers for generated weights: xoshiro128** uniforms turned into normals by the
// polar form of Box–Muller (no trigonometry). Each tensor gets its own stream derived from
// (seed, tensor name), so its values do not depend on the order tensors are written in.

/** splitmix32: spreads a 32-bit seed into well-mixed state words. */
function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

export class NormalStream {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seed: number, stream: string) {
    let state = (Math.imul(seed >>> 0, 0x9e3779b1) ^ fnv1a(stream)) | 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      let word: number;
      [state, word] = splitmix32(state);
      words.push(word);
    }
    [this.a, this.b, this.c, this.d] = words;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Fills `out` with mean + std · N(0, 1). The generator state lives in locals in the hot loop. */
  fillNormal(out: Float32Array, mean: number, std: number): Float32Array {
    let { a, b, c, d } = this;
    const toSigned = 1 / 2147483648;
    for (let i = 0; i < out.length; ) {
      // Two xoshiro128** steps give a point in the square [-1, 1)²; keep it if inside the unit disc.
      const u = Math.imul(rotl(Math.imul(b, 5), 7), 9) * toSigned;
      let t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      const v = Math.imul(rotl(Math.imul(b, 5), 7), 9) * toSigned;
      t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const factor = std * Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = mean + u * factor;
      if (i < out.length) out[i++] = mean + v * factor;
    }
    Object.assign(this, { a, b, c, d });
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
