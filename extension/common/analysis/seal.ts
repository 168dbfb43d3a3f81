// SEAL's keyword classifier of thinking steps (algorithms.md §2.2): the original order
// (reflection before transition), case-insensitive, on the stripped step, with the authors'
// "think differenly" typo fixed. Curly apostrophes count as straight ones ("it’s correct").

import type { SealClass } from '../trace/types';

export interface SealKeywordList {
  /** Matches when the step starts with one of these. */
  startsWith: string[];
  /** Matches when the step contains one of these anywhere. */
  contains: string[];
}

export interface SealKeywords {
  reflection: SealKeywordList;
  transition: SealKeywordList;
}

export interface SealClassification {
  cls: SealClass;
  /** The keyword that matched, as written in the list; null for execution. */
  keyword: string | null;
}

export const DEFAULT_SEAL_KEYWORDS: SealKeywords = {
  reflection: {
    startsWith: ['Wait'],
    contains: ['verify', 'make sure', 'hold on', 'think again', "'s correct", "'s incorrect", 'Let me check', 'seems right'],
  },
  transition: {
    startsWith: ['Alternatively'],
    contains: ['think differently', 'another way', 'another approach', 'another method', 'another solution', 'another strategy', 'another technique'],
  },
};

export function classifyStep(text: string, keywords: SealKeywords = DEFAULT_SEAL_KEYWORDS): SealClassification {
  const step = normalise(text.trim());
  for (const cls of ['reflection', 'transition'] as const) {
    const list = keywords[cls];
    const keyword = list.startsWith.find((word) => step.startsWith(normalise(word))) ?? list.contains.find((word) => step.includes(normalise(word)));
    if (keyword !== undefined) return { cls, keyword };
  }
  return { cls: 'execution', keyword: null };
}

/** Checks keyword lists read from settings; throws an Error naming the first entry that is wrong. */
export function validateSealKeywords(value: unknown): SealKeywords {
  const shape = 'expected {"reflection": {"startsWith": [...], "contains": [...]}, "transition": {...}} with non-empty strings';
  if (!isObject(value)) throw new Error(`SEAL keywords: ${shape}`);
  for (const cls of ['reflection', 'transition'] as const) {
    const list = value[cls];
    if (!isObject(list)) throw new Error(`SEAL keywords: "${cls}" is missing; ${shape}`);
    for (const kind of ['startsWith', 'contains'] as const) {
      const words = list[kind];
      if (!Array.isArray(words)) throw new Error(`SEAL keywords: "${cls}.${kind}" must be an array of strings`);
      const bad = words.findIndex((word) => typeof word !== 'string' || word.trim() === '');
      if (bad !== -1) throw new Error(`SEAL keywords: "${cls}.${kind}[${bad}]" must be a non-empty string; found ${JSON.stringify(words[bad])}`);
    }
  }
  return value as unknown as SealKeywords;
}

function normalise(text: string): string {
  return text.toLowerCase().replace(/\u2019/g, "'");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
