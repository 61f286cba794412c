// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', '.cache/**', 'storage/**', 'dashboards/dist/**', 'scripts/elasticsearch/launcher/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      // Chinese UI text legitimately uses the full-width space (U+3000) inside strings.
      'no-irregular-whitespace': ['error', { skipStrings: true, skipTemplates: true, skipComments: true }],
    },
  },
  // The dashboard's single-file components: Vue's essential rules, TypeScript in <script lang="ts">.
  ...pluginVue.configs['flat/essential'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' } },
    rules: {
      // Everything crawled is hostile: the dashboard renders text, never HTML.
      'vue/no-v-html': 'error',
      // Page components are named by their file (AlertListPage.vue), one word or not.
      'vue/multi-word-component-names': 'off',
      // vue-tsc checks names; the browser globals are known to it.
      'no-undef': 'off',
      // Chinese text in templates uses the full-width space (U+3000) too.
      'no-irregular-whitespace': 'off',
      'vue/no-irregular-whitespace': ['error', { skipStrings: true, skipTemplates: true, skipComments: true, skipHTMLTextContents: true }],
    },
  },
);
