// ESLint flat config: typescript-eslint's type-aware recommended rules (floating and misused
// promises, unsafe `any`) over src, test, bench, scripts and web (the console, its own tsconfig). Formatting is Prettier's job
// (.prettierrc.json), so no stylistic rules here.
// https://typescript-eslint.io/getting-started/typed-linting
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      'dist/**',
      'build/**',
      'coverage/**',
      'data/**',
      'scratch/**',
      'profiles/**',
      'examples/**',
      'mappings/**',
      'test/fixtures/**',
      'test/validation/fixtures/**',
      'bench/results/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // tsconfig.test.json is the one program over src, test, bench and scripts (.ts); the
        // nearest tsconfig.json covers src only, so name it rather than use the project service.
        project: './tsconfig.test.json',
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A leading underscore marks a parameter or binding kept on purpose (Express's four-argument
      // error handler needs `_next`); `const { a: _a, ...rest } = x` is how the code drops a field.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Off: an `async` function without `await` is deliberate here. It implements a
      // Promise-returning interface (Repository, Validator, route handlers, test doubles) and
      // `async` turns a synchronous throw into a rejection, which is what callers handle.
      // no-floating-promises and no-misused-promises still check every caller.
      '@typescript-eslint/require-await': 'off',
      // Off: PeerBridge reads wire formats whose delimiters are control characters (HL7 v2 and
      // MLLP framing, CSV, JSON string escapes), so control characters in a regex are intended.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests read HTTP answers through supertest, whose `res.body` is `any`, and JSON.parse output;
    // they check its shape with expect(), which fails the test on a wrong shape. And they build
    // resources broken on purpose (`Record<string, any>` copies given wrong types anywhere), which
    // no FHIR type describes. Typing every body would add casts without adding checks, so
    // no-explicit-any and the no-unsafe-* rules are off here only; the promise rules (floating,
    // misused) and the rest stay on in tests.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The web console (web/src) runs in the browser: its own program (web/tsconfig.json, DOM types).
    files: ['web/**/*.ts'],
    languageOptions: {
      parserOptions: { project: './web/tsconfig.json', tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.browser },
    },
  },
  {
    // Plain JavaScript (bin, Jest config and transforms, the profiles build script, this file) is
    // outside the TypeScript program: no type information for it.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The .js files are CommonJS: require() is how they load modules.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
