// The floors' worker process: the platform worker's settings, no-op activities.
// BENCH_BARE=1 makes it the bare SDK worker of the memory comparison instead: the platform's
// own workflow bundle, no activities, nothing to do.
import { NativeConnection, Worker } from '@temporalio/worker';
import { workerTuning } from '../../workers/fulfillment-worker';

async function main(): Promise<void> {
  const bare = process.env.BENCH_BARE === '1';
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    ...workerTuning,
    connection,
    taskQueue: process.env.BENCH_TASK_QUEUE!,
    workflowsPath: bare ? require.resolve('../../workflows') : require.resolve('./workflows'),
    ...(bare ? {} : { activities: { noop: async () => undefined } }),
  });
  process.stdout.write('floor worker started\n');
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  process.stderr.write(`floor worker failed: ${String(err)}\n`);
  process.exit(1);
});
