// The settings a user sees in VS Code start from the same defaults the engine and the CLI use.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SEAL_KEYWORDS } from '../../extension/common/analysis/seal';
import { DEFAULT_TTS_CUE } from '../../extension/engine/analysis/tts/layout';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
const setting = (name: string) => manifest.contributes.configuration.properties[name]?.default;

test('SEAL keyword lists default to the paper’s lists, typo fixed', () => {
  assert.deepEqual(setting('thinkscope.seal.keywords'), DEFAULT_SEAL_KEYWORDS);
  assert.ok(DEFAULT_SEAL_KEYWORDS.transition.contains.includes('think differently'));
});

test('the TTS cue and the capping percentile default to the papers’ choices', () => {
  assert.equal(setting('thinkscope.tts.cue'), DEFAULT_TTS_CUE);
  assert.equal(setting('thinkscope.persona.cappingPercentile'), 25);
});
