import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

// Custom roots: the design card's top level (main/, preload/, renderer/) instead of src/*.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'main/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload must be one CommonJS file.
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'renderer'),
    plugins: [vue()],
    // noVNC has a top-level await: serve it as is instead of pre-bundling it.
    optimizeDeps: { exclude: ['@novnc/novnc'] },
    build: {
      outDir: resolve(import.meta.dirname, 'out/renderer'),
      target: 'es2022',
      minify: true,
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'renderer/index.html') } },
    },
  },
});
