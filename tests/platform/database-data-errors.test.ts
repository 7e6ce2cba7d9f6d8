// Issue 29, "a refund that can never happen": a refund whose reason held a NUL retried its
// database step forever (PostgreSQL 22021 on every attempt). A step whose data the database
// refuses now fails for good. First the error shapes, provoked for real (a raw query, a model
// query, a raw pg query, and Prisma's own argument check), then the refund workflow itself.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { createActivities } from '../../activities';
import { FailureType } from '../../domain/failures';
import { refusedDataOf, sqlOf } from '../../infra/db';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { staffApi } from '../support/clients';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

async function thrown(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected the database to refuse');
}

test('each shape of a data error is recognised; a race or a passing fault is not', async () => {
  const { db } = stack;
  const nul = 'codes\u0000did not work';
  const audit = (actor: string, subjectId = randomUUID()) => ({
    data: { actor, action: 'test.probe', subjectType: 'test', subjectId },
  });
  const refused = {
    // P2010 with the SQLSTATE in meta.driverAdapterError.cause
    rawNul: await thrown(() => db.$executeRaw`SELECT ${nul}::text`),
    // a bare DriverAdapterError: Prisma maps no code for 22021
    modelNul: await thrown(() => db.auditLog.create(audit(nul))),
    // node-postgres' own DatabaseError
    pgNul: await thrown(() => sqlOf(db).rows('SELECT $1::text', [nul])),
    int8: await thrown(() => db.$queryRaw`SELECT ${'9223372036854775808'}::int8`),
    notUuid: await thrown(() => db.$queryRaw`SELECT ${'zz'}::uuid`),
    year0: await thrown(() => db.$queryRaw`SELECT ${'0000-01-01T00:00:00Z'}::timestamptz`),
    notNull: await thrown(() => db.$executeRaw`INSERT INTO audit_log (actor) VALUES (NULL)`),
    // P2003, a foreign key
    foreignKey: await thrown(() => db.keyBatch.create({ data: { productId: randomUUID() } })),
    year0Model: await thrown(() => db.auditLog.findFirst({ where: { at: { gt: new Date('0000-01-01') } } })),
    // P2020 with the SQLSTATE in meta.driverAdapterError.cause
    int4Model: await thrown(() => db.orderUnit.findFirst({ where: { costMinor: { gt: 2 ** 31 } } })),
    // Arguments Prisma cannot send: a validation error, and its engine's "Could not convert"
    invalidDate: await thrown(() => db.auditLog.findFirst({ where: { at: { gt: new Date(NaN) } } })),
    year20000Model: await thrown(() => db.auditLog.findFirst({ where: { at: { gt: new Date('+020000-01-01') } } })),
    int8Model: await thrown(() => db.auditLog.findFirst({ where: { id: { gt: 2n ** 63n } } })),
  };
  for (const [shape, err] of Object.entries(refused)) {
    expect({ shape, refused: refusedDataOf(err) }).toEqual({ shape, refused: expect.any(String) });
  }
  expect(refusedDataOf(refused.modelNul)).toMatch(/22021/);
  expect(refusedDataOf(refused.int8)).toMatch(/22003/);

  const subjectId = randomUUID();
  await db.auditLog.create(audit('first', subjectId));
  const passing = {
    // Not data errors: a unique index lost to a concurrent writer, a statement cancelled.
    unique: await thrown(
      () => db.$executeRaw`INSERT INTO audit_log (id, actor, action, subject_type, subject_id)
      SELECT id, actor, action, subject_type, subject_id FROM audit_log WHERE subject_id = ${subjectId}`,
    ),
    cancelled: await thrown(() =>
      db.$transaction(async (tx) => {
        await tx.$executeRaw`SET LOCAL statement_timeout = 1`;
        await tx.$queryRaw`SELECT pg_sleep(1)`;
      }),
    ),
    notDatabase: new Error('socket hang up'),
  };
  for (const [shape, err] of Object.entries(passing)) {
    expect({ shape, refused: refusedDataOf(err) }).toEqual({ shape, refused: undefined });
  }
});

async function deliveredOrder() {
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: PRICE });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  expect(order.status).toBe('delivered');
  return { order, api };
}

test('an activity whose data the database refuses fails with a non-retryable failure', async () => {
  const { order } = await deliveredOrder();
  const activities = createActivities({
    db: stack.db,
    keyring: stack.deps.keyring,
    config: stack.config,
    logger: stack.logger,
    workerIdentity: 'test',
  });
  const err = await thrown(() =>
    activities.refundUnits({ orderId: order.id, reason: 'a\u0000b', actor: { clientId: null, name: 'test' } }),
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type: FailureType.DatabaseRefusedData, nonRetryable: true });
  expect((err as Error).message).toMatch(/^refundUnits: database refused the data \(22021\)/);
});

test('a refund workflow whose database step is refused ends failed, the units untouched and refundable', async () => {
  const { order, api } = await deliveredOrder();
  const workflowId = `refund:${order.id}:nul-${randomUUID()}`;
  const handle = await stack.deps.temporal.workflow.start('refundWorkflow', {
    workflowId,
    taskQueue: stack.taskQueue,
    args: [{ orderId: order.id, reason: 'codes\u0000did not work', actor: { clientId: null, name: 'test' } }],
  });
  try {
    // Before: the local activity retried (200 ms, then up to 30 s apart) for as long as one waited.
    const ended = await Promise.race([
      handle.result().then(
        () => 'completed',
        (err: unknown) => err,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still retrying after 20 s'), 20_000)),
    ]);
    expect(ended).toBeInstanceOf(WorkflowFailedError);
    expect((ended as WorkflowFailedError).cause).toMatchObject({
      type: FailureType.DatabaseRefusedData,
      nonRetryable: true,
    });
  } finally {
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') await handle.terminate('test over');
  }
  const units = await stack.db.orderUnit.findMany({ where: { orderId: order.id } });
  expect(units.map((u) => u.status)).toEqual(['delivered']);
  expect((await api.get('/v1/balance')).body.available.minor).toBe(0);

  const support = await staffApi(stack, 'support');
  const refund = await support.post(`/v1/orders/${order.id}/refunds`, { reason: 'codes did not work' });
  expect(refund.status).toBe(200);
  expect((await api.get('/v1/balance')).body.available.minor).toBe(PRICE);
});
