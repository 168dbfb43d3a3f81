// Finding one's way through the steps of analysed traces: the Steps view (each analysed document,
// its steps with class, TTS and flags; a click reveals the step), the Outline (a symbol per step),
// and "Next Step" / "Previous Step" (like F8 through problems). All read the analysed traces and
// reveal a step the same way.

import * as vscode from 'vscode';
import { ttsBucket } from '../common/annotation-legend';
import type { StepAnnotation, TraceFile } from '../common/bundle/trace-file';
import { excerpt, formatNumber, formatTts } from '../common/export/format';
import { Commands } from './command-ids';
import type { TraceResults } from './contracts';
import { READABLE_SCHEME } from './readable-view';
import { TRACE_SCHEME } from './trace-viewer';

/** Context key: the active editor shows an analysed trace (the navigation keybindings need one). */
const HAS_STEPS_CONTEXT = 'thinkscope.editorHasSteps';

/** "reflection · TTS 0.42 · true thinking": what the view and the outline say after a step's text. */
export function stepSummary(step: StepAnnotation): string {
  const parts = [step.sealClass ?? 'unclassified'];
  if (step.tts !== null || !step.perturbable) parts.push(`TTS ${formatTts(step)}`);
  return [...parts, ...stepFlags(step)].join(' · ');
}

/** Marks worth seeing in a list: a step the answer depends on, a latent score. */
function stepFlags(step: StepAnnotation): string[] {
  const flags: string[] = [];
  if (ttsBucket(step) === 'high') flags.push('true thinking');
  if (step.latentScore !== null) flags.push(`latent ${formatNumber(step.latentScore, 2)}`);
  return flags;
}

/** Selects a step's text in its document and scrolls it into view. */
export async function revealStep(uri: vscode.Uri, step: StepAnnotation): Promise<vscode.TextEditor> {
  const open = vscode.window.visibleTextEditors.find((editor) => editor.document.uri.toString() === uri.toString());
  const editor = await vscode.window.showTextDocument(open?.document ?? (await vscode.workspace.openTextDocument(uri)), { viewColumn: open?.viewColumn, preserveFocus: false });
  const range = new vscode.Range(editor.document.positionAt(step.start), editor.document.positionAt(step.end));
  editor.selection = new vscode.Selection(range.start, range.end);
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}

type Node = { kind: 'document'; uri: vscode.Uri; file: TraceFile } | { kind: 'step'; uri: vscode.Uri; step: StepAnnotation };

function documentName(uri: vscode.Uri): string {
  return uri.path.split('/').pop() ?? uri.toString();
}

class StepsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly documents = new Map<string, Node & { kind: 'document' }>();

  constructor(private readonly results: TraceResults & { uris(): vscode.Uri[] }) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      this.documents.clear();
      return this.results.uris().flatMap((uri) => {
        const file = this.results.get(uri);
        if (!file || uri.scheme === READABLE_SCHEME) return [];
        const item: Node & { kind: 'document' } = { kind: 'document', uri, file };
        this.documents.set(uri.toString(), item);
        return [item];
      });
    }
    return node.kind === 'document' ? node.file.steps.map((step) => ({ kind: 'step', uri: node.uri, step })) : [];
  }

  getParent(node: Node): Node | undefined {
    return node.kind === 'step' ? this.documents.get(node.uri.toString()) : undefined;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'document') {
      const active = vscode.window.activeTextEditor?.document.uri.toString() === node.uri.toString();
      const item = new vscode.TreeItem(documentName(node.uri), active ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
      const scored = node.file.steps.filter((s) => s.tts !== null).length;
      item.description = `${node.file.steps.length} steps${scored > 0 ? `, ${scored} scored` : ''}`;
      item.resourceUri = node.uri;
      item.iconPath = vscode.ThemeIcon.File;
      item.id = node.uri.toString();
      return item;
    }
    const { step } = node;
    const item = new vscode.TreeItem(`#${step.index} ${excerpt(step.text, 60)}`, vscode.TreeItemCollapsibleState.None);
    item.id = `${node.uri.toString()}#${step.index}`;
    item.description = stepSummary(step);
    item.tooltip = new vscode.MarkdownString(`**Step ${step.index}** — ${stepSummary(step)}\n\n${excerpt(step.text, 400).replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&')}`);
    item.iconPath = new vscode.ThemeIcon(step.sealClass === 'reflection' ? 'debug-restart' : step.sealClass === 'transition' ? 'arrow-swap' : 'circle-filled', new vscode.ThemeColor(`thinkscope.tts.${ttsBucket(step)}.foreground`));
    item.command = { command: Commands.revealStep, title: 'Reveal Step', arguments: [{ uri: node.uri.toString(), step: step.index }] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

class StepSymbols implements vscode.DocumentSymbolProvider {
  constructor(private readonly results: TraceResults) {}

  provideDocumentSymbols(document: vscode.TextDocument): vscode.DocumentSymbol[] {
    const file = this.results.get(document.uri);
    if (!file || file.source.text !== document.getText()) return [];
    return file.steps.map((step) => {
      const range = new vscode.Range(document.positionAt(step.start), document.positionAt(step.end));
      const kind = step.sealClass === 'reflection' ? vscode.SymbolKind.Event : step.sealClass === 'transition' ? vscode.SymbolKind.Interface : vscode.SymbolKind.Function;
      return new vscode.DocumentSymbol(`#${step.index} ${excerpt(step.text, 50)}`, stepSummary(step), kind, range, range);
    });
  }
}

/** The step after (or before) the cursor in the active editor's analysed trace, wrapping around. */
function neighbourStep(file: TraceFile, offset: number, direction: 1 | -1): StepAnnotation | undefined {
  const { steps } = file;
  if (steps.length === 0) return undefined;
  if (direction === 1) return steps.find((step) => step.start > offset) ?? steps[0];
  // Previous: the step before the one the cursor is in, or the last one ending before the cursor.
  const current = steps.findIndex((step) => step.start <= offset && offset < step.end);
  if (current >= 0) return steps[current - 1] ?? steps.at(-1);
  return steps.filter((step) => step.end <= offset).at(-1) ?? steps.at(-1);
}

export interface StepNavigation extends vscode.Disposable {
  /** What the Steps view shows under a document: one item per step (for tests and other extensions). */
  stepItems(uri: vscode.Uri): vscode.TreeItem[];
}

export function registerStepNavigation(results: TraceResults & { uris(): vscode.Uri[] }): StepNavigation {
  const tree = new StepsTree(results);
  const view = vscode.window.createTreeView('thinkscope.steps', { treeDataProvider: tree, showCollapseAll: true });
  const selector: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: TRACE_SCHEME }, { scheme: READABLE_SCHEME }];
  let symbols = vscode.languages.registerDocumentSymbolProvider(selector, new StepSymbols(results), { label: 'ThinkScope steps' });
  let outlineRefresh: ReturnType<typeof setTimeout> | undefined;

  const updateContext = () => {
    const editor = vscode.window.activeTextEditor;
    const file = editor && results.get(editor.document.uri);
    void vscode.commands.executeCommand('setContext', HAS_STEPS_CONTEXT, !!file && file.steps.length > 0);
  };
  const navigate = (direction: 1 | -1) => async () => {
    const editor = vscode.window.activeTextEditor;
    const file = editor && results.get(editor.document.uri);
    if (!editor || !file || file.steps.length === 0) {
      void vscode.window.showInformationMessage('This editor shows no analysed trace: run "ThinkScope: Analyze Trace" first.');
      return undefined;
    }
    const offset = editor.document.offsetAt(direction === 1 ? editor.selection.active : editor.selection.start);
    const step = neighbourStep(file, direction === 1 && !editor.selection.isEmpty ? editor.document.offsetAt(editor.selection.end) - 1 : offset, direction);
    if (!step) return undefined;
    await revealStep(editor.document.uri, step);
    return step.index;
  };

  const disposable = vscode.Disposable.from(
    tree,
    view,
    { dispose: () => symbols.dispose() },
    { dispose: () => clearTimeout(outlineRefresh) },
    results.onDidChange(() => {
      tree.refresh();
      updateContext();
      // The Outline asks again only when the provider changes: re-register once the results settle.
      clearTimeout(outlineRefresh);
      outlineRefresh = setTimeout(() => {
        symbols.dispose();
        symbols = vscode.languages.registerDocumentSymbolProvider(selector, new StepSymbols(results), { label: 'ThinkScope steps' });
      }, 300);
    }),
    vscode.window.onDidChangeActiveTextEditor(() => {
      updateContext();
      tree.refresh();
    }),
    vscode.commands.registerCommand(Commands.revealStep, async (argument: { uri: string | vscode.Uri; step: number }) => {
      const uri = typeof argument.uri === 'string' ? vscode.Uri.parse(argument.uri) : argument.uri;
      const step = results.get(uri)?.steps.find((s) => s.index === argument.step);
      if (!step) throw new Error(`${documentName(uri)} has no analysed step ${argument.step}`);
      await revealStep(uri, step);
    }),
    vscode.commands.registerCommand(Commands.nextStep, navigate(1)),
    vscode.commands.registerCommand(Commands.previousStep, navigate(-1)),
  );
  return {
    stepItems: (uri) => tree.getChildren().filter((node) => node.uri.toString() === uri.toString()).flatMap((node) => tree.getChildren(node).map((step) => tree.getTreeItem(step))),
    dispose: () => disposable.dispose(),
  };
}
