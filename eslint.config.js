import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** `x as unknown as T`: a cast past the type checker, allowed only where oidc-provider's internals are touched. */
const DOUBLE_CAST = {
  selector: "TSAsExpression > TSAsExpression[typeAnnotation.type='TSUnknownKeyword']",
  message: 'a cast through unknown belongs in lib/provider/internals.ts, the one module that touches oidc-provider internals',
};

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'example-app/.dev-pki/', 'bench/results/', '.ci/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  // The architecture (README, "Architecture"): the library's folders and what each may import.
  {
    files: ['lib/**/*.ts', 'adapters/**/*.ts', 'interactions/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'no-restricted-syntax': ['error', DOUBLE_CAST],
    },
  },
  {
    files: ['lib/provider/internals.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // lib/ is the library: the storage adapters and the PSU pages plug into it, and only the
    // composition root (lib/authorization-server.ts) and the public entry (lib/index.ts) name them.
    files: ['lib/**/*.ts'],
    ignores: ['lib/authorization-server.ts', 'lib/index.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/adapters/*', '**/adapters/**'], message: 'lib/ depends on the Storage interface (lib/storage.ts), not on an adapter' },
          { group: ['**/interactions/*', '**/interactions/**'], message: 'the PSU pages sit on top of lib/; only the composition root builds them' },
        ],
      }],
    },
  },
  {
    // Policy is pure: certificates, PSD2 rules and the registration policy know nothing of oidc-provider or HTTP.
    files: ['lib/certificates/**/*.ts', 'lib/psd2/**/*.ts', 'lib/registration/**/*.ts', 'lib/tpp-register/**/*.ts'],
    ignores: ['lib/registration/update-body.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'oidc-provider', message: 'policy modules are pure: lib/provider/ maps them onto oidc-provider' },
          { name: 'express', message: 'policy modules are pure: lib/http/ maps them onto Express' },
        ],
      }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['example-app/**', 'bench/**', 'test/**', 'tools/**'],
    rules: { 'no-console': 'off' },
  },
);
