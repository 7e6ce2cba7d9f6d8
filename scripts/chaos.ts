// `npm run chaos [-- --short] [-- --seed N]`: see scripts/lib/chaos.ts. Prints a one-screen
// verdict with the seed and exits non-zero on any violation.
import { parseArgs } from 'node:util';
import { FULL, formatVerdict, runChaos, SHORT } from './lib/chaos';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { short: { type: 'boolean' }, seed: { type: 'string' } } });
  const seed = Number(values.seed ?? process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  process.stdout.write(`chaos run, seed ${seed}\n`);
  const verdict = await runChaos({
    ...(values.short ? SHORT : FULL),
    seed,
    log: (line) => process.stderr.write(`[chaos] ${line}\n`),
  });
  process.stdout.write(formatVerdict(verdict));
  process.exit(verdict.ok ? 0 : 1);
}

main().catch((err) => {
  process.stderr.write(`[chaos] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(2);
});
