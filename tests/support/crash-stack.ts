// For crash tests: a stack whose worker runs as a child process (so a test can SIGKILL it and
// start another) and a supplier simulator, set up before the suite and torn down after it.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { startSupplierSim, type SupplierSim } from '../../scripts/lib/supplier-sim';
import { spawnWorkerProcess, startStack, stopChild, type TestStack } from './stack';

export interface CrashStack {
  readonly stack: TestStack;
  readonly sim: SupplierSim;
  /** Starts a worker process (stopping none: kill the last one first). */
  startWorker(): void;
  /** SIGKILLs the running worker process and waits until it is gone. */
  killWorker(): Promise<void>;
}

/** Call at a suite's top level: registers the suite's beforeAll and afterAll. */
export function crashStack(): CrashStack {
  let stack: TestStack | undefined;
  let sim: SupplierSim | undefined;
  let worker: ChildProcess | undefined;
  beforeAll(async () => {
    [stack, sim] = await Promise.all([startStack({ worker: false }), startSupplierSim()]);
  });
  afterAll(async () => {
    if (worker) await stopChild(worker);
    await stack?.close();
    await sim?.close();
  });
  return {
    get stack() {
      if (!stack) throw new Error('the crash stack starts in beforeAll');
      return stack;
    },
    get sim() {
      if (!sim) throw new Error('the crash stack starts in beforeAll');
      return sim;
    },
    startWorker() {
      worker = spawnWorkerProcess({ TEMPORAL_TASK_QUEUE: stack!.taskQueue, LOG_LEVEL: 'error' });
    },
    async killWorker() {
      if (!worker) return;
      worker.kill('SIGKILL');
      await once(worker, 'exit');
    },
  };
}
