// The subscription settings: calendar defaults (5-day notice, retries after 1, 3, 5 and 7 days,
// a 30-day hold), retry offsets that must increase, and seconds-long months refused in
// production (periods there follow the calendar).
import { ConfigError, parseConfig } from '../../infra/config';

const PRODUCTION = {
  NODE_ENV: 'production',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  KEY_FINGERPRINT_SECRET: 'f'.repeat(40),
  CLAIM_TOKEN_SECRET: 'c'.repeat(40),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

test('the defaults are the calendar’s', () => {
  const config = parseConfig({});
  expect(config.SUBSCRIPTION_NOTICE_SECONDS).toBe(5 * 86_400);
  expect(config.SUBSCRIPTION_RETRY_OFFSETS_SECONDS).toEqual([1, 3, 5, 7].map((d) => d * 86_400));
  expect(config.SUBSCRIPTION_HOLD_SECONDS).toBe(30 * 86_400);
  expect(config.SUBSCRIPTION_PERIODS_PER_RUN).toBe(12);
  expect(config.SUBSCRIPTION_SECONDS_PER_MONTH).toBeUndefined();
});

test('retry offsets are whole seconds, positive and increasing', () => {
  expect(parseConfig({ SUBSCRIPTION_RETRY_OFFSETS_SECONDS: '1,2,10' }).SUBSCRIPTION_RETRY_OFFSETS_SECONDS).toEqual([
    1, 2, 10,
  ]);
  for (const bad of ['3,1', '1,1', '0,2', '1.5', '1, 2', 'a']) {
    expect(problemsOf({ SUBSCRIPTION_RETRY_OFFSETS_SECONDS: bad })).toEqual([
      expect.stringMatching(/^SUBSCRIPTION_RETRY_OFFSETS_SECONDS: /),
    ]);
  }
});

test('seconds-long months are for tests: production refuses them', () => {
  expect(parseConfig({ SUBSCRIPTION_SECONDS_PER_MONTH: '5' }).SUBSCRIPTION_SECONDS_PER_MONTH).toBe(5);
  expect(problemsOf({ ...PRODUCTION, SUBSCRIPTION_SECONDS_PER_MONTH: '5' })).toEqual([
    'SUBSCRIPTION_SECONDS_PER_MONTH: not allowed in production: periods follow the calendar',
  ]);
  expect(problemsOf(PRODUCTION)).toEqual([]);
});
