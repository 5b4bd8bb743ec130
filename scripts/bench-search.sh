#!/usr/bin/env bash
# Search benchmark (issue 7, item 7): search/benches/zoeken.rs against a PostgreSQL full-text
# baseline. Installs PostgreSQL when missing (Debian, as root), runs a private cluster on a unix
# socket (no TCP) in $BENCH_PGDATA, runs the bench, and stops the cluster again unless
# BENCH_PG_KEEP=1. The tantivy index is cached under target/bench-zoeken/, the PostgreSQL corpus
# in the cluster (keyed by the corpus parameters), so a second run only measures queries.
# Settings (passed to the bench): BENCH_REGELINGEN (2000), BENCH_ARTIKELEN (250),
# BENCH_QUERIES (1000 tantivy executions), BENCH_PG_QUERIES (PostgreSQL executions, 300),
# BENCH_ONLY (tantivy | pg; default both), BENCH_BATCH (works per commit, 20).
# Other: BENCH_PGDATA (/tmp/regelbank-bench-pg), BENCH_PG_KEEP.
set -euo pipefail
cd "$(dirname "$0")/.."
PGDATA=${BENCH_PGDATA:-/tmp/regelbank-bench-pg}
if [ "${BENCH_ONLY:-}" != tantivy ]; then
  if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  AS=(); [ "$(id -u)" = 0 ] && AS=(runuser -u postgres --)
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"; [ "$(id -u)" = 0 ] && chown postgres: "$PGDATA"
    "${AS[@]}" "$BIN/initdb" -D "$PGDATA" -U postgres -A trust --no-sync >/dev/null
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$PGDATA'
port = 5433
shared_buffers = 2GB
effective_cache_size = 8GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 8GB
synchronous_commit = off
jit = off
CONF
  fi
  if ! "${AS[@]}" "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    "${AS[@]}" "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/log" -w start >/dev/null
  fi
  [ "${BENCH_PG_KEEP:-}" = 1 ] || trap '"${AS[@]}" "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null' EXIT
  "${AS[@]}" "$BIN/psql" -h "$PGDATA" -p 5433 -U postgres -d postgres -qAtc \
    "SELECT 1 FROM pg_database WHERE datname = 'zoeken'" | grep -q 1 ||
    "${AS[@]}" "$BIN/createdb" -h "$PGDATA" -p 5433 -U postgres zoeken
  export BENCH_PG="host=$PGDATA port=5433 user=postgres dbname=zoeken"
  echo "postgresql: $("${AS[@]}" "$BIN/postgres" --version)"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GB"
echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench -p search --features pg-baseline --bench zoeken
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
