import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';
import { stepClosingTokens } from '../../extension/engine/analysis/step-boundary';
import { CheckpointError } from '../../extension/engine/checkpoint/errors';
import { makeModel } from '../../extension/engine/make-model/make-model';

let root: string;
let tokenizer: TextTokenizer;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tokenizer-test-'));
  await makeModel({ arch: 'qwen2', preset: 'tiny', outDir: join(root, 'model'), seed: 1 });
  tokenizer = await TextTokenizer.fromFolder(join(root, 'model'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const SAMPLES = [
  'Let me check.\n\nWait, 12 + 30 = 42, so the answer is 42.',
  'café — naïve ünïcode, 数学, emoji 😀👍🏽 and tabs\tand  double  spaces',
  '<think>\nFirst, x = 5.\n\nHmm, let me verify.\n</think>\n\nThe answer is 5.<|im_end|>',
  "it's, we'll, they're: contractions; and [brackets] (parens) {braces}",
  '',
];

test('encode then decode gives back the text, special tokens included', () => {
  for (const text of SAMPLES) assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
});

test('special tokens in text become single ids; addSpecialTokens adds nothing to this Qwen-style tokenizer', () => {
  const ids = tokenizer.encode('<|im_start|>user\nhi<|im_end|>');
  assert.equal(ids[0], tokenizer.tokenId('<|im_start|>'));
  assert.equal(ids.at(-1), tokenizer.tokenId('<|im_end|>'));
  assert.deepEqual(tokenizer.encode('hi', { addSpecialTokens: true }), tokenizer.encode('hi'));
});

test('offsets tile the text and each token covers exactly what it decodes to', () => {
  for (const text of SAMPLES) {
    const { ids, offsets } = tokenizer.encodeWithOffsets(text);
    assert.equal(offsets.length, ids.length);
    let end = 0;
    for (let i = 0; i < ids.length; i++) {
      const [s, e] = offsets[i];
      const shared = i > 0 && offsets[i - 1][0] === s && offsets[i - 1][1] === e;
      // Tokens holding parts of one multi-byte character share its span; otherwise spans follow each other.
      assert.equal(s, shared ? offsets[i - 1][0] : end, `token ${i} of ${JSON.stringify(text)}`);
      const own = tokenizer.tokenText(ids[i]);
      if (own.includes('\uFFFD')) assert.match(text.slice(s, e), /[^\p{ASCII}]/u, 'a partial character maps to the whole character');
      else assert.equal(text.slice(s, e), own);
      end = e;
    }
    assert.equal(end, text.length);
  }
});

test('the bytes of one emoji share the emoji\'s span', () => {
  const text = 'a 😀 b';
  const { ids, offsets } = tokenizer.encodeWithOffsets(text);
  const emoji = offsets.filter(([s, e]) => text.slice(s, e) === '😀');
  assert.ok(emoji.length >= 2, `the emoji is split into byte tokens: ${JSON.stringify(offsets)}`);
  assert.equal(ids.length, offsets.length);
});

test('offsets stay ordered and inside the text where the normalizer rewrites it (NFC)', () => {
  const text = 'Cafe\u0301 is open.\n\nYes.';
  const { ids, offsets } = tokenizer.encodeWithOffsets(text);
  assert.equal(offsets.length, ids.length);
  let previous = 0;
  for (const [s, e] of offsets) {
    assert.ok(s >= 0 && s <= e && e <= text.length);
    assert.ok(e >= previous);
    previous = e;
  }
  assert.equal(text.slice(...offsets.at(-1)!), '.');
});

test('the chat template renders ChatML with a system message and the reasoning generation prompt', () => {
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is 6 * 7?' },
  ];
  assert.equal(
    tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }),
    '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 6 * 7?<|im_end|>\n<|im_start|>assistant\n<think>\n',
  );
  assert.equal(tokenizer.applyChatTemplate(messages.slice(1)), '<|im_start|>user\nWhat is 6 * 7?<|im_end|>\n');
});

test('think, end-of-turn and special ids are recognized', () => {
  assert.equal(tokenizer.tokenString(tokenizer.thinkStartId!), '<think>');
  assert.equal(tokenizer.tokenString(tokenizer.thinkEndId!), '</think>');
  assert.deepEqual(tokenizer.encode('<think></think>'), [tokenizer.thinkStartId, tokenizer.thinkEndId]);
  const imEnd = tokenizer.tokenId('<|im_end|>')!;
  assert.ok(tokenizer.eosIds.includes(imEnd));
  assert.ok(tokenizer.specialIds.has(imEnd));
  assert.ok(!tokenizer.specialIds.has(tokenizer.thinkStartId!));
  const ids = tokenizer.encode('<think>ok</think><|im_end|>');
  assert.equal(tokenizer.decode(ids, { skipSpecialTokens: true }), '<think>ok</think>');
});

test('the blank-line tokens of this tokenizer close a step; a lone "." or "\\n" does not', () => {
  const closes = (text: string) => stepClosingTokens(text, tokenizer.encodeWithOffsets(text));
  assert.deepEqual(closes('\n\n'), [true]);
  assert.equal(tokenizer.encode('.\n\n').length, 1);
  assert.deepEqual(closes('.\n\n'), [true]);
  assert.deepEqual(closes('.'), [false]);
  assert.deepEqual(closes('\n'), [false]);
});

test('ids past the tokenizer (unused embedding rows) decode to nothing instead of crashing', () => {
  const hi = tokenizer.encode('hi');
  assert.equal(tokenizer.decode([...hi, tokenizer.size + 5, -1]), 'hi');
  assert.equal(tokenizer.tokenString(tokenizer.size + 5), null);
});

test('a folder without tokenizer.json, a broken tokenizer.json and a broken template each give one clear error', async () => {
  const dir = join(root, 'broken');
  await cp(join(root, 'model'), dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), '{"model": ');
  await assert.rejects(TextTokenizer.fromFolder(dir), (e: Error) => e instanceof CheckpointError && /tokenizer.json is not valid JSON/.test(e.message));
  await writeFile(join(dir, 'tokenizer.json'), '{"model": {"type": "Nonsense"}}');
  await assert.rejects(TextTokenizer.fromFolder(dir), /tokenizer.json could not be loaded/);
  await unlink(join(dir, 'tokenizer.json'));
  await assert.rejects(TextTokenizer.fromFolder(dir), (e: Error) => e instanceof CheckpointError && /tokenizer.json is missing/.test(e.message));

  const json = JSON.parse(await readFile(join(root, 'model', 'tokenizer.json'), 'utf8'));
  const config = JSON.parse(await readFile(join(root, 'model', 'tokenizer_config.json'), 'utf8'));
  assert.throws(() => new TextTokenizer(json, { ...config, chat_template: '{% for m in messages %}' }, 'x'), /x: the chat template does not parse/);
  const noTemplate = new TextTokenizer(json, { ...config, chat_template: undefined }, 'x');
  assert.equal(noTemplate.hasChatTemplate, false);
  assert.throws(() => noTemplate.applyChatTemplate([{ role: 'user', content: 'hi' }]), /x: tokenizer_config.json has no chat_template/);
  const raising = new TextTokenizer(json, { ...config, chat_template: "{{ raise_exception('roles must alternate') }}" }, 'x');
  assert.throws(() => raising.applyChatTemplate([]), /x: the chat template failed to render \(.*roles must alternate/);
});

test('a SentencePiece-style tokenizer (Metaspace, byte fallback, leading-space strip) gets exact offsets too', () => {
  const pieces = ['▁', 'h', 'e', 'l', 'o', 'w', 'r', 'd', '.', '<0x0A>', '▁h', '▁he', '▁hel', '▁hell', '▁hello', '▁w', '▁wo', '▁wor', '▁worl', '▁world'];
  const specials = ['<unk>', '<s>', '</s>'];
  const vocab = Object.fromEntries([...specials, ...pieces].map((p, i) => [p, i]));
  const special = (content: string) => ({ id: vocab[content], content, special: true, normalized: false, lstrip: false, rstrip: false, single_word: false });
  const json = {
    version: '1.0',
    added_tokens: specials.map(special),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE', dropout: null, unk_token: '<unk>', byte_fallback: true, fuse_unk: true, vocab,
      merges: ['▁ h', '▁h e', '▁he l', '▁hel l', '▁hell o', '▁ w', '▁w o', '▁wo r', '▁wor l', '▁worl d'],
    },
  };
  const sentencePiece = new TextTokenizer(json, { bos_token: '<s>', eos_token: '</s>', clean_up_tokenization_spaces: false }, 'sp');
  const text = 'hello world.\nhello';
  const { ids, offsets } = sentencePiece.encodeWithOffsets(text);
  assert.deepEqual(ids.map((id) => sentencePiece.tokenString(id)), ['▁hello', '▁world', '.', '<0x0A>', 'h', 'e', 'l', 'l', 'o']);
  assert.deepEqual(offsets.map((o) => text.slice(...o)), ['hello', ' world', '.', '\n', 'h', 'e', 'l', 'l', 'o']);
  assert.deepEqual(sentencePiece.encode(text, { addSpecialTokens: true }), [1, ...ids]);
  assert.equal(sentencePiece.bosId, 1);
  assert.deepEqual(sentencePiece.eosIds, [2]);
  assert.equal(sentencePiece.thinkStartId, null);
});
