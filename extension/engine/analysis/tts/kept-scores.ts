// The steps a True Thinking run finished, kept in the cache so that a cancelled run of the same document
// can go on where it stopped. One small file per document, replaced atomically after every pack of
// steps, holds the scores with every input they depend on: the model, the trace's text, the TTS
// options, the tokens of every question and the packs the steps were answered in. A run uses them only
// when all of these are the same, so a resumed run equals an uninterrupted one exactly; otherwise it
// starts over and says what changed.

import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { version } from '../../../../package.json';
import type { ModelFingerprint } from '../../../common/bundle/trace-file';
import type { TtsResumeEvent } from '../../../common/protocol';
import { writeFileAtomically } from '../../atomic-write';
import { defaultCacheRoot } from '../../runtime/graph-cache';
import type { KeptScores, StepScore } from './compute';
import type { TtsLayout } from './layout';

const FORMAT = 3;
/** Documents whose steps are kept at most; the oldest go first. */
const FILES_KEPT = 32;

/** The settings of a run a user chooses, compared one by one to say which changed. */
export interface TtsRunSettings {
  segmentation: string;
  conversation: number;
  lastTokens: number | null;
  cue: string;
  answer: string;
  answerFrom: 'trace' | 'model';
  seed: number;
}

/** Everything a run's scores depend on. */
export interface TtsRunInputs {
  model: ModelFingerprint;
  /** The trace's text as the engine read it. */
  text: string;
  settings: TtsRunSettings;
  layout: TtsLayout;
}

/** How a run takes part in resuming: which document it scores, and who hears what became of kept steps. */
export interface ResumeOptions {
  store: KeptScoresStore;
  /** The document the trace comes from (a path or URI), with the conversation: one kept run per document. */
  document: string;
  /** Drop the steps a cancelled run kept and score every step again. */
  restart?: boolean;
  onEvent?: (event: TtsResumeEvent) => void;
}

/** A run's inputs as they are kept and compared: the trace and the layout by their hashes, computed once a run. */
interface RunIdentity {
  model: ModelFingerprint;
  text: string;
  settings: TtsRunSettings;
  layout: string;
}

function runIdentity(inputs: TtsRunInputs): RunIdentity {
  return { model: inputs.model, text: sha256(inputs.text), settings: inputs.settings, layout: sha256(JSON.stringify(inputs.layout)) };
}

interface KeptFile extends RunIdentity {
  format: number;
  /** The ThinkScope version that computed the scores: another one may compute their last bits otherwise. */
  version: string;
  /** The document's hash: a client names documents, and a name may be long. */
  document: string;
  packs: number[];
  scores: StepScore[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class KeptScoresStore {
  /** Files this store wrote: the folder is pruned when a file is first written, not after every pack. */
  private readonly written = new Set<string>();

  constructor(readonly folder: string) {}

  /** The engine's store, beside its graph cache. */
  static inCache(cacheRoot = defaultCacheRoot()): KeptScoresStore {
    return new KeptScoresStore(join(cacheRoot, '.tts-resume'));
  }

  private path(document: string): string {
    return join(this.folder, `${sha256(document).slice(0, 32)}.json`);
  }

  /**
   * The steps kept for these exact inputs, or null with the reason they cannot be used (null reason:
   * none were kept for the document). `packs` are the packs this run would use on its own.
   */
  async find(document: string, identity: RunIdentity, total: number): Promise<{ kept: KeptScores } | { kept: null; reason: string | null }> {
    let text: string;
    try {
      text = await readFile(this.path(document), 'utf8');
    } catch {
      return { kept: null, reason: null };
    }
    let file: KeptFile;
    try {
      file = JSON.parse(text) as KeptFile;
    } catch {
      return { kept: null, reason: "the cancelled run's kept steps could not be read" };
    }
    if (file.format !== FORMAT || file.version !== version || file.document !== sha256(document)) return { kept: null, reason: "the cancelled run's steps were kept by another version of ThinkScope" };
    const reason = whatChanged(file, identity);
    if (reason) return { kept: null, reason };
    if (!validScores(file, total)) return { kept: null, reason: "the cancelled run's kept steps could not be read" };
    return { kept: { packs: file.packs, scores: file.scores } };
  }

  async save(document: string, identity: RunIdentity, kept: KeptScores): Promise<void> {
    const file: KeptFile = { format: FORMAT, version, document: sha256(document), ...identity, packs: kept.packs, scores: kept.scores };
    const path = this.path(document);
    await writeFileAtomically(path, JSON.stringify(file));
    if (!this.written.has(path)) {
      this.written.add(path);
      await this.prune();
    }
  }

  async drop(document: string): Promise<void> {
    await rm(this.path(document), { force: true });
  }

  /** Keeps the most recently written files only. */
  private async prune(): Promise<void> {
    const names = (await readdir(this.folder).catch(() => [] as string[])).filter((name) => /^[0-9a-f]{32}\.json$/.test(name));
    if (names.length <= FILES_KEPT) return;
    const dated = await Promise.all(names.map(async (name) => ({ name, time: (await stat(join(this.folder, name)).catch(() => null))?.mtimeMs ?? 0 })));
    dated.sort((a, b) => b.time - a.time);
    await Promise.all(dated.slice(FILES_KEPT).map(({ name }) => rm(join(this.folder, name), { force: true })));
  }
}

const SETTING_WORDS: Record<keyof TtsRunSettings, string> = {
  segmentation: 'the segmentation',
  conversation: 'the conversation',
  lastTokens: 'the last-tokens limit',
  cue: 'the cue',
  answer: 'the answer scored',
  answerFrom: 'whose answer is scored',
  seed: 'the perturbation seed',
};

/** What differs between the kept run's inputs and these, in words; null when nothing does. */
function whatChanged(file: KeptFile, identity: RunIdentity): string | null {
  const was = file.model;
  const now = identity.model;
  if (JSON.stringify(was) !== JSON.stringify(now)) {
    if (was.name !== now.name) return `the cancelled run used the model ${was.name}, this one ${now.name}`;
    if (was.precision !== now.precision) return `the cancelled run used ${was.precision} precision, this one ${now.precision}`;
    return `the weights of ${now.name} changed since the cancelled run`;
  }
  if (file.text !== identity.text) return 'the trace changed since the cancelled run';
  const changed = (Object.keys(SETTING_WORDS) as (keyof TtsRunSettings)[]).filter((key) => JSON.stringify(file.settings?.[key]) !== JSON.stringify(identity.settings[key]));
  if (changed.length > 0) return `${changed.map((key) => SETTING_WORDS[key]).join(', ')} changed since the cancelled run`;
  if (file.layout !== identity.layout) return "the model's tokenizer reads the trace as other tokens than in the cancelled run";
  return null;
}

/** Scores of whole packs, in step order, of a partition of the steps. */
function validScores(file: KeptFile, total: number): boolean {
  const { packs, scores } = file;
  if (!Array.isArray(packs) || !Array.isArray(scores) || packs.length === 0 || packs.at(-1) !== total) return false;
  if (!packs.every((end, i) => Number.isInteger(end) && end > (i === 0 ? 0 : packs[i - 1]))) return false;
  if (scores.length > 0 && !packs.includes(scores.length)) return false;
  const probability = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;
  return scores.every((s, i) =>
    s?.index === i && (s.perturbable
      ? probability(s.s11) && probability(s.s01) && probability(s.s10) && probability(s.s00) && typeof s.tts === 'number'
      : s.tts === null && s.s11 === null && s.s01 === null && s.s10 === null && s.s00 === null),
  );
}

/**
 * Runs `score` resuming from what a cancelled run of the document kept for these inputs, keeping this
 * run's steps after every pack; says what it did through `options.onEvent`.
 */
export async function resumable(options: ResumeOptions, inputs: TtsRunInputs, score: (run: { kept?: KeptScores; onPack: (kept: KeptScores) => Promise<void> }) => Promise<StepScore[]>): Promise<StepScore[]> {
  const total = inputs.layout.perturbable.length;
  const identity = runIdentity(inputs);
  let kept: KeptScores | undefined;
  if (options.restart) await options.store.drop(options.document);
  else {
    const found = await options.store.find(options.document, identity, total);
    if (found.kept) {
      kept = found.kept;
      if (kept.scores.length > 0) options.onEvent?.({ kind: 'resumed', kept: kept.scores.length, total });
    } else if (found.reason) options.onEvent?.({ kind: 'startedOver', reason: found.reason });
  }
  return score({
    kept,
    onPack: async (now) => {
      await options.store.save(options.document, identity, now);
      options.onEvent?.({ kind: 'kept', kept: now.scores.length, total });
    },
  });
}
