#!/usr/bin/env bash
# Creates prisma/migrations/<timestamp>_<name>/migration.sql from the change between the
# schema as of the last migration (a snapshot kept beside it) and prisma/schema.prisma.
# `prisma migrate dev` needs a shadow database the JS engine cannot manage; this diff works
# offline and writes the same Prisma Migrate format, so `prisma migrate deploy` applies it
# anywhere. Hand-written SQL (triggers, checks) may be appended to the new file; database
# functions are not written here but in prisma/functions/ (`npm run db:functions`).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: npm run db:migration -- <name>}
dir=prisma/migrations
# The newest snapshot, not the newest folder: a migration written by `npm run db:functions`
# changes functions only and keeps none.
last=$(find "$dir" -mindepth 2 -maxdepth 2 -name schema.prisma | sort | tail -n 1)
new="$dir/$(date -u +%Y%m%d%H%M%S)_${name}"
if [ -n "$last" ]; then from=(--from-schema-datamodel "$last"); else from=(--from-empty); fi
mkdir -p "$new"
node scripts/prisma.js migrate diff "${from[@]}" --to-schema-datamodel prisma/schema.prisma --script > "$new/migration.sql"
cp prisma/schema.prisma "$new/schema.prisma"
echo "wrote $new/migration.sql"
