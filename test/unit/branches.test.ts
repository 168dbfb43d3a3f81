// Packed branches (DecoderSession.forwardBranches) give the same logits as running each continuation
// on its own over its own cache — including sliding-window attention, where positions matter.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { cachePrefix, concatCaches, JoinBuffer } from '../../extension/engine/runtime/kv-cache';

const work = mkdtempSync(join(tmpdir(), 'thinkscope-branches-'));
after(() => rmSync(work, { recursive: true, force: true }));

const tokens = (seed: number, n: number) => Array.from({ length: n }, (_, i) => 10 + ((seed * 31 + i * 17) % 600));

for (const arch of ['qwen2', 'mistral', 'gemma2'] as const) {
  describe(`packed branches on a tiny ${arch}`, () => {
    let model: Model;
    before(async () => {
      await makeModel({ preset: 'tiny', arch, outDir: join(work, arch), seed: 2 });
      model = await Model.open(join(work, arch), { cacheRoot: join(work, 'cache') });
    });
    after(() => model.close());

    test('each branch sees only its own part of two caches side by side', async () => {
      const { session } = model;
      // Two 40-token traces (longer than the tiny models' 32-token sliding window) that part at token 20.
      const a = tokens(1, 40);
      const b = [...a.slice(0, 20), ...tokens(2, 20)];
      const cacheA = (await session.forward({ ids: a, logits: 'none' })).cache;
      const cacheB = (await session.forward({ ids: b, logits: 'none' })).cache;
      const pair = concatCaches(cacheA, cacheB, 40, 40, new JoinBuffer(80));
      const continuations = [
        { tokens: tokens(3, 5), cache: cacheA, end: 40, offset: 0 },
        { tokens: tokens(4, 7), cache: cacheB, end: 40, offset: 40 },
        { tokens: tokens(5, 3), cache: cachePrefix(cacheA, 25), end: 25, offset: 0 },
        { tokens: tokens(6, 4), cache: cachePrefix(cacheB, 33), end: 33, offset: 40 },
      ];
      const rows: number[] = [];
      let at = 0;
      for (const c of continuations) {
        for (let t = 0; t < c.tokens.length; t++) rows.push(at + t);
        at += c.tokens.length;
      }
      const packed = await session.forwardBranches({
        ids: continuations.flatMap((c) => c.tokens),
        cache: pair,
        branches: continuations.map((c) => ({ length: c.tokens.length, position: c.end, context: [{ start: c.offset, end: c.offset + c.end, position: 0 }] })),
        logits: rows,
      });
      const vocab = model.spec.vocabSize;
      let row = 0;
      for (const [n, c] of continuations.entries()) {
        const alone = await session.forward({ ids: c.tokens, cache: c.cache, logits: 'all' });
        for (let t = 0; t < c.tokens.length; t++, row++) {
          const got = packed.subarray(row * vocab, (row + 1) * vocab);
          const want = alone.logits.subarray(t * vocab, (t + 1) * vocab);
          const worst = got.reduce((m, x, i) => Math.max(m, Math.abs(x - want[i])), 0);
          assert.ok(worst < 1e-4, `branch ${n}, token ${t}: |Δ logits| ${worst}`);
        }
      }
    });

    test('two caches joined at chosen lengths hold exactly the prefixes cut and joined', async () => {
      const { session } = model;
      const cacheA = (await session.forward({ ids: tokens(8, 12), logits: 'none' })).cache;
      const cacheB = (await session.forward({ ids: tokens(9, 9), logits: 'none' })).cache;
      // One buffer for every join, as TTS packs use it: each join is right when made.
      const into = new JoinBuffer(21);
      for (const [x, y] of [[12, 9], [5, 9], [12, 3], [4, 7], [0, 6], [7, 0], [12, 0]]) {
        const joined = concatCaches(cacheA, cacheB, x, y, into);
        const reference = concatCaches(cachePrefix(cacheA, x), cachePrefix(cacheB, y), x, y, new JoinBuffer(x + y));
        assert.equal(joined.length, x + y);
        for (const kind of ['keys', 'values'] as const) {
          joined[kind].forEach((tensor, l) => {
            assert.deepEqual(tensor.dims, reference[kind][l].dims, `${kind} of layer ${l} at ${x} + ${y}`);
            assert.deepEqual(tensor.data, reference[kind][l].data, `${kind} of layer ${l} at ${x} + ${y}`);
          });
        }
      }
      assert.throws(() => concatCaches(cacheA, cacheB, 13, 1, into), /cannot keep/);
      assert.throws(() => concatCaches(cacheA, cacheB, 12, 9, new JoinBuffer(20)), /does not fit/);
    });

    test('a context range outside the cache is refused', async () => {
      const cache = (await model.session.forward({ ids: tokens(7, 4), logits: 'none' })).cache;
      await assert.rejects(model.session.forwardBranches({ ids: [5], cache, branches: [{ length: 1, position: 9, context: [{ start: 0, end: 9, position: 0 }] }], logits: [0] }), /outside the cache/);
    });
  });
}
