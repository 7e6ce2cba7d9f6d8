// `tsx scripts/supplier-sim.ts [--port N] [--host H]`: runs the fake supplier farm
// (scripts/lib/supplier-sim.ts) for local demos; configure it through its /admin endpoints.
import { parseArgs } from 'node:util';
import { startSupplierSim } from './lib/supplier-sim';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' } } });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const sim = await startSupplierSim({ port, ...(values.host ? { host: values.host } : {}) });
  process.stdout.write(`supplier simulator on ${sim.url}\n`);
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`[supplier-sim] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
