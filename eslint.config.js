// ESLint with typescript-eslint's type-aware rules over the whole tree (edge/, devices/, tests/, bench/, dashboards/staff/).
// Formatting is prettier's job (.prettierrc.json); this file holds only rules about what the code does.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // dashboards/staff/src is linted like the rest; its files take the page's tsconfig (the nearest tsconfig.json)
  { ignores: ['dist/**', 'node_modules/**', 'config/schema.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // a floating promise is a lost error: every promise is awaited, returned, or handed to a catch on purpose
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      eqeqeq: ['error', 'always'],
      // prettier wraps code at 140; this catches what it cannot wrap: comments, strings and templates
      'max-len': ['error', { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true }],
      // an async function without await is how a fastify handler or a Promise-returning port is written here
      '@typescript-eslint/require-await': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
