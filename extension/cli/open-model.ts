// Opens a model for a CLI command, with a progress bar while the graph is built the first time.

import { Model, type OpenModelOptions } from '../engine/model';
import { progressBar } from './progress-bar';

export async function openModelWithProgress(dir: string, options: OpenModelOptions = {}): Promise<Model> {
  const bar = progressBar();
  try {
    return await Model.open(dir, { ...options, report: bar.report });
  } finally {
    bar.done();
  }
}
