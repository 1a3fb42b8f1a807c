#!/usr/bin/env bash
# CI (.ci/run): the production install from a fresh clone in a clean folder, against a PostgreSQL
# database of its own. Clones this checkout's HEAD, runs scripts/install-production.sh build,
# install, migrate and start, waits for GET /readyz to answer 200 (at most READY_SECONDS, default
# 60), checks GET /healthz, stops the server with SIGTERM (it must exit 0), drops the database.
# PostgreSQL: PGHOST (default 127.0.0.1), user postgres, trust auth, as for the tests.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
pghost="${PGHOST:-127.0.0.1}"
ready_seconds="${READY_SECONDS:-60}"
work="$(mktemp -d "${TMPDIR:-/tmp}/peerbridge-install.XXXXXX")"
db="pb_install_$$"
pid=""

cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  dropdb -h "$pghost" -U postgres --if-exists --force "$db" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "install check: fresh clone of $(git -C "$repo" rev-parse --short HEAD) in $work"
git clone --quiet "$repo" "$work/src"
"$work/src/scripts/install-production.sh" build "$work/src" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
"$work/src/scripts/install-production.sh" install "$work/src" "$work/app" >"$work/install.log" 2>&1 || { tail -40 "$work/install.log"; exit 1; }
tail -1 "$work/install.log"
# From here on only the installed tree is used: the clone is moved out of the way (a path into it would break), and the server runs from a folder outside both.
mv "$work/src" "$work/src.moved"

createdb -h "$pghost" -U postgres "$db"
export DATABASE_URL="postgres://postgres@$pghost:5432/$db"
export PORT
PORT="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
export HOST=127.0.0.1
# The default configuration: auth on (AUTH_DISABLED unset), the default base, no PGlite folder.
unset AUTH_DISABLED BASE_URL DATA_DIR
mkdir -p "$work/run"
cd "$work/run"
"$work/app/scripts/install-production.sh" migrate

"$work/app/scripts/install-production.sh" start >"$work/server.log" 2>&1 &
pid=$!
started=$SECONDS
status=""
for _ in $(seq 1 "$ready_seconds"); do
  status="$(curl -s -o "$work/readyz.json" -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" || true)"
  [ "$status" = 200 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
if [ "$status" != 200 ]; then
  echo "install check: GET /readyz answered '${status:-nothing}' after ${ready_seconds} s" >&2
  cat "$work/readyz.json" "$work/server.log" >&2 2>/dev/null || true
  exit 1
fi
healthz="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")"
[ "$healthz" = 200 ] || { echo "install check: GET /healthz answered $healthz" >&2; exit 1; }
echo "install check: GET /readyz 200 on port $PORT after $((SECONDS - started)) s: $(cat "$work/readyz.json")"
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
pid=""
[ "$code" = 0 ] || { echo "install check: the server exited $code on SIGTERM" >&2; cat "$work/server.log" >&2; exit 1; }
echo "install check: passed (server stopped cleanly, database $db dropped)"
