#!/bin/sh
# Creates Temporal's two PostgreSQL databases if missing and migrates both schemas to the versions this
# admin-tools image ships. Idempotent: safe on every `docker compose up`.
set -eu
export SQL_PASSWORD="$(cat /run/secrets/temporal_db_password)"
sql() { temporal-sql-tool --plugin postgres12 --ep temporal-postgresql -u temporal -p 5432 "$@"; }
for database in temporal temporal_visibility; do
  sql --db "$database" create || true # exists already on a restart
done
sql --db temporal setup-schema -v 0.0 || true # version table exists already on a restart
sql --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
sql --db temporal_visibility setup-schema -v 0.0 || true
sql --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned
echo 'Temporal schemas are up to date'
