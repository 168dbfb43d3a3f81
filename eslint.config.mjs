// Layers (architecture.md): common is pure; engine is Node without vscode; vscode is the only
// place that imports 'vscode'; the webview sees only common. These rules keep the arrows one-way.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const layer = (files, { paths = [], patterns = [] }) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
});
const forbid = (names, message) => names.map((name) => ({ name, message }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.vscode-test/**', 'out/**', '.thinkscope-cache/**', 'demo/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  layer(['extension/common/**/*.ts'], {
    paths: [
      ...forbid(['vscode'], 'extension/common is pure: no vscode.'),
      ...forbid(nodeBuiltins, 'extension/common is pure: no Node built-ins.'),
      ...forbid(['onnxruntime-node'], 'extension/common is pure: the runtime belongs to extension/engine.'),
    ],
    patterns: [{ group: ['**/engine/**', '**/vscode/**', '**/cli/**', '**/webview/**'], message: 'extension/common imports nothing but itself.' }],
  }),
  layer(['extension/engine/**/*.ts'], {
    paths: forbid(['vscode'], 'extension/engine never imports vscode.'),
    patterns: [{ group: ['**/vscode/**', '**/cli/**', '**/webview/**'], message: 'extension/engine depends only on extension/common.' }],
  }),
  layer(['extension/cli/**/*.ts'], {
    paths: forbid(['vscode'], 'the CLI never imports vscode.'),
    patterns: [{ group: ['**/vscode/**', '**/webview/**'], message: 'the CLI sits on extension/engine and extension/common.' }],
  }),
  layer(['extension/vscode/**/*.ts'], {
    patterns: [{ group: ['**/cli/**', '**/webview/**', '**/engine/**'], message: 'the extension talks to the engine through the protocol (extension/common), never its internals.' }],
  }),
  layer(['webview/**/*.ts'], {
    paths: [...forbid(['vscode'], 'webview code runs in the browser.'), ...forbid(nodeBuiltins, 'webview code runs in the browser.')],
    patterns: [{ group: ['**/engine/**', '**/vscode/**', '**/cli/**'], message: 'webview code imports only extension/common.' }],
  }),
);
