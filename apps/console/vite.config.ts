import { defineConfig, type Plugin } from 'vite';

// Built by `npm run build` (from the repo root) into <repo>/dist/console, which the bridge serves at /console under
// a CSP with no inline script or style: keep the module-preload polyfill (an inline script) off and inline nothing.
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const here = (path: string): string => decodeURIComponent(new URL(path, import.meta.url).pathname);

/** Fails the build if the page would need 'unsafe-inline': an inline <script>, a <style> or a style= attribute. */
function noInlineCode(): Plugin {
  return {
    name: 'console:no-inline-code',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'asset' || !file.fileName.endsWith('.html')) continue;
        const html = String(file.source);
        const inlineScript = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)].some(([, attrs = '', body = '']) => !/\bsrc=/.test(attrs) || body.trim() !== '');
        if (inlineScript || /<style\b/i.test(html) || /\sstyle=/i.test(html)) {
          this.error(`${file.fileName} has inline script or style, which the console's CSP refuses`);
        }
      }
    },
  };
}

export default defineConfig({
  plugins: [noInlineCode()],
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
