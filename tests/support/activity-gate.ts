// Holds chosen activities (local ones included) of chosen workflows at their start until the
// test opens the gate: a way to put a real order at an exact step, then act (cancel it,
// break the database) while the real activity waits to run.
import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

interface Hold {
  reached: boolean;
  open: () => void;
  opened: Promise<void>;
}

export function activityGate() {
  const holds = new Map<string, Hold>();
  const keyOf = (workflowId: string, activity: string) => `${workflowId}\n${activity}`;

  const interceptor: ActivityInterceptorsFactory = (ctx: Context) => ({
    inbound: {
      async execute(input, next) {
        const hold = holds.get(keyOf(ctx.info.workflowExecution?.workflowId ?? '', ctx.info.activityType));
        if (hold) {
          hold.reached = true;
          await hold.opened;
        }
        return next(input);
      },
    },
  });

  return {
    workerOptions: { interceptors: { activity: [interceptor] } },
    /** The next run of `activity` in `workflowId` waits at its start until `open()`. */
    hold(workflowId: string, activity: string) {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      const hold: Hold = { reached: false, open, opened };
      holds.set(keyOf(workflowId, activity), hold);
      return {
        reached: () => hold.reached,
        open: () => {
          holds.delete(keyOf(workflowId, activity));
          open();
        },
      };
    },
  };
}
