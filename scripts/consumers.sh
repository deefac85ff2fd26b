#!/usr/bin/env bash
# consumers.sh - installs the npm tools the ecosystem tests read mayday's
# exports with (Tests/export/test_ecosystem.c), into a project-local folder
# (never globally): build-consumers/node_modules/.bin/{sentry-cli,spotlight}.
#   @sentry/cli 3.8.0            `sentry-cli debug-files check FILE`
#   @spotlightjs/spotlight 4.11.8 + hono 4.12.25 beside it (with hono 4.13
#                                 every request gets a 500)
# Spotlight 4.11.8 needs Node.js >= 20 (Debian 12's own nodejs is 18; the
# machines this project runs on have Node.js 20 and npm installed).
#
# Context: developer/CI tool (scripts/test.sh runs it in its deps stage).
# Idempotent: does nothing when the pinned versions are installed already
# (no network); a fresh install takes about 20 s here.
# Environment: MAYDAY_CONSUMERS_DIR (default <repo>/build-consumers).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${MAYDAY_CONSUMERS_DIR:-$root/build-consumers}
pins=("@sentry/cli@3.8.0" "@spotlightjs/spotlight@4.11.8" "hono@4.12.25")

installed() { # name version
    local pj=$dir/node_modules/$1/package.json
    [[ -f $pj ]] && grep -q "\"version\": \"$2\"" "$pj"
}

ok=1
for p in "${pins[@]}"; do
    name=${p%@*} version=${p##*@}
    installed "$name" "$version" || ok=0
done
if ((ok)) && [[ -x $dir/node_modules/.bin/sentry-cli &&
    -x $dir/node_modules/.bin/spotlight ]]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "consumers.sh: npm not found (install Node.js >= 20 with npm)" >&2
    exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
    echo "consumers.sh: Node.js $(node --version 2>/dev/null) is too old for" \
        "Spotlight 4.11.8 (needs >= 20)" >&2
fi
mkdir -p "$dir"
[[ -f $dir/package.json ]] ||
    echo '{"name": "mayday-consumers", "private": true}' >"$dir/package.json"
echo "consumers.sh: npm install ${pins[*]} into $dir"
log=$(mktemp "${TMPDIR:-/tmp}/mayday-npm.XXXXXX")
trap 'rm -f "$log"' EXIT
if ! (cd "$dir" && npm install --no-audit --no-fund --save-exact \
    "${pins[@]}") >"$log" 2>&1; then
    cat "$log" >&2
    echo "consumers.sh: npm install failed" >&2
    exit 1
fi
for t in sentry-cli spotlight; do
    if [[ ! -x $dir/node_modules/.bin/$t ]]; then
        echo "consumers.sh: $t missing after npm install" >&2
        exit 1
    fi
done
"$dir/node_modules/.bin/sentry-cli" --version
echo "consumers.sh: done"
