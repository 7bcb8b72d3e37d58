import { defineConfig } from 'vite';

// Built by `npm run build` (from the repo root) into <repo>/dist/console, which the bridge serves at /console under
// a CSP with no inline script or style: keep the module-preload polyfill (an inline script) off and inline nothing.
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const here = (path: string): string => decodeURIComponent(new URL(path, import.meta.url).pathname);

export default defineConfig({
  root: here('.'),
  base: '/console/',
  publicDir: here('public'),
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../../dist/console'),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Nothing as data: URLs (fonts would break font-src 'self'); the bridge serves assets/<hashed name> flat.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: {
    // `npx vite --config apps/console/vite.config.ts` against a bridge on BRIDGE_URL (default :8080).
    proxy: Object.fromEntries(
      ['/calls', '/console/api'].map((path) => [path, { target: env['BRIDGE_URL'] ?? 'http://127.0.0.1:8080', changeOrigin: false }]),
    ),
  },
});
