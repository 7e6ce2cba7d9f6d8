// Acceptance: `npm start` brings up the whole stack (its own database and Temporal server
// here, on free ports), prints where everything is, answers /readyz, runs a workflow, and
// Ctrl-C leaves no process behind.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dropDatabase } from '../../infra/db';
import { freePort } from '../support/global-setup';
import { clientFor } from '../support/http';
import { waitForTerminal } from '../support/orders';
import { ROOT } from '../support/stack';

jest.setTimeout(180_000);

/**
 * The live processes of a process group. A zombie (state Z) has exited and holds nothing: it
 * only waits to be reaped by whoever inherited it, which in a container may take a while.
 */
function processesInGroup(pgid: number): string[] {
  const ps = spawnSync('ps', ['-eo', 'pgid=,pid=,stat=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((line) => {
    const [group, , stat] = line.trim().split(/\s+/);
    return group === String(pgid) && !stat?.startsWith('Z');
  });
}

test('npm start prints the URLs and keys, serves a workflow, and Ctrl-C stops every process', async () => {
  const [apiPort, temporalPort, uiPort, simPort, stripePort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const database = new URL(process.env.DATABASE_URL!);
  database.pathname = `${database.pathname}_npm_start`;
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    DATABASE_URL: database.toString(),
    API_PORT: String(apiPort),
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_UI_PORT: String(uiPort),
    SUPPLIER_SIM_PORT: String(simPort),
    // No Stripe account configured: npm start brings stripe-mock up itself.
    STRIPE_API_KEY: '',
    STRIPE_API_BASE: '',
    STRIPE_WEBHOOK_SECRET: '',
    STRIPE_MOCK_PORT: String(stripePort),
    DEV_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'rp-start-')),
  };
  // Its own process group, so "Ctrl-C" can reach every process the way a terminal does.
  const child = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const started = Date.now();
    while (!output.includes('Ctrl-C stops everything')) {
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      if (Date.now() - started > 120_000) throw new Error(`not ready within 120 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    expect(output).toContain(`API          ${apiUrl}`);
    expect(output).toContain(`Temporal UI  http://127.0.0.1:${uiPort}`);
    const adminKey = /Admin key\s+(\S+)/.exec(output)?.[1];
    expect(adminKey).toBeDefined();
    expect(output).toMatch(/curl -s -X POST/);

    expect((await clientFor(apiUrl).get('/readyz')).status).toBe(200);
    const probe = await clientFor(apiUrl, adminKey).post('/v1/probes');
    expect(probe.status).toBe(201);
    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
    // The operator console, built by npm start when needed, is served by the API.
    expect(output).toContain(`Console      ${apiUrl}/console/`);
    const consolePage = await fetch(`${apiUrl}/console/`);
    expect(consolePage.status).toBe(200);
    expect(await consolePage.text()).toContain('<div id="app"></div>');

    // The printed curl, run as printed, orders a demo key that gets delivered.
    const lines = output.split('\n');
    const at = lines.findIndex((l) => l.trim().startsWith('curl -s -X POST') && l.includes('/v1/orders'));
    const curl = spawnSync('bash', ['-c', `${lines[at]}\n${lines[at + 1]}`], { encoding: 'utf8' });
    const accepted = JSON.parse(curl.stdout);
    expect(accepted).toMatchObject({ status: 'received' });
    const demoKey = /Demo key\s+(\S+)/.exec(output)?.[1];
    const shop = clientFor(apiUrl, demoKey);
    const order = await waitForTerminal(shop, accepted.id);
    expect(order.status).toBe('delivered');

    // The demo suppliers at the simulator serve the products the platform has no stock of.
    expect(output).toContain(`Suppliers    http://127.0.0.1:${simPort}`);
    const bought = await shop.post('/v1/orders', {
      externalOrderId: `demo-supplier-${Date.now()}`,
      buyer: { id: 'buyer-1', ip: '203.0.113.7' },
      items: [
        { sku: 'demo-game-points-100', quantity: 1 },
        { sku: 'demo-mobile-credit-10', quantity: 1, account: '13800138000' },
      ],
    });
    expect(bought.status).toBe(202);
    const supplied = await waitForTerminal(shop, bought.body.id);
    expect(supplied.status).toBe('delivered');
    expect(supplied.items.map((i: any) => i.units[0].source.supplier)).toEqual(['demo-acme', 'demo-acme']);

    // Card payments go to the stripe-mock npm start runs.
    expect(output).toContain(`Payments     stripe-mock at http://127.0.0.1:${stripePort}`);
    const paid = await shop.post('/v1/orders', {
      externalOrderId: `demo-card-${Date.now()}`,
      buyer: { id: 'buyer-card', ip: '203.0.113.7' },
      items: [{ sku: 'demo-game-points-100', quantity: 1 }],
      payment: { method: 'stripe', paymentMethodId: 'pm_card_visa' },
    });
    expect(paid.status).toBe(202);
    expect((await waitForTerminal(shop, paid.body.id)).status).toBe('delivered');
  } finally {
    process.kill(-child.pid!, 'SIGINT');
    await exited;
  }
  // Give orphans a moment to show themselves, then require none.
  await new Promise((r) => setTimeout(r, 1000));
  expect(processesInGroup(child.pid!)).toEqual([]);
  await expect(fetch(`http://127.0.0.1:${apiPort}/healthz`)).rejects.toThrow();
  expect(output).toContain('[start] stopped');
  await dropDatabase(database.toString());
});
