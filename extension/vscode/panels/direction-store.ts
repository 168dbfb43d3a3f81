// The directions loaded into the steering view, remembered across sessions (their metadata, so a
// restored panel lists them without asking the engine again).
import * as vscode from 'vscode';
import type { LoadedDirection } from '../../common/webview-protocol';

const STORAGE_KEY = 'thinkscope.panel.directions';
/** Folders the user removed from the panel: not listed again just because another command knows them. */
const REMOVED_KEY = 'thinkscope.panel.removedDirections';

export class DirectionStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<LoadedDirection[]>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly memento: vscode.Memento) {}

  all(): LoadedDirection[] {
    const stored = this.memento.get<unknown>(STORAGE_KEY);
    return Array.isArray(stored) ? stored.filter(isLoadedDirection) : [];
  }

  /** Adds a direction, replacing one loaded from the same folder. */
  async add(direction: LoadedDirection): Promise<void> {
    const all = this.all().filter((d) => d.path !== direction.path).concat(direction);
    await this.memento.update(STORAGE_KEY, all);
    await this.memento.update(REMOVED_KEY, this.removed().filter((path) => path !== direction.path));
    this.changed.fire(all);
  }

  async remove(path: string): Promise<void> {
    const all = this.all().filter((d) => d.path !== path);
    await this.memento.update(STORAGE_KEY, all);
    await this.memento.update(REMOVED_KEY, [...new Set([...this.removed(), path])]);
    this.changed.fire(all);
  }

  /** Whether a folder is neither listed nor removed by the user: a candidate to list. */
  isNew(path: string): boolean {
    return !this.all().some((d) => d.path === path) && !this.removed().includes(path);
  }

  private removed(): string[] {
    const stored = this.memento.get<unknown>(REMOVED_KEY);
    return Array.isArray(stored) ? stored.filter((p): p is string => typeof p === 'string') : [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function isLoadedDirection(value: unknown): value is LoadedDirection {
  const d = value as LoadedDirection | null;
  return typeof d === 'object' && d !== null && typeof d.path === 'string' && typeof d.name === 'string' && typeof d.method === 'string' && Array.isArray(d.layers) && typeof d.details === 'object';
}
