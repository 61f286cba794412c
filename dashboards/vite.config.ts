import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import ElementPlus from 'unplugin-element-plus/vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // Each Element Plus component brings its own stylesheet, so a page's CSS chunk holds only what
  // it uses and the first paint waits for the base styles alone, not the whole 370 KB library.
  plugins: [vue(), ElementPlus({})],
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboards', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or styles: the API serves a strict Content-Security-Policy.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // ECharts stays out of the initial load: only the trends page (a lazy route) imports it.
        manualChunks(id) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts';
          // Element Plus is left to Rollup: each page's chunk carries the components it uses.
          if (id.includes('node_modules/vue') || id.includes('node_modules/@vue')) return 'vue';
          return undefined;
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8600' } },
});
