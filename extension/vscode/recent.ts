// Recently used folders (models, directions), newest first, remembered across windows.

import * as vscode from 'vscode';

const MAX_RECENT = 8;

export class RecentFolders {
  constructor(
    private readonly state: vscode.Memento,
    private readonly key: string,
  ) {}

  list(): string[] {
    const stored = this.state.get<unknown>(this.key);
    return Array.isArray(stored) ? stored.filter((item): item is string => typeof item === 'string') : [];
  }

  async add(path: string): Promise<void> {
    await this.state.update(this.key, [path, ...this.list().filter((item) => item !== path)].slice(0, MAX_RECENT));
  }

  async remove(path: string): Promise<void> {
    await this.state.update(this.key, this.list().filter((item) => item !== path));
  }
}

export function folderName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}
