// Progress on stderr: a redrawn bar on a terminal, a line per change of message otherwise.

import type { ProgressUpdate } from '../engine/runtime/progress';
import { ProgressWords } from '../common/progress-text';

export function progressBar(stream: NodeJS.WriteStream = process.stderr): { report: (u: ProgressUpdate) => void; done: () => void } {
  let lastMessage = '';
  let drawn = false;
  // The words VS Code's notification shows: "step 12 of 37" once, and the time left in the phase.
  const words = new ProgressWords();
  return {
    report(update) {
      if (stream.isTTY) {
        const width = 20;
        const fraction = update.total > 0 ? Math.min(1, update.done / update.total) : 0;
        const filled = Math.round(fraction * width);
        const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${words.words(update)}`;
        stream.write(`\r\x1b[K${bar.slice(0, (stream.columns ?? 100) - 1)}`);
        drawn = true;
      } else if (update.message !== lastMessage) {
        stream.write(`${update.message}\n`);
      }
      lastMessage = update.message;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
