// A real byte-level BPE tokenizer (the Qwen2 layout: NFC, the Qwen2 regex split, GPT-2 byte-to-unicode
// alphabet) whose merges are learned from the bundled corpus. Training is deterministic: the most
// frequent pair wins, ties go to the lexicographically smallest pair.
import { TRAINING_CORPUS } from './corpus';

export const SPECIAL_TOKENS = {
  endOfText: '<|endoftext|>',
  imStart: '<|im_start|>',
  imEnd: '<|im_end|>',
  thinkStart: '<think>',
  thinkEnd: '</think>',
} as const;

/** The split pattern written into tokenizer.json (Oniguruma syntax, as Qwen2 ships it). */
const QWEN2_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** The same pattern for JavaScript, used only to pre-split the training corpus. */
const QWEN2_SPLIT_REGEX =
  /'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

export interface TrainedTokenizer {
  tokenizerJson: Record<string, unknown>;
  /** Token id of each special token. */
  specialIds: Record<keyof typeof SPECIAL_TOKENS, number>;
  /** Number of ids in use (vocab plus added tokens). */
  size: number;
}

/**
 * GPT-2's reversible map from bytes to printable characters. Printable bytes stand for themselves, the
 * others take code points from 256 up; ids 0..255 list the printable bytes first, then the others.
 */
function byteLevelAlphabet(): { charOfByte: string[]; bytesInIdOrder: number[] } {
  const isPrintable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const charOfByte = new Array<string>(256);
  const printable: number[] = [];
  const others: number[] = [];
  for (let b = 0; b < 256; b++) {
    if (isPrintable(b)) {
      charOfByte[b] = String.fromCharCode(b);
      printable.push(b);
    } else {
      charOfByte[b] = String.fromCharCode(256 + others.length);
      others.push(b);
    }
  }
  return { charOfByte, bytesInIdOrder: [...printable, ...others] };
}

/** Learns up to `maxMerges` merges (pairs seen at least twice) from the corpus. */
export function learnMerges(corpus: string, maxMerges: number): [string, string][] {
  const { charOfByte } = byteLevelAlphabet();
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const piece of corpus.normalize('NFC').match(QWEN2_SPLIT_REGEX) ?? []) {
    const mapped = Array.from(encoder.encode(piece), (b) => charOfByte[b]).join('');
    wordCounts.set(mapped, (wordCounts.get(mapped) ?? 0) + 1);
  }
  const words = [...wordCounts].map(([word, count]) => ({ symbols: Array.from(word), count }));
  const merges: [string, string][] = [];
  while (merges.length < maxMerges) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | null = null;
    let bestCount = 1;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== null && key < best)) [best, bestCount] = [key, count];
    }
    if (best === null) break;
    const [left, right] = best.split(' ') as [string, string];
    merges.push([left, right]);
    for (const word of words) word.symbols = mergePair(word.symbols, left, right);
  }
  return merges;
}

function mergePair(symbols: string[], left: string, right: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right);
      i++;
    } else out.push(symbols[i]);
  }
  return out;
}

let cached: TrainedTokenizer | undefined;

/** The tokenizer.json of generated models (trained once per process; the result never changes). */
export function trainedTokenizer(): TrainedTokenizer {
  if (cached) return cached;
  const merges = learnMerges(TRAINING_CORPUS, 1200);
  const vocab: Record<string, number> = {};
  const { charOfByte, bytesInIdOrder } = byteLevelAlphabet();
  bytesInIdOrder.forEach((b, id) => (vocab[charOfByte[b]] = id));
  for (const [a, b] of merges) vocab[a + b] ??= Object.keys(vocab).length;
  const firstAdded = Object.keys(vocab).length;
  const names = Object.keys(SPECIAL_TOKENS) as (keyof typeof SPECIAL_TOKENS)[];
  const specialIds = Object.fromEntries(names.map((name, i) => [name, firstAdded + i])) as TrainedTokenizer['specialIds'];
  const addedTokens = names.map((name, i) => ({
    id: firstAdded + i,
    content: SPECIAL_TOKENS[name],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    // Like Qwen3: <think> and </think> survive skip_special_tokens, the chat markers do not.
    special: name !== 'thinkStart' && name !== 'thinkEnd',
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  cached = {
    specialIds,
    size: firstAdded + names.length,
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokens,
      normalizer: { type: 'NFC' },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: QWEN2_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
          byteLevel,
        ],
      },
      post_processor: byteLevel,
      decoder: byteLevel,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        byte_fallback: false,
        vocab,
        merges: merges.map(([a, b]) => `${a} ${b}`),
      },
    },
  };
  return cached;
}
