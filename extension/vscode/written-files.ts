// Files the extension writes for the user: written complete or not at all (a temp name, then a
// rename), and announced with a way to open or find them.

import * as vscode from 'vscode';

export async function writeAtomically(target: vscode.Uri, text: string): Promise<void> {
  const temp = target.with({ path: `${target.path}.partial` });
  await vscode.workspace.fs.writeFile(temp, new TextEncoder().encode(text));
  await vscode.workspace.fs.rename(temp, target, { overwrite: true });
}

/**
 * Says what was written, with Open (in the editor; an HTML page in the browser) and Reveal (in the
 * Explorer when it is inside the workspace, else in the system's file manager).
 */
export async function announceWritten(message: string, target: vscode.Uri, open: vscode.Uri = target): Promise<void> {
  const inWorkspace = vscode.workspace.getWorkspaceFolder(target) !== undefined;
  const action = await vscode.window.showInformationMessage(message, 'Open', inWorkspace ? 'Reveal in Explorer' : 'Reveal in File Manager');
  if (action === 'Open') {
    if (/\.html?$/i.test(open.path)) await vscode.env.openExternal(open);
    else await vscode.commands.executeCommand('vscode.open', open);
  } else if (action === 'Reveal in Explorer') await vscode.commands.executeCommand('revealInExplorer', target);
  else if (action) await vscode.commands.executeCommand('revealFileInOS', target);
}
