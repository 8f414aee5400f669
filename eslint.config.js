// ESLint for the page's scripts and their unit tests: the recommended rules, browser globals for the page,
// Node's for the tests. `npx eslint static tests/js` (make test runs it).
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['static/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['static/stats.js'],
    languageOptions: { sourceType: 'script' },
  },
  {
    files: ['tests/js/**/*.js', 'eslint.config.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
  },
];
