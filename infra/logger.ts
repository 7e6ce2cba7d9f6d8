// Structured JSON logs. Fields that could carry secrets are redacted at the source so a
// careless log call cannot leak an API key, a claim token or a card key.
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'apiKey',
  'webhookSecret',
  'token',
  'code',
  'codes',
  'keys',
  'plaintext',
  '*.apiKey',
  '*.webhookSecret',
  '*.token',
  '*.codes',
  '*.keys',
  '*.plaintext',
];

export function createLogger(options: { level: string; name: string }, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid, service: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
