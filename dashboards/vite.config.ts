import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import ElementPlus from 'unplugin-element-plus/vite';
import { fileURLToPath } from 'node:url';
import { elementPlusDeepImports } from './build/element-plus-imports.js';
import { wallShellChunks } from './build/wall-shell.js';

const src = (file: string) => fileURLToPath(new URL(`src/${file}`, import.meta.url));
const wallShell = wallShellChunks(src('main.ts'), [src('layout/AppLayout.vue'), src('pages/wall/WallPage.vue')]);

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // Each Element Plus component brings its own stylesheet, so a page's CSS chunk holds only what
  // it uses and the first paint waits for the base styles alone, not the whole 370 KB library.
  plugins: [vue(), ElementPlus({}), elementPlusDeepImports()],
  // Vite puts this placeholder on the tags it writes into index.html and into a
  // <meta property="csp-nonce">; the api role replaces it with each response's nonce (api/app.ts).
  html: { cspNonce: '__CSP_NONCE__' },
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboards', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or styles: the API serves a strict Content-Security-Policy.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // ECharts stays out of the initial load: only the trends page (a lazy route) imports it.
        manualChunks(id, meta) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts';
          if (id.includes('node_modules/vue') || id.includes('node_modules/@vue')) return 'vue';
          // Other pages' Element Plus components are left to Rollup: each page's chunk carries its own.
          return wallShell(id, meta);
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8600' } },
});
