// Packed branches (DecoderSession.forwardBranches) give the same logits as running each continuation
// on its own over its own cache — including sliding-window attention, where positions matter.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { cachePrefix, CutBuffer } from '../../extension/engine/runtime/kv-cache';

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

    test('each branch sees only its own prefix of the cache', async () => {
      const { session } = model;
      // A 40-token trace (longer than the tiny models' 32-token sliding window), continued after four of its prefixes.
      const a = tokens(1, 40);
      const cache = (await session.forward({ ids: a, logits: 'none' })).cache;
      const continuations = [
        { tokens: tokens(3, 5), end: 40 },
        { tokens: tokens(4, 7), end: 25 },
        { tokens: tokens(5, 3), end: 33 },
        { tokens: tokens(6, 4), end: 0 },
      ];
      const rows: number[] = [];
      let at = 0;
      for (const c of continuations) {
        for (let t = 0; t < c.tokens.length; t++) rows.push(at + t);
        at += c.tokens.length;
      }
      const packed = await session.forwardBranches({
        ids: continuations.flatMap((c) => c.tokens),
        cache,
        branches: continuations.map((c) => ({ length: c.tokens.length, position: c.end, context: c.end > 0 ? [{ start: 0, end: c.end, position: 0 }] : [] })),
        logits: rows,
      });
      const vocab = model.spec.vocabSize;
      let row = 0;
      for (const [n, c] of continuations.entries()) {
        const alone = await session.forward({ ids: c.tokens, cache: cachePrefix(cache, c.end), logits: 'all' });
        for (let t = 0; t < c.tokens.length; t++, row++) {
          const got = packed.subarray(row * vocab, (row + 1) * vocab);
          const want = alone.logits.subarray(t * vocab, (t + 1) * vocab);
          const worst = got.reduce((m, x, i) => Math.max(m, Math.abs(x - want[i])), 0);
          assert.ok(worst < 1e-4, `branch ${n}, token ${t}: |Δ logits| ${worst}`);
        }
      }
    });

    test('cuts into one reused buffer each hold exactly the prefix, and a whole cache is not copied', async () => {
      const cache = (await model.session.forward({ ids: tokens(8, 12), logits: 'none' })).cache;
      const into = new CutBuffer(12);
      for (const length of [12, 5, 11, 0, 7]) {
        const cut = cachePrefix(cache, length, into);
        const reference = cachePrefix(cache, length);
        assert.equal(cut.length, length);
        for (const kind of ['keys', 'values'] as const) {
          cut[kind].forEach((tensor, l) => {
            assert.deepEqual(tensor.dims, reference[kind][l].dims, `${kind} of layer ${l} at ${length}`);
            assert.deepEqual(tensor.data, reference[kind][l].data, `${kind} of layer ${l} at ${length}`);
          });
        }
      }
      assert.equal(cachePrefix(cache, 12, into), cache);
      assert.throws(() => cachePrefix(cache, 13, into), /cannot keep/);
      assert.throws(() => cachePrefix(cache, 11, new CutBuffer(10)), /does not fit/);
    });

    test('a context range outside the cache is refused', async () => {
      const cache = (await model.session.forward({ ids: tokens(7, 4), logits: 'none' })).cache;
      await assert.rejects(model.session.forwardBranches({ ids: [5], cache, branches: [{ length: 1, position: 9, context: [{ start: 0, end: 9, position: 0 }] }], logits: [0] }), /outside the cache/);
    });
  });
}
