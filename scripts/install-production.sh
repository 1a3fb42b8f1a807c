#!/usr/bin/env bash
# PeerBridge's production install: the container image's build and start steps as one script, so
# the Dockerfile only copies and calls it, and CI (.ci/run) runs the same steps from a fresh clone
# in a clean folder without a container runtime.
#
#   scripts/install-production.sh build <src>               npm ci and npm run build in a source tree (needs the npm registry)
#   scripts/install-production.sh install <built> <target>  copies what runs into <target>, then npm ci --omit=dev
#                                                           --ignore-scripts there and builds the definitions cache
#   scripts/install-production.sh migrate [<target>]        creates or migrates the store's tables (DATABASE_URL, else
#                                                           PGlite in DATA_DIR), then exits
#   scripts/install-production.sh start [<target>]          exec node dist/server.js (NODE_ENV=production unless set)
#
# <target> defaults to the folder this script was installed into (<target>/scripts/..). Nothing
# needs root, and migrate and start never use the network. docs/deploy.md explains the rest.
set -euo pipefail

usage() {
  sed -n '6,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

here="$(cd "$(dirname "$0")/.." && pwd)"

cmd="${1:-}"
[ -n "$cmd" ] || usage
shift

case "$cmd" in
  build)
    [ $# -eq 1 ] || usage
    cd "$1"
    # npm ci runs `prepare` (scripts/build-if-stale.js), which builds dist/; the second call says it is current.
    npm ci --no-audit --no-fund
    node scripts/build-if-stale.js
    ;;

  install)
    [ $# -eq 2 ] || usage
    src="$(cd "$1" && pwd)"
    [ -f "$src/dist/server.js" ] || { echo "install: $src/dist/server.js is missing: run '$0 build $1' first" >&2; exit 2; }
    mkdir -p "$2"
    target="$(cd "$2" && pwd)"
    [ "$src" != "$target" ] || { echo "install: <built> and <target> must differ" >&2; exit 2; }
    # What runs: the compiled code, the launcher, the FHIR package and the definitions beside it, the
    # mappings and rules, the IG site the server serves at /ig/, the lockfile's packages (the
    # overrides point into scripts/fhir-package-stubs), and this script for migrate and start.
    for p in dist bin profiles/package profiles/external mappings rules docs/ig scripts/fhir-package-stubs \
      package.json package-lock.json LICENSE README.md; do
      if [ -e "$src/$p" ]; then
        mkdir -p "$target/$(dirname "$p")"
        rm -rf "${target:?}/$p"
        cp -R "$src/$p" "$target/$p"
      fi
    done
    rm -f "$target/dist/.build-stamp"
    find "$target/dist" -name '*.map' -delete
    mkdir -p "$target/scripts"
    cp "$0" "$target/scripts/install-production.sh"
    chmod 755 "$target/scripts/install-production.sh"
    cd "$target"
    # --ignore-scripts: not the project's own prepare (there is no src/ here to build). Then the
    # dependencies' install scripts alone: argon2's checks that its prebuilt binary loads and runs on
    # this Node, and compiles it when not (a distribution's Node may not take the prebuilt one).
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund
    npm rebuild --no-audit --no-fund
    node -e "require('argon2').hash('install check').then(() => undefined, (e) => { console.error('argon2: ' + e.message); process.exit(1); })"
    # The validator's definitions cache (build/definitions) is built now, so a read-only install starts without writing it.
    node -e "new (require('./dist/validation').Definitions)()"
    # And the PGlite data-directory template (build/pglite-template), so a new embedded store is a copy, not an initdb in the server.
    node -e "require('./dist/store/pglite-template').ensurePgliteTemplate().then((d) => { if (!d) process.exit(1); })"
    echo "Installed PeerBridge $(node -p "require('./package.json').version") in $target ($(du -sh . | cut -f1))"
    ;;

  migrate)
    [ $# -le 1 ] || usage
    cd "${1:-$here}"
    exec node bin/peerbridge.js migrate
    ;;

  start)
    [ $# -le 1 ] || usage
    cd "${1:-$here}"
    export NODE_ENV="${NODE_ENV:-production}"
    exec node dist/server.js
    ;;

  -h | --help | help)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    ;;

  *)
    usage
    ;;
esac
