# Sourced by .ci/run (and usable by hand): starts a throw-away PostgreSQL
# cluster on a Unix socket and loopback port 55432, and exports
# TEST_DATABASE_URL so the store tests run against it too.
start_postgres() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bindir" ]; then
    echo "PostgreSQL is not installed; store tests run on SQLite only" >&2
    return 0
  fi
  local dir=/tmp/console-ci-pg
  local as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  # A cluster left over from an earlier run on this machine is stopped first.
  [ -f "$dir/data/postmaster.pid" ] && "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir" && mkdir -p "$dir" && chown postgres "$dir" 2>/dev/null || true
  "${as[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p 55432 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable"
  echo "PostgreSQL ready at $TEST_DATABASE_URL"
}
