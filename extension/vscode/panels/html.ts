// The panel's page: the bundled webview script, the toolkit and the stylesheet, all local and loaded
// through asWebviewUri under a strict Content-Security-Policy with a fresh nonce per page.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { escapeHtml } from '../../common/export/html';

const TOOLKIT_FOLDER = ['node_modules', '@vscode', 'webview-ui-toolkit', 'dist'];

/** The only folders a panel may load from: the bundles, the media and the toolkit. */
function panelResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, ...TOOLKIT_FOLDER)];
}

export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return { enableScripts: true, localResourceRoots: panelResourceRoots(extensionUri) };
}

/** A panel's page; `script` is its bundle in dist/ (the ThinkScope panel's unless given). */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: { script: string; title: string } = { script: 'webview.js', title: 'ThinkScope' }): string {
  const nonce = randomBytes(16).toString('base64');
  const uri = (...path: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...path)).toString();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('media', 'panels.css')}">
<script type="module" nonce="${nonce}" src="${uri(...TOOLKIT_FOLDER, 'toolkit.min.js')}"></script>
<title>${escapeHtml(page.title)}</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="ts-empty">Loading ThinkScope…</p></main>
<script nonce="${nonce}" src="${uri('dist', page.script)}"></script>
</body>
</html>`;
}
