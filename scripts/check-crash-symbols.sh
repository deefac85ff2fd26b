#!/bin/sh
# check-crash-symbols.sh - the link-time half of mayday's crash-path check
# (docs/async-safety.md).
#
# Runs `nm -u` on every object of the crash-path object set (the CMake
# OBJECT library `mayday_crash`), drops the symbols that some object of the
# set defines itself, and fails if any remaining undefined symbol - i.e.
# anything the crash path would call or reference outside its own code - is
# not listed in the allowlist.
#
# Context: developer tool and CTest test `test_nm_allowlist`
# (Tests/core/CMakeLists.txt); `nm_check_selftest` proves it can fail.
#
# Usage: check-crash-symbols.sh ALLOWLIST OBJECT...
#   ALLOWLIST  one symbol per line; '#' starts a comment (whole line or
#              trailing); blank lines are ignored.
#   NM         environment variable: the nm to use (default: nm).
# Exit status: 0 all allowed, 1 forbidden symbols found (each printed with
# the object that references it), 2 usage or tool error.
set -eu

prog=check-crash-symbols
nm=${NM:-nm}

if [ $# -lt 2 ]; then
    echo "usage: $prog ALLOWLIST OBJECT..." >&2
    exit 2
fi
allow=$1
shift
if [ ! -r "$allow" ]; then
    echo "$prog: cannot read allowlist $allow" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# Allowed names: strip comments and blanks.
sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$allow" | sort -u \
    >"$tmp/allowed"

# Defined symbols of the whole set, and "symbol<TAB>object" for every
# undefined reference (nm -P: "name type [value size]"; -u lists both
# strong U and weak w undefined symbols).
: >"$tmp/defined"
: >"$tmp/refs"
for obj in "$@"; do
    if [ ! -r "$obj" ]; then
        echo "$prog: cannot read object $obj" >&2
        exit 2
    fi
    if ! "$nm" -P --defined-only "$obj" >"$tmp/d" 2>"$tmp/err" ||
        ! "$nm" -P -u "$obj" >"$tmp/u" 2>>"$tmp/err"; then
        echo "$prog: $nm failed on $obj:" >&2
        cat "$tmp/err" >&2
        exit 2
    fi
    awk '{ print $1 }' "$tmp/d" >>"$tmp/defined"
    awk -v o="$obj" '{ print $1 "\t" o }' "$tmp/u" >>"$tmp/refs"
done
sort -u "$tmp/defined" -o "$tmp/defined"

# External references: undefined in one object, defined in none.
awk -F '\t' 'FNR == NR { def[$1] = 1; next } !($1 in def)' \
    "$tmp/defined" "$tmp/refs" | sort -u >"$tmp/external"

# Forbidden: external and not allowed.
awk -F '\t' 'FNR == NR { ok[$1] = 1; next } !($1 in ok)' \
    "$tmp/allowed" "$tmp/external" >"$tmp/bad"

nobj=$#
if [ -s "$tmp/bad" ]; then
    while IFS="$(printf '\t')" read -r sym obj; do
        echo "$prog: FORBIDDEN symbol '$sym' referenced by $obj"
    done <"$tmp/bad"
    nsym=$(cut -f1 "$tmp/bad" | sort -u | wc -l)
    echo "$prog: FAIL: $nsym forbidden symbol(s) in the crash-path object" \
        "set ($nobj objects). Remove the call, or add the symbol to $allow" \
        "with a comment saying why it is async-signal-safe" \
        "(docs/async-safety.md)."
    exit 1
fi

used=$(cut -f1 "$tmp/external" | sort -u | tr '\n' ' ')
echo "$prog: ok: $nobj objects; external symbols used, all allowlisted:" \
    "${used:-none}"
exit 0
