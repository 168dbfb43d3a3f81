// Analysed traces that survive a window reload: kept in this workspace's storage, or in a sidecar
// trace file beside the document (`notes.md` → `notes.md.thinktrace.json`), as the user chooses
// (`thinkscope.results.keep`). A document gets its results back when it is opened with the same text
// it was analysed with; a sidecar is written complete or not at all (temp name, then rename).

import * as vscode from 'vscode';
import type { TraceFile } from '../common/bundle/trace-file';
import { parseTraceFile } from '../common/bundle/trace-load';
import { serializeTraceFile } from '../common/bundle/trace-write';
import type { TraceResults } from './contracts';
import { writeAtomically } from './written-files';

export type KeepResults = 'workspace' | 'sidecar' | 'off';

const STATE_KEY = 'thinkscope.results';
const SAVE_DELAY_MS = 500;

export function keepResults(): KeepResults {
  const keep = vscode.workspace.getConfiguration('thinkscope').get<string>('results.keep', 'workspace');
  return keep === 'sidecar' || keep === 'off' ? keep : 'workspace';
}

/** The sidecar trace file of a document. */
export function sidecarOf(uri: vscode.Uri): vscode.Uri {
  return uri.with({ path: `${uri.path}.thinktrace.json` });
}

async function readSidecar(uri: vscode.Uri): Promise<TraceFile | undefined> {
  try {
    return parseTraceFile(new TextDecoder().decode(await vscode.workspace.fs.readFile(sidecarOf(uri))));
  } catch {
    return undefined;
  }
}

export function registerResultPersistence(state: vscode.Memento, results: TraceResults, log: vscode.LogOutputChannel): vscode.Disposable {
  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  /** Documents whose results this code is putting back: restoring must not write them again. */
  const restoring = new Set<string>();
  const stored = () => state.get<Record<string, TraceFile>>(STATE_KEY) ?? {};

  async function save(uri: vscode.Uri): Promise<void> {
    const file = results.get(uri);
    const keep = keepResults();
    const key = uri.toString();
    if (keep !== 'workspace' && key in stored()) await state.update(STATE_KEY, Object.fromEntries(Object.entries(stored()).filter(([k]) => k !== key)));
    if (keep === 'workspace') {
      const all = { ...stored() };
      if (file) all[key] = file;
      else delete all[key];
      await state.update(STATE_KEY, all);
    } else if (keep === 'sidecar') {
      if (file) await writeAtomically(sidecarOf(uri), serializeTraceFile(file));
      else await vscode.workspace.fs.delete(sidecarOf(uri)).then(undefined, () => undefined);
    }
  }

  async function restore(document: vscode.TextDocument): Promise<void> {
    const { uri } = document;
    if (uri.scheme !== 'file' || results.get(uri)) return;
    const keep = keepResults();
    const file = keep === 'workspace' ? stored()[uri.toString()] : keep === 'sidecar' ? await readSidecar(uri) : undefined;
    // Results of other text would sit on the wrong words: a document changed since is analysed again.
    if (!file || file.source.text !== document.getText() || results.get(uri)) return;
    restoring.add(uri.toString());
    try {
      results.set(uri, file);
    } finally {
      restoring.delete(uri.toString());
    }
    log.info(`restored the analysis of ${uri.path.split('/').pop()} (${file.steps.length} steps)`);
  }

  const restoreAll = () => vscode.workspace.textDocuments.forEach((document) => void restore(document));
  restoreAll();
  return vscode.Disposable.from(
    results.onDidChange(({ uri }) => {
      const key = uri.toString();
      if (uri.scheme !== 'file' || restoring.has(key) || keepResults() === 'off') return;
      // Snapshots stream in while an analysis runs: write once they settle.
      clearTimeout(pending.get(key));
      pending.set(
        key,
        setTimeout(() => {
          pending.delete(key);
          save(uri).catch((error: unknown) => log.error(`could not keep the results of ${uri.path}: ${error instanceof Error ? error.message : String(error)}`));
        }, SAVE_DELAY_MS),
      );
    }),
    vscode.workspace.onDidOpenTextDocument((document) => void restore(document)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('thinkscope.results.keep')) restoreAll();
    }),
    { dispose: () => pending.forEach((timer) => clearTimeout(timer)) },
  );
}
