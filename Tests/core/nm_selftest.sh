#!/bin/sh
# nm_selftest.sh - proves that scripts/check-crash-symbols.sh can fail: it
# compiles tiny objects that call malloc and fprintf (must be rejected,
# exit 1, naming the symbol and the object), a clean pair of objects (must
# pass, exit 0, including a call from one object of the set to another),
# and checks the usage errors (exit 2).
#
# Context: CTest test `nm_check_selftest` (Tests/core/CMakeLists.txt).
# Usage: nm_selftest.sh CHECK_SCRIPT ALLOWLIST CC
set -u
check=$1
allow=$2
cc=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nm-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0

fail() {
    echo "nm_selftest: FAIL: $*"
    failures=$((failures + 1))
}

compile() { # name, source text
    printf '%s\n' "$2" >"$tmp/$1.c"
    "$cc" -c -O0 -fPIC -fno-builtin -o "$tmp/$1.o" "$tmp/$1.c" ||
        { echo "nm_selftest: cannot compile $1.c"; exit 2; }
}

# expect STATUS MUST_CONTAIN OBJECT...: runs the check, compares.
expect() {
    want=$1
    grep_for=$2
    shift 2
    out=$(sh "$check" "$allow" "$@" 2>&1)
    got=$?
    echo "--- check $* -> exit $got"
    echo "$out"
    [ "$got" -eq "$want" ] || fail "exit $got, expected $want for: $*"
    if [ -n "$grep_for" ]; then
        echo "$out" | grep -F -- "$grep_for" >/dev/null ||
            fail "output lacks \"$grep_for\" for: $*"
    fi
}

compile bad_malloc '#include <stdlib.h>
void *crash_path_alloc(void);
void *crash_path_alloc(void) { return malloc(1); }'
compile bad_fprintf '#include <stdio.h>
void crash_path_log(int x);
void crash_path_log(int x) { fprintf(stderr, "x=%d\n", x); }'
compile clean_a '#include <string.h>
#include <stddef.h>
size_t clean_b_helper(const char *s);
void clean_a(char *d, const char *s, size_t n);
void clean_a(char *d, const char *s, size_t n)
{
    memcpy(d, s, n);
    memset(d + n, 0, clean_b_helper(s));
}'
compile clean_b '#include <string.h>
size_t clean_b_helper(const char *s);
size_t clean_b_helper(const char *s) { return strlen(s); }'

# Clean set: memcpy/memset/strlen are allowlisted, clean_b_helper is
# defined inside the set.
expect 0 "ok:" "$tmp/clean_a.o" "$tmp/clean_b.o"
# The same object alone: clean_b_helper is now an outside symbol.
expect 1 "'clean_b_helper' referenced by $tmp/clean_a.o" "$tmp/clean_a.o"
# malloc, alone and hidden among clean objects.
expect 1 "'malloc' referenced by $tmp/bad_malloc.o" "$tmp/bad_malloc.o"
expect 1 "'malloc' referenced by $tmp/bad_malloc.o" \
    "$tmp/clean_a.o" "$tmp/bad_malloc.o" "$tmp/clean_b.o"
# fprintf, and the data symbol stderr with it.
expect 1 "'fprintf' referenced by $tmp/bad_fprintf.o" "$tmp/bad_fprintf.o"
expect 1 "'stderr' referenced by $tmp/bad_fprintf.o" "$tmp/bad_fprintf.o"
# Usage and tool errors are not a pass.
expect 2 "" "$tmp/missing.o"
out=$(sh "$check" "$allow" 2>&1)
[ $? -eq 2 ] || fail "no objects: expected exit 2"
out=$(sh "$check" "$tmp/no-allowlist" "$tmp/clean_b.o" 2>&1)
[ $? -eq 2 ] || fail "missing allowlist: expected exit 2"

if [ "$failures" -ne 0 ]; then
    echo "nm_selftest: $failures failure(s)"
    exit 1
fi
echo "nm_selftest: ok (the check rejects malloc and fprintf, passes clean)"
