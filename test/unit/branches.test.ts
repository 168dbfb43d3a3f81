// Packed branches (DecoderSession.forwardBranches) give the same logits as running each continuation
// on its own over its own cache — including sliding-window attention, where positions matter.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';

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
        const alone = await session.forward({ ids: c.tokens, cache: cache.prefix(c.end), logits: 'all' });
        for (let t = 0; t < c.tokens.length; t++, row++) {
          const got = packed.subarray(row * vocab, (row + 1) * vocab);
          const want = alone.logits.subarray(t * vocab, (t + 1) * vocab);
          const worst = got.reduce((m, x, i) => Math.max(m, Math.abs(x - want[i])), 0);
          assert.ok(worst < 1e-4, `branch ${n}, token ${t}: |Δ logits| ${worst}`);
        }
      }
    });

    test('continuing a cache, a prefix of it and the cache again leaves every fork its own positions', async () => {
      const { session } = model;
      const vocab = model.spec.vocabSize;
      const trunk = tokens(8, 12);
      const cache = (await session.forward({ ids: trunk, logits: 'none' })).cache;
      // Each fork is read, then continued by one more token, after every other fork exists: a fork
      // written over another's positions would change that one's next logits.
      const forks = [
        { from: 12, tokens: tokens(9, 3) },
        { from: 8, tokens: tokens(10, 4) },
        { from: 12, tokens: tokens(11, 2) },
        { from: 0, tokens: tokens(12, 5) },
      ];
      const caches = [];
      for (const fork of forks) caches.push((await session.forward({ ids: fork.tokens, cache: cache.prefix(fork.from), logits: 'none' })).cache);
      for (const [n, fork] of forks.entries()) {
        const next = tokens(13 + n, 1);
        const continued = await session.forward({ ids: next, cache: caches[n] });
        const fresh = await session.forward({ ids: [...trunk.slice(0, fork.from), ...fork.tokens, ...next] });
        assert.equal(continued.cache.length, fork.from + fork.tokens.length + 1);
        const worst = continued.logits.reduce((m, x, i) => Math.max(m, Math.abs(x - fresh.logits[i])), 0);
        assert.ok(worst < 1e-4, `fork ${n}: |Δ logits| ${worst} (vocabulary ${vocab})`);
      }
      assert.equal(cache.prefix(12), cache);
      assert.throws(() => cache.prefix(13), /cannot keep/);
    });

    test('a context range outside the cache is refused', async () => {
      const cache = (await model.session.forward({ ids: tokens(7, 4), logits: 'none' })).cache;
      await assert.rejects(model.session.forwardBranches({ ids: [5], cache, branches: [{ length: 1, position: 9, context: [{ start: 0, end: 9, position: 0 }] }], logits: [0] }), /outside the cache/);
    });
  });
}
