#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages if missing, start its cluster and print a URL for
# the functional tests (export it as GOLDTICKET_TEST_POSTGRES_URL). Needs root; CI runs it.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >/dev/null
fi
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
password=${GOLDTICKET_TEST_POSTGRES_PASSWORD:-goldticket-tests}
for _ in $(seq 1 50); do
  su postgres -c "psql -q -p $port -c 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 0.2
done
su postgres -c "psql -q -p $port -c \"ALTER USER postgres PASSWORD '$password'\"" >/dev/null
echo "postgresql://postgres:$password@127.0.0.1:$port/postgres"
