// The operator console's build: api/console → api/console/dist, served by the API at /console
// (api/console-static.ts). Preact's JSX through Vite's own transform (no Babel plugin needed);
// everything bundled, nothing loaded from elsewhere at run time.
export default {
  root: import.meta.dirname,
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 400,
  },
};
