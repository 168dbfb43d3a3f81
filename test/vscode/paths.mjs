// Where the test VS Code (code-server) and its state live, shared by the installer and the runners.
// Everything stays under .vscode-test/ (ignored by git), including the XDG folders: code-server
// otherwise writes ~/.config/code-server and ~/.local/share/code-server on every start.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';

export const CODE_SERVER_VERSION = '4.100.3'; // VS Code 1.100.3, the last code-server that runs on Node 20
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const vscodeTestDir = join(repoRoot, '.vscode-test');
export const codeServerDir = join(vscodeTestDir, 'code-server');
export const codeServerBin = process.env.CODE_SERVER ?? join(codeServerDir, 'node_modules', '.bin', 'code-server');
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Environment that keeps code-server's config, data, caches and temp files inside `base`. */
export function isolatedEnv(base = vscodeTestDir) {
  const env = {
    XDG_CONFIG_HOME: join(base, 'xdg', 'config'),
    XDG_DATA_HOME: join(base, 'xdg', 'data'),
    XDG_CACHE_HOME: join(base, 'xdg', 'cache'),
    TMPDIR: join(base, 'tmp'),
  };
  for (const dir of Object.values(env)) mkdirSync(dir, { recursive: true });
  return { ...process.env, ...env };
}
