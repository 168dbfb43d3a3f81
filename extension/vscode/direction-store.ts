// The saved directions of this user, remembered across windows and restarts: what Build Direction… built, what
// Steer Reply…, Steer this step and the Steering panel loaded. One list for all of them, so a
// direction built or picked anywhere is offered everywhere. Each entry keeps its metadata, so a
// restored panel lists it without asking the engine again.
import * as vscode from 'vscode';
import type { LoadedDirection } from '../common/webview-protocol';
import type { EngineClient } from './contracts';

const STORAGE_KEY = 'thinkscope.directions';
/** Folders the user removed: a command that merely used one does not list it again. */
const REMOVED_KEY = 'thinkscope.directions.removed';

export class DirectionStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<LoadedDirection[]>();
  /** Fires with the whole list after every change. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly memento: vscode.Memento,
    private readonly engine: EngineClient,
  ) {}

  /** In the order they were added (the panel's slider order). */
  all(): LoadedDirection[] {
    const stored = this.memento.get<unknown>(STORAGE_KEY);
    return Array.isArray(stored) ? stored.filter(isLoadedDirection) : [];
  }

  /** The user chose this direction (built, loaded or browsed for it): listed, replacing one from the same folder. */
  async add(direction: LoadedDirection): Promise<void> {
    const all = this.all();
    const at = all.findIndex((d) => d.path === direction.path);
    if (at >= 0) all[at] = direction;
    else all.push(direction);
    await this.memento.update(STORAGE_KEY, all);
    await this.memento.update(REMOVED_KEY, this.removed().filter((path) => path !== direction.path));
    this.changed.fire(all);
  }

  /** A command steered with this direction by its path: listed, unless the user removed it before. */
  async noteUsed(direction: LoadedDirection): Promise<void> {
    if (!this.removed().includes(direction.path)) await this.add(direction);
  }

  /** Reads a direction folder's metadata through the engine and adds it. */
  async addFolder(path: string): Promise<LoadedDirection> {
    const direction = await this.engine.request('describeDirection', { path });
    await this.add(direction);
    return direction;
  }

  /** Asks for a direction folder to steer with and adds it; undefined when the user cancels. */
  async browse(title: string): Promise<LoadedDirection | undefined> {
    const folder = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Steer With This Direction', title }))?.[0];
    return folder && this.addFolder(folder.fsPath);
  }

  async remove(path: string): Promise<void> {
    const all = this.all().filter((d) => d.path !== path);
    await this.memento.update(STORAGE_KEY, all);
    await this.memento.update(REMOVED_KEY, [...new Set([...this.removed(), path])]);
    this.changed.fire(all);
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
