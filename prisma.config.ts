// Prisma's native engines cannot be downloaded on every machine, so the CLI runs its
// JavaScript schema engine over the same driver adapter the application uses.
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { databaseUrl } from './infra/database-url';

// schema.prisma reads env("DATABASE_URL"); give it the same default the app uses.
process.env.DATABASE_URL = databaseUrl();

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  // PRISMA_MIGRATIONS_DIR: the migration test deploys a database to the state before a migration.
  migrations: { path: process.env.PRISMA_MIGRATIONS_DIR ?? path.join('prisma', 'migrations') },
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
});
