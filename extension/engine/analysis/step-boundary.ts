// SEAL's step-boundary tokens (algorithms.md §2), one rule for reading them and for steering them: a
// token closes a step when its text holds the newline that ends a blank line (step-separator.ts), however
// the tokenizer splits "\n\n". The SEAL vector reads the hidden states at these tokens in a trace;
// calibration adds −c·v at them, deciding for each generated token as it comes.

import { closesStep, separatorScan, stepClosingSpans } from '../../common/trace/step-separator';
import type { TextTokenizer, TokenOffsets } from '../checkpoint/tokenizer';
import type { StepContext } from '../runtime/generate';

/** Tokens of left context for decoding a generated token (enough for any decoder's look-behind). */
const DECODE_CONTEXT = 4;

/** Per token of `text` tokenized with offsets, whether it closes a step. */
export function stepClosingTokens(text: string, { offsets }: Pick<TokenOffsets, 'offsets'>): boolean[] {
  return stepClosingSpans(text, offsets);
}

/**
 * Whether each generated token closes a step, decided from its text in context as it comes; the scan
 * starts from the end of the prompt's text (a prompt ending in "<think>\n" makes a first "\n" a blank
 * line, as reading the same text whole would). Steps must be asked about in order.
 */
export function stepCloseTracker(tokenizer: Pick<TextTokenizer, 'appendedText'>, promptIds: readonly number[]): (step: StepContext) => boolean {
  const scan = separatorScan();
  const tail = promptIds.slice(-DECODE_CONTEXT);
  tail.forEach((id, i) => closesStep(tokenizer.appendedText(tail.slice(Math.max(0, i - DECODE_CONTEXT), i), id), scan));
  const recent = [...tail];
  let seen = 0;
  let closes = false;
  return (step) => {
    // Catch up on the tokens generated since the last call (the input token included).
    for (; seen < step.generated.length; seen++) {
      const id = step.generated[seen];
      closes = closesStep(tokenizer.appendedText(recent, id), scan);
      recent.push(id);
      if (recent.length > DECODE_CONTEXT) recent.shift();
    }
    return closes;
  };
}
