// The engine on real tokenizers and chat templates (Qwen3, Llama 3.1, Gemma 3, DeepSeek V3,
// R1-Distill-Qwen, Mistral): special tokens are single ids, BOS comes exactly once, the chat prompt is
// what the template itself renders when called as transformers' apply_chat_template calls it, and the
// analyses run end to end on small random models of the real architectures with the real vocabularies.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import mistral from 'mistral-tokenizer-js';
import { TextTokenizer, type ChatMessage } from '../../extension/engine/checkpoint/tokenizer';
import { thinkingPrompt } from '../../extension/engine/analysis/trace-steps';
import { chatPromptIds, directReplyPromptIds, thinkingSwitch } from '../../extension/engine/chat-prompt';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { runCommand } from '../../extension/cli/command';
import { makeModelCommand } from '../../extension/cli/commands/make-model';
import { Model } from '../../extension/engine/model';
import { parseTrace } from '../../extension/common/trace/parse';
import { analyzeDocument } from '../../extension/engine/analysis/analyze-document';
import { buildSealDirection } from '../../extension/engine/analysis/seal';
import { generate } from '../../extension/engine/runtime/generate';
import type { Architecture } from '../../extension/common/model-spec';
import { MISTRAL_CHAT_TEMPLATE, realTokenizer, realTokenizerConfig, realTokenizerDir, type RealTokenizerName } from '../support/real-tokenizers';

/** A special token's text as tokenizer_config.json stores it (a string or an AddedToken object). */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const content = (value as { content?: unknown } | null | undefined)?.content;
  return typeof content === 'string' ? content : undefined;
}

/**
 * The template rendered as transformers' apply_chat_template renders it: the messages as given, the
 * special tokens map (bos/eos/unk/pad and additional_special_tokens), add_generation_prompt, and extra
 * keyword arguments (enable_thinking) as template variables.
 */
function transformersRender(config: Record<string, unknown>, messages: ChatMessage[], addGenerationPrompt: boolean, extra: Record<string, unknown> = {}, template = config.chat_template as string): string {
  const special: Record<string, unknown> = {};
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
    const text = tokenText(config[key]);
    if (text !== undefined) special[key] = text;
  }
  if (Array.isArray(config.additional_special_tokens)) special.additional_special_tokens = config.additional_special_tokens.map(tokenText);
  return new Template(template).render({ messages, add_generation_prompt: addGenerationPrompt, ...special, ...extra });
}

const SYSTEM_USER: ChatMessage[] = [
  { role: 'system', content: 'You are a careful mathematician.' },
  { role: 'user', content: 'What is 17 * 3?' },
];
const MULTI_TURN: ChatMessage[] = [
  { role: 'user', content: 'What is 2 + 2?' },
  { role: 'assistant', content: '<think>\nTwo and two make four.\n</think>\n\nThe answer is \\boxed{4}.' },
  { role: 'user', content: 'And 3 + 5?' },
];

interface Case {
  name: RealTokenizerName;
  /** Special tokens that must each be one id. */
  special: string[];
  /** Whether the vocabulary has <think> / </think>. */
  think: boolean;
  /** The BOS text when the chat prompt starts with one. */
  bos: string | null;
  /** Whether the template accepts a system message (Mistral v0.1's refuses it). */
  system: boolean;
}

const CASES: Case[] = [
  { name: 'qwen3', special: ['<|im_start|>', '<|im_end|>', '<|endoftext|>'], think: true, bos: null, system: true },
  { name: 'llama3_1', special: ['<|begin_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'], think: false, bos: '<|begin_of_text|>', system: true },
  { name: 'gemma3', special: ['<bos>', '<start_of_turn>', '<end_of_turn>'], think: false, bos: '<bos>', system: true },
  { name: 'deepseek_v3', special: ['<｜begin▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>', '<｜end▁of▁sentence｜>'], think: false, bos: '<｜begin▁of▁sentence｜>', system: true },
  { name: 'r1-distill-qwen', special: ['<｜begin▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>', '<｜end▁of▁sentence｜>'], think: true, bos: '<｜begin▁of▁sentence｜>', system: true },
  { name: 'mistral', special: ['<s>', '</s>'], think: false, bos: '<s>', system: false },
];

describe('real tokenizers and chat templates', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      let tokenizer: TextTokenizer;
      let config: Record<string, unknown>;
      before(async () => {
        tokenizer = await realTokenizer(c.name);
        config = realTokenizerConfig(c.name);
      });

      it('encodes special tokens (and <think>, </think> where the vocabulary has them) as single ids', () => {
        for (const token of c.special) assert.equal(tokenizer.encode(token).length, 1, `${token} is one id`);
        if (c.think) {
          assert.deepEqual(tokenizer.encode('<think>'), [tokenizer.thinkStartId]);
          assert.deepEqual(tokenizer.encode('</think>'), [tokenizer.thinkEndId]);
          assert.ok(tokenizer.encode('<think>\nSo 3 + 4 = 7.\n</think>').filter((id) => id === tokenizer.thinkStartId || id === tokenizer.thinkEndId).length === 2);
        } else {
          assert.equal(tokenizer.thinkStartId, null);
        }
      });

      it('renders the chat prompt exactly as the template does for transformers', () => {
        const cases: [ChatMessage[], boolean][] = [[SYSTEM_USER.slice(1), true], [MULTI_TURN, true], [MULTI_TURN, false]];
        if (c.system) cases.push([SYSTEM_USER, true]);
        for (const [messages, addGenerationPrompt] of cases) {
          assert.equal(tokenizer.applyChatTemplate(messages, { addGenerationPrompt }), transformersRender(config, messages, addGenerationPrompt), `${messages.length} messages, generation prompt ${addGenerationPrompt}`);
        }
        if (String(config.chat_template).includes('add_generation_prompt')) {
          const prompt = tokenizer.applyChatTemplate(SYSTEM_USER.slice(1), { addGenerationPrompt: true });
          assert.ok(prompt.length > tokenizer.applyChatTemplate(SYSTEM_USER.slice(1), { addGenerationPrompt: false }).length, 'the generation prompt adds the assistant header');
        }
      });

      it('puts BOS at the start of a chat prompt exactly once, and once before a base model prompt', () => {
        const ids = chatPromptIds(tokenizer, c.system ? SYSTEM_USER : SYSTEM_USER.slice(1));
        if (c.bos === null) {
          assert.equal(tokenizer.bosId, null);
          return;
        }
        assert.equal(tokenizer.bosText, c.bos);
        assert.equal(ids[0], tokenizer.bosId);
        assert.equal(ids.filter((id) => id === tokenizer.bosId).length, 1);
        const plain = tokenizer.encode('What is 17 * 3?', { addSpecialTokens: true });
        assert.equal(plain.filter((id) => id === tokenizer.bosId).length, 1);
        assert.equal(plain[0], tokenizer.bosId);
      });
    });
  }

  it('Qwen3: enable_thinking=false renders the empty thinking block, as transformers passes the keyword to the template', async () => {
    const qwen = await realTokenizer('qwen3');
    const config = realTokenizerConfig('qwen3');
    const off = qwen.applyChatTemplate(SYSTEM_USER, { addGenerationPrompt: true, variables: { enable_thinking: false } });
    assert.equal(off, transformersRender(config, SYSTEM_USER, true, { enable_thinking: false }));
    assert.ok(off.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
    assert.ok(qwen.applyChatTemplate(SYSTEM_USER, { addGenerationPrompt: true }).endsWith('<|im_start|>assistant\n'));
    // What `generate --thinking off` and the engine's enableThinking: false send.
    assert.ok(qwen.decode(chatPromptIds(qwen, SYSTEM_USER, thinkingSwitch(false))).endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
    assert.deepEqual(chatPromptIds(qwen, SYSTEM_USER, thinkingSwitch(undefined)), chatPromptIds(qwen, SYSTEM_USER));
  });

  it("R1: earlier replies lose their thinking and the generation prompt opens it", async () => {
    const r1 = await realTokenizer('r1-distill-qwen');
    const prompt = r1.applyChatTemplate(MULTI_TURN, { addGenerationPrompt: true });
    assert.equal(prompt, '<｜begin▁of▁sentence｜><｜User｜>What is 2 + 2?<｜Assistant｜>\n\nThe answer is \\boxed{4}.<｜end▁of▁sentence｜><｜User｜>And 3 + 5?<｜Assistant｜><think>\n');
  });

  it('Assistant-Axis replies start in the visible answer, not inside <think> (R1, Qwen3), and are plain chat prompts elsewhere', async () => {
    const r1 = await realTokenizer('r1-distill-qwen');
    assert.ok(r1.decode(chatPromptIds(r1, SYSTEM_USER)).endsWith('<｜Assistant｜><think>\n'), 'R1 opens the thinking itself');
    assert.ok(r1.decode(directReplyPromptIds(r1, SYSTEM_USER)).endsWith('<｜Assistant｜><think>\n\n</think>\n\n'));
    const qwen = await realTokenizer('qwen3');
    assert.ok(qwen.decode(directReplyPromptIds(qwen, SYSTEM_USER)).endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
    const llama = await realTokenizer('llama3_1');
    assert.deepEqual(directReplyPromptIds(llama, SYSTEM_USER), chatPromptIds(llama, SYSTEM_USER));
    const sp = await realTokenizer('mistral');
    assert.ok(sp.decode(directReplyPromptIds(sp, SYSTEM_USER)).includes('[INST] You are a careful mathematician.\n\nWhat is 17 * 3? [/INST]'), 'a persona system prompt is folded into the first user turn');
  });

  it('a base model without a chat template reads its BOS first in the analysed prompt, as generate sends it', async () => {
    const { readFile } = await import('node:fs/promises');
    const { chat_template: _, ...baseConfig } = realTokenizerConfig('llama3_1');
    const base = new TextTokenizer(JSON.parse(await readFile(join(realTokenizerDir('llama3_1'), 'tokenizer.json'), 'utf8')), baseConfig, 'llama base');
    assert.equal(base.hasChatTemplate, false);
    const question: ChatMessage[] = [{ role: 'user', content: 'What is 17 * 3?' }];
    const analysed = base.encode(thinkingPrompt(base, question));
    const generated = chatPromptIds(base, question);
    assert.equal(analysed[0], base.bosId);
    assert.equal(analysed.filter((id) => id === base.bosId).length, 1);
    assert.equal(generated[0], base.bosId);
  });

  it('Mistral: the SentencePiece file encodes as mistral-tokenizer-js does', async () => {
    const sp = await realTokenizer('mistral');
    for (const text of ['Hello world', 'Let me think.\n\nWait, 3 + 4 = 7!', 'Café – naïve 日本語 🙂', '  two spaces']) {
      assert.deepEqual(sp.encode(text, { addSpecialTokens: true }), mistral.encode(text), text);
    }
  });

  it('folds a system message into the first user turn where the template refuses the system role (Mistral, Gemma 2)', async () => {
    const sp = await realTokenizer('mistral');
    assert.equal(
      sp.applyChatTemplate(SYSTEM_USER, { addGenerationPrompt: true }),
      transformersRender(realTokenizerConfig('mistral'), [{ role: 'user', content: 'You are a careful mathematician.\n\nWhat is 17 * 3?' }], true, {}, MISTRAL_CHAT_TEMPLATE),
    );
    const gemma2 = new TextTokenizer(
      JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(join(realTokenizerDir('gemma3'), 'tokenizer.json'), 'utf8'))),
      { ...realTokenizerConfig('gemma3'), chat_template: GEMMA2_CHAT_TEMPLATE },
      'gemma2',
    );
    assert.equal(
      gemma2.applyChatTemplate(SYSTEM_USER, { addGenerationPrompt: true }),
      '<bos><start_of_turn>user\nYou are a careful mathematician.\n\nWhat is 17 * 3?<end_of_turn>\n<start_of_turn>model\n',
    );
  });
});

/** Gemma 2's chat template (google/gemma-2-*-it): a system message raises "System role not supported". */
const GEMMA2_CHAT_TEMPLATE =
  "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}";

const REASONING = [
  'Okay, so I need to find 17 * 3.',
  '17 * 3 is 10 * 3 + 7 * 3 = 30 + 21 = 51.',
  'Wait, let me check: 51 / 3 = 17, yes!',
  'Alternatively, 3 * 17 = 51 as well.',
  'So the answer is 51.',
].join('\n\n');

const TRACE = JSON.stringify({
  messages: [
    { role: 'system', content: 'You are a careful mathematician.' },
    { role: 'user', content: 'What is 17 * 3?' },
    { role: 'assistant', reasoning_content: REASONING, content: 'The answer is \\boxed{51}.' },
  ],
});

// Small random models of the real architectures with the real vocabularies (the embedding has a row per id).
const MODELS: [RealTokenizerName, Architecture][] = [
  ['r1-distill-qwen', 'qwen2'],
  ['qwen3', 'qwen3'],
  ['llama3_1', 'llama'],
  ['gemma3', 'gemma2'],
  ['mistral', 'mistral'],
];

describe('True Thinking Score, SEAL and generation end to end on real vocabularies', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'real-vocab-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const [name, arch] of MODELS) {
    it(`${name} (${arch})`, async () => {
      const dir = join(root, name);
      await makeModel({ preset: 'tiny', arch, outDir: dir, seed: 3, tokenizerDir: realTokenizerDir(name) });
      const model = await Model.open(dir, { cacheRoot: join(root, 'cache') });
      try {
        const tokenizer = model.tokenizer;
        assert.ok(model.spec.vocabSize >= tokenizer.size, 'every id has an embedding row');
        const trace = parseTrace(TRACE);
        // SentencePiece (Mistral) spells a blank line as two "\n" byte tokens: the second is its boundary token.
        const direction = await buildSealDirection(model, [{ name: 'trace', trace }]);
        assert.ok(direction.meta.counts.execution > 0 && direction.meta.counts.reflection + direction.meta.counts.transition > 0, JSON.stringify(direction.meta.counts));
        const { file } = await analyzeDocument(trace, {
          name: 'trace.json', toolVersion: 'test', segmentation: 'sentence', model,
          tts: {}, seal: { direction }, persona: null,
        });
        assert.equal(file.settings.answer, '51');
        const scored = file.steps.filter((step) => step.tts !== null);
        assert.ok(scored.length >= 3, `${scored.length} steps scored`);
        for (const step of scored) for (const s of [step.s11!, step.s01!, step.s10!, step.s00!]) assert.ok(s > 0 && s <= 1 && Number.isFinite(Math.log(s)));
        assert.ok(file.steps.some((step) => step.sealClass === 'reflection') && file.steps.some((step) => step.sealClass === 'transition'));
        assert.ok(file.steps.filter((step) => typeof step.latentScore === 'number').length >= file.steps.length - 1, 'the steps have latent SEAL scores');

        const prompt = chatPromptIds(tokenizer, name === 'mistral' ? [{ role: 'user', content: 'What is 17 * 3?' }] : [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is 17 * 3?' }]);
        const generated: number[] = [];
        for await (const token of generate(model.session, prompt, { maxTokens: 6, temperature: 0, stopTokens: tokenizer.eosIds })) generated.push(token.id);
        assert.ok(generated.length >= 1 && generated.every((id) => id >= 0 && id < model.spec.vocabSize));
      } finally {
        await model.close();
      }
    });
  }
});

describe('make-model --tokenizer', () => {
  it("gives the model a real checkpoint's tokenizer, template and special ids (Qwen3)", async () => {
    const root = await mkdtemp(join(tmpdir(), 'make-model-tokenizer-'));
    try {
      const out = join(root, 'model');
      await runCommand(makeModelCommand, ['--preset', 'tiny', '--tokenizer', realTokenizerDir('qwen3'), '--out', out], { signal: new AbortController().signal });
      const real = await TextTokenizer.fromFolder(realTokenizerDir('qwen3'));
      const model = await Model.open(out, { cacheRoot: join(root, 'cache') });
      try {
        assert.equal(model.tokenizer.size, real.size);
        assert.ok(model.spec.vocabSize >= real.size, 'every id has an embedding row');
        assert.deepEqual(model.tokenizer.encode('<think>\n17 * 3 = 51\n</think>'), real.encode('<think>\n17 * 3 = 51\n</think>'));
        const generation = JSON.parse(await readFile(join(out, 'generation_config.json'), 'utf8')) as { eos_token_id: number[] };
        assert.deepEqual(generation.eos_token_id, [...real.eosIds]);
        const messages: ChatMessage[] = [{ role: 'user', content: 'What is 17 * 3?' }];
        assert.deepEqual(chatPromptIds(model.tokenizer, messages), chatPromptIds(real, messages));
      } finally {
        await model.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
