// The words of a progress notification: the engine's message, "12 of 37" unless the message says it
// already, and an estimate of the time left from the pace so far in the same phase.

/** "about 40 s left", "about 3 min left", "about 1 h 5 min left". */
export function formatTimeLeft(seconds: number): string {
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds / 5) * 5)} s left`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `about ${minutes} min left` : `about ${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

export interface ProgressPoint {
  message: string;
  done: number;
  total: number;
}

/**
 * Follows one phase after another (a phase is a message stem and a total) and words each update.
 * The estimate needs two updates of a phase a second apart, so a phase's first moments say none.
 */
export class ProgressWords {
  private phase = '';
  private startedAt = 0;
  private startedDone = 0;

  constructor(private readonly now: () => number = Date.now) {}

  words({ message, done, total }: ProgressPoint): string {
    if (total <= 0) return message;
    const phase = `${message.replace(/\d+/g, '#')}|${total}`;
    if (phase !== this.phase) {
      this.phase = phase;
      this.startedAt = this.now();
      this.startedDone = done;
    }
    const counted = message.includes(`of ${total}`) || total === 1 ? message : `${message} — ${done} of ${total}`;
    const elapsed = (this.now() - this.startedAt) / 1000;
    const progressed = done - this.startedDone;
    if (progressed <= 0 || elapsed < 1 || done >= total) return counted;
    return `${counted}, ${formatTimeLeft((elapsed / progressed) * (total - done))}`;
  }
}
