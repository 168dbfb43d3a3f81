// SEAL's step-boundary tokens on real vocabularies: the token holding the newline that ends a blank line,
// whether the tokenizer has a "\n\n" token (Qwen3, Llama 3.1, Gemma 3, R1) or spells it as two "\n"
// byte tokens (Mistral's SentencePiece), found alike in a whole tokenized text (what the SEAL vector
// reads) and token by token as generation produces them (where calibration steers).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closesStep, separatorScan } from '../../extension/common/trace/step-separator';
import { stepCloseTracker, stepClosingTokens } from '../../extension/engine/analysis/step-boundary';
import { realTokenizer, type RealTokenizerName } from '../support/real-tokenizers';

const PROMPT = 'What is 2 + 3?\n<think>\n';
const THINKING = 'Add 2 and 3.\n\nWait, check it: 2 + 3 = 5.\n\n\nSo the sum is 5.\n \nAlternatively, count up.\n\n</think>\n\n5';
/** Newlines that end a blank line (only spaces, tabs or "\r" since the newline before), as the SEAL paper's "\n\n". */
const BLANK_LINE_END = /(?<=\n[ \t\r]*)\n/g;

/** Reference, independent of offsets: token i closes a step when decoding through it adds a blank-line end. */
function closingByPrefixDecode(tokenizer: Awaited<ReturnType<typeof realTokenizer>>, ids: number[]): boolean[] {
  const count = (n: number) => [...tokenizer.decode(ids.slice(0, n)).matchAll(BLANK_LINE_END)].length;
  return ids.map((_, i) => count(i + 1) > count(i));
}

describe('step-boundary tokens on real tokenizers', () => {
  for (const name of ['qwen3', 'llama3_1', 'gemma3', 'r1-distill-qwen', 'mistral'] satisfies RealTokenizerName[]) {
    it(name, async () => {
      const tokenizer = await realTokenizer(name);
      const text = PROMPT + THINKING;
      const tokenized = tokenizer.encodeWithOffsets(text);
      const closing = stepClosingTokens(text, tokenized);
      assert.deepEqual(closing, closingByPrefixDecode(tokenizer, tokenized.ids));
      // Every separator (segment.ts's paragraph break) has a boundary token among its characters, however "\n\n" was split.
      const separators = [...text.matchAll(/\n[ \t]*\r?\n/g)];
      assert.equal(separators.length, 5);
      for (const { index, 0: separator } of separators) {
        const [start, end] = [index, index + separator.length];
        assert.ok(tokenized.offsets.some(([from, to], i) => closing[i] && from < end && to > start), `separator at ${index}`);
      }

      // Generation: the same tokens, decided one at a time after the prompt.
      const promptIds = tokenizer.encode(PROMPT);
      const generated = tokenizer.encode(text).slice(promptIds.length);
      assert.deepEqual(tokenizer.encode(text).slice(0, promptIds.length), promptIds, 'the prompt tokenizes alike alone and with the thinking');
      const tracker = stepCloseTracker(tokenizer, promptIds);
      const decided = generated.map((id, i) => tracker({ position: promptIds.length + i, inputToken: id, generated: generated.slice(0, i + 1) }));
      assert.deepEqual(decided, closing.slice(promptIds.length));
    });
  }

  it('Mistral has no "\\n\\n" token: the second of its two "\\n" byte tokens closes the step', async () => {
    const tokenizer = await realTokenizer('mistral');
    const text = 'Add 2 and 3.\n\nWait, check it.';
    const tokenized = tokenizer.encodeWithOffsets(text);
    const newlines = tokenized.ids.flatMap((id, i) => (tokenizer.tokenText(id) === '\n' ? [i] : []));
    assert.equal(newlines.length, 2, 'the blank line is two byte tokens');
    assert.deepEqual(stepClosingTokens(text, tokenized).flatMap((c, i) => (c ? [i] : [])), [newlines[1]]);
  });
});

describe('blank-line ends by characters', () => {
  it('fed whole or piece by piece, marks the newline that ends a blank line, whatever the spaces, tabs or "\\r" on it', () => {
    const cases: [string[], boolean[]][] = [
      [['a.', '\n', '\n', 'b'], [false, false, true, false]],
      [['a.\n\n', 'b'], [true, false]],
      [['a\n', ' \t\r', '\n'], [false, false, true]],
      [['a\n', 'x\n', 'y'], [false, false, false]],
      [['\n', '\n', '\n'], [false, true, true]],
    ];
    for (const [pieces, expected] of cases) {
      const scan = separatorScan();
      assert.deepEqual(pieces.map((p) => closesStep(p, scan)), expected, JSON.stringify(pieces));
    }
  });
});
