// Which saved direction an analysis reads: the Assistant Axis for persona drift, the SEAL direction
// for the SEAL latent score. Chosen once per workspace and remembered; a direction made on other
// weights is never used silently. When none exists the user is offered to build one in place.

import * as vscode from 'vscode';
import type { BuildDirectionParams } from '../common/protocol';
import { DIRECTION_LABELS, type LoadedDirection } from '../common/webview-protocol';
import { Commands } from './command-ids';
import type { EngineClient } from './contracts';
import type { DirectionStore } from './direction-store';

export type AnalysisDirectionKind = 'seal' | 'assistant-axis';

/** What the user chose: a direction folder, or (SEAL only) keyword classes without a latent score. */
export type DirectionChoice = { path: string } | { path: null };

const KEYWORDS_ONLY = 'keywords-only';

function memoryKey(kind: AnalysisDirectionKind): string {
  return `thinkscope.analysisDirection.${kind}`;
}

interface ChoiceItem extends vscode.QuickPickItem {
  choose: () => Promise<DirectionChoice | undefined>;
}

export class AnalysisDirections {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: EngineClient,
    private readonly directions: DirectionStore,
  ) {}

  /** Saved directions of this kind made on the loaded model's weights (or on no recorded model). */
  usable(kind: AnalysisDirectionKind): LoadedDirection[] {
    const hash = this.engine.state.model?.weightsHash;
    return this.directions.all().filter((d) => d.method === kind && (!d.model || !hash || d.model.weightsHash === hash));
  }

  /** The remembered choice when it is still usable; undefined when the user must be asked. */
  remembered(kind: AnalysisDirectionKind): DirectionChoice | undefined {
    const stored = this.context.workspaceState.get<string>(memoryKey(kind));
    if (kind === 'seal' && stored === KEYWORDS_ONLY) return { path: null };
    return this.usable(kind).some((d) => d.path === stored) ? { path: stored! } : undefined;
  }

  async remember(kind: AnalysisDirectionKind, choice: DirectionChoice): Promise<void> {
    await this.context.workspaceState.update(memoryKey(kind), choice.path ?? KEYWORDS_ONLY);
  }

  /**
   * The direction an analysis uses: the remembered one, the only saved one, or the user's pick
   * (building one when asked). Undefined when the user cancels.
   */
  async resolve(kind: AnalysisDirectionKind, document: vscode.TextDocument | undefined): Promise<DirectionChoice | undefined> {
    const remembered = this.remembered(kind);
    if (remembered) return remembered;
    const usable = this.usable(kind);
    if (usable.length === 1) {
      await this.remember(kind, { path: usable[0].path });
      return { path: usable[0].path };
    }
    return this.ask(kind, document);
  }

  /** Asks which direction to use (also "ThinkScope: Choose Analysis Directions…"), and remembers it. */
  async ask(kind: AnalysisDirectionKind, document: vscode.TextDocument | undefined): Promise<DirectionChoice | undefined> {
    const label = DIRECTION_LABELS[kind];
    const items: ChoiceItem[] = [
      ...this.usable(kind).map((d) => ({
        label: `$(compass) ${d.name}`,
        description: d.path,
        detail: `${label} direction · layers ${d.layers[0]}–${d.layers.at(-1)} · made ${d.createdAt.slice(0, 10)}`,
        choose: async () => ({ path: d.path }),
      })),
      ...this.buildItems(kind, document),
      { label: '$(folder-opened) Browse for a direction folder…', choose: () => this.browse(kind) },
    ];
    if (kind === 'seal') items.push({ label: '$(symbol-keyword) Keywords only', detail: 'SEAL classes from keywords, no latent score', choose: async () => ({ path: null }) });
    const purpose = kind === 'seal' ? 'the SEAL latent score' : 'persona drift';
    const picked = await vscode.window.showQuickPick(items, {
      title: `ThinkScope: ${label} direction for ${purpose}`,
      placeHolder: items.length > 2 ? `Which ${label} direction this workspace uses (remembered)` : `No ${label} direction for this model yet: build one`,
      ignoreFocusOut: true,
    });
    const choice = await picked?.choose();
    if (choice) await this.remember(kind, choice);
    return choice;
  }

  private buildItems(kind: AnalysisDirectionKind, document: vscode.TextDocument | undefined): ChoiceItem[] {
    if (kind === 'assistant-axis') {
      return [
        {
          label: '$(add) Build an Assistant Axis now (bundled roles, quick)',
          detail: 'The default assistant\'s full replies to five questions (they set the floor) minus 44 role-played personas, one question per role prompt',
          choose: () => this.build({ kind, inputs: [], out: this.outFolder(kind), options: { fast: true } }),
        },
        {
          label: '$(add) Build an Assistant Axis now (bundled roles, full)',
          detail: 'As the paper does it: five full replies per role (takes longer)',
          choose: () => this.build({ kind, inputs: [], out: this.outFolder(kind) }),
        },
      ];
    }
    if (document?.uri.scheme !== 'file') return [];
    return [
      {
        label: '$(add) Build a SEAL direction from this trace',
        detail: 'Reflection and transition steps minus execution steps of this trace',
        choose: () => this.build({ kind, inputs: [document.uri.fsPath], out: this.outFolder(kind) }),
      },
    ];
  }

  /** Where a direction built from here goes: this workspace's ThinkScope storage. */
  private outFolder(kind: AnalysisDirectionKind): string {
    const base = this.context.storageUri ?? this.context.globalStorageUri;
    return vscode.Uri.joinPath(base, 'directions', `${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}`).fsPath;
  }

  private async build(params: BuildDirectionParams): Promise<DirectionChoice | undefined> {
    const built = await vscode.commands.executeCommand<LoadedDirection | undefined>(Commands.buildDirection, params);
    return built ? { path: built.path } : undefined;
  }

  private async browse(kind: AnalysisDirectionKind): Promise<DirectionChoice | undefined> {
    const picked = await this.directions.browse(`A saved ${DIRECTION_LABELS[kind]} direction folder`);
    if (!picked) return undefined;
    if (picked.method !== kind) {
      void vscode.window.showErrorMessage(`${picked.path} holds a ${DIRECTION_LABELS[picked.method]} direction; choose a ${DIRECTION_LABELS[kind]} direction.`);
      return undefined;
    }
    return { path: picked.path };
  }
}
