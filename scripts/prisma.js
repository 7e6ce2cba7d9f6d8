#!/usr/bin/env node
// Runs the Prisma CLI on machines where its native engines cannot be downloaded.
// The CLI only checks that these engine paths exist; with `engine: 'js'` in
// prisma.config.ts it never loads them. Where real engines are installed, set the
// variables yourself (or leave them unset and let Prisma find its own) and nothing changes.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env };
const placeholder = path.join(__dirname, 'prisma.js');
env.PRISMA_QUERY_ENGINE_LIBRARY ??= placeholder;
env.PRISMA_SCHEMA_ENGINE_BINARY ??= placeholder;
env.PRISMA_HIDE_UPDATE_MESSAGE ??= '1';
env.PRISMA_SKIP_POSTINSTALL_GENERATE ??= '1';

const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
  cwd: path.join(__dirname, '..'),
});
process.exit(result.status ?? 1);
