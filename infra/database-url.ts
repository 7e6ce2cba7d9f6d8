// One place that knows the default database, shared by the CLI config, the app and the scripts.
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/rights_platform';

export function databaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATABASE_URL && env.DATABASE_URL.length > 0 ? env.DATABASE_URL : DEFAULT_DATABASE_URL;
}
