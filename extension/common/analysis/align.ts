// Step alignment of two replies (baseline vs steered), so the panels can show them side by side:
// a global alignment (Needleman–Wunsch) scoring pairs by the overlap of their words.

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

export function similarity(a: string, b: string): number {
  return wordOverlap(words(a), words(b));
}

/** Jaccard index of two word sets; two empty sets are identical. */
function wordOverlap(wa: Set<string>, wb: Set<string>): number {
  if (wa.size === 0 && wb.size === 0) return 1;
  let shared = 0;
  for (const w of wa) if (wb.has(w)) shared++;
  return shared / (wa.size + wb.size - shared);
}

/** Pairs [i, j] in order; -1 marks a step with no counterpart. Unrelated steps (< minSimilarity) are not paired. */
export function alignSteps(a: readonly string[], b: readonly string[], minSimilarity = 0.2): [number, number][] {
  const gap = 0;
  const score = Array.from({ length: a.length + 1 }, () => new Float64Array(b.length + 1));
  // Each step's words are read once, not once per pair.
  const wordsA = a.map(words);
  const wordsB = b.map(words);
  const sim = (i: number, j: number) => {
    const s = wordOverlap(wordsA[i], wordsB[j]);
    return s >= minSimilarity ? s : -Infinity;
  };
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      score[i][j] = Math.max(score[i - 1][j] + gap, score[i][j - 1] + gap, score[i - 1][j - 1] + sim(i - 1, j - 1));
    }
  }
  const pairs: [number, number][] = [];
  let i = a.length;
  let j = b.length;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && score[i][j] === score[i - 1][j - 1] + sim(i - 1, j - 1)) {
      pairs.push([--i, --j]);
    } else if (i > 0 && (j === 0 || score[i][j] === score[i - 1][j] + gap)) {
      pairs.push([--i, -1]);
    } else {
      pairs.push([-1, --j]);
    }
  }
  return pairs.reverse();
}
