#!/usr/bin/env bash
# check-exports.sh - checks that libmayday.so exports only the symbols in
# scripts/exported-symbols.txt, and that every mayday_* name of that list is
# declared in Headers/mayday/mayday.h (so the list cannot export internals).
#
# Context: developer tool and CTest test `install_exports`
# (Tests/install/CMakeLists.txt); normal context.
# Usage: scripts/check-exports.sh LIBMAYDAY_SO [ALLOWLIST] [HEADER] [CC]
# Exit: 0 clean, 1 violations, 2 usage/tool error.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lib=${1:-}
allow=${2:-$root/scripts/exported-symbols.txt}
header=${3:-$root/Headers/mayday/mayday.h}
cc=${4:-${CC:-cc}}
if [[ -z $lib || ! -f $lib ]]; then
    echo "usage: $0 path/to/libmayday.so [allowlist] [header] [cc]" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mayday-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Defined dynamic symbols, without @VERSION suffixes.
nm -D --defined-only "$lib" | awk 'NF >= 3 {print $3}' | sed 's/@.*//' |
    sort -u >"$tmp/exported"
sed -e 's/#.*//' -e 's/[[:space:]]//g' "$allow" | grep -v '^$' |
    sort -u >"$tmp/allowed"
# Functions declared in the public header, as the compiler sees them.
"$cc" -aux-info "$tmp/aux" -fsyntax-only -x c "$header"
grep -F "$(basename "$header"):" "$tmp/aux" |
    sed -n 's/.*[ *]\([A-Za-z_][A-Za-z0-9_]*\) (.*/\1/p' | sort -u \
    >"$tmp/declared"

status=0
extra=$(comm -23 "$tmp/exported" "$tmp/allowed")
if [[ -n $extra ]]; then
    echo "FAIL: $lib exports symbols not in $allow:"
    sed 's/^/    /' <<<"$extra"
    echo "  make them static, or hidden (only MAYDAY_EXPORT in mayday.h" \
        "makes a symbol public)"
    status=1
fi
undeclared=$(grep '^mayday_' "$tmp/allowed" | comm -23 - "$tmp/declared")
if [[ -n $undeclared ]]; then
    echo "FAIL: allowlisted but not declared in $header:"
    sed 's/^/    /' <<<"$undeclared"
    status=1
fi
foreign=$(grep -v '^mayday_' "$tmp/allowed" | grep -vxE 'pthread_create|pthread_sigmask|sigprocmask' ||
    true)
if [[ -n $foreign ]]; then
    echo "FAIL: allowlist has non-mayday_* names other than the interposed pthread_create, pthread_sigmask, sigprocmask:"
    sed 's/^/    /' <<<"$foreign"
    status=1
fi
# Information only: declared but not (yet) exported or allowlisted.
missing=$(comm -23 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')
[[ -z $missing ]] || echo "note: declared in mayday.h, not exported yet:" \
    "$missing"
unlisted=$(comm -23 "$tmp/declared" "$tmp/allowed" | tr '\n' ' ')
[[ -z $unlisted ]] || echo "note: declared in mayday.h, not in the" \
    "allowlist (exporting them will fail): $unlisted"

n=$(wc -l <"$tmp/exported")
if ((status == 0)); then
    echo "ok: $n exported symbol(s), all allowlisted"
fi
exit $status
