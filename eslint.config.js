// One lint config for every runtime. The import rules enforce the runtime split described in
// ../shared/DESIGN.md: the engine is plain Node and never sees Electron; the renderer is a browser
// bundle and never reaches into engine internals (only engine/protocol, once it exists).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'tests/fixtures/cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*'], message: 'engine/ runs under plain Node: never import electron.' },
            { group: ['**/main/**', '**/preload/**', '**/renderer/**'], message: 'engine/ must not import other runtimes.' },
          ],
        },
      ],
    },
  },
  {
    // The protocol's common/ and browser/ halves are bundled into the renderer: no Node APIs.
    files: ['engine/protocol/common/**/*.ts', 'engine/protocol/browser/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'ws', '../node/*', '../node/**'], message: 'protocol common/ and browser/ run in the browser too.' }] },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.vue'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*', 'node:*'], message: 'The renderer is a sandboxed browser bundle.' },
            { regex: '^(\\.\\./)+engine/(?!protocol/)', message: 'The renderer may only import engine/protocol.' },
          ],
        },
      ],
    },
  },
);
