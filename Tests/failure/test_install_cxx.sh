#!/usr/bin/env bash
# test_install_cxx.sh - installs the current build into a temporary prefix
# and builds a C++ program (app_cxx.cpp) against the INSTALLED libmayday-cxx
# three ways: pkg-config mayday-cxx, find_package mayday::mayday_cxx
# (shared) and mayday::mayday_cxx_static. Each must end with SIGABRT and
# leave one report; `mayday decode --format json` of it (the installed CLI
# when there is one, else the build's) must name the exception
# std::out_of_range (as c++filt demangles St12out_of_range).
#
# A cross build (TOOLCHAIN, e.g. cmake/aarch64-linux-gnu.cmake) builds the
# consumers with that toolchain file and pkg-config looking only at the
# target's .pc files (as the toolchain file does), and runs the programs
# and the CLI through $MAYDAY_EMULATOR (qemu-aarch64).
#
# Context: a CTest test (Tests/failure/CMakeLists.txt), normal context.
# Usage: test_install_cxx.sh BUILD_DIR SOURCE_DIR LIBDIR CXX GENERATOR CLI
#        [SANITIZE [TOOLCHAIN]]
# Exit: 0 pass, 1 fail, 77 skipped (sanitizer builds).
set -euo pipefail

build=$1 src=$2 libdir=$3 cxx=$4 generator=$5 cli=$6 sanitize=${7:-}
toolchain=${8:-}
# shellcheck disable=SC2206 # the emulator's words (may hold options)
emu=(${MAYDAY_EMULATOR:-})
if [[ -n $sanitize ]]; then
    echo "SKIP: sanitizer build (MAYDAY_SANITIZE=$sanitize)"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mayday-install-cxx.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
lib=$prefix/$libdir
app=$src/Tests/failure/app_cxx.cpp
want=$(c++filt -t St12out_of_range)
fails=0

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# check NAME BINARY [env...]: dies of SIGABRT with one report naming it.
check() {
    local name=$1 bin=$2 dir=$tmp/reports-$1 st=0
    shift 2
    env "$@" "${emu[@]}" "$bin" "$dir" >"$tmp/$name.out" 2>&1 || st=$?
    if ((st != 128 + 6)); then
        fail "$name: exit status $st, want 134 (SIGABRT)"
        return
    fi
    local reports=("$dir"/*.mayday)
    if ((${#reports[@]} != 1)) || [[ ! -f ${reports[0]} ]]; then
        fail "$name: ${#reports[@]} report(s), want 1"
        return
    fi
    local json
    json=$("${emu[@]}" "$cli" decode --format json "${reports[0]}")
    if ! grep -q "\"type\": \"$want\"" <<<"$json" ||
        ! grep -q '"reason": "uncaught"' <<<"$json"; then
        fail "$name: the decoded report lacks type $want / reason uncaught"
        return
    fi
    echo "ok   $name: SIGABRT, one report, exception $want"
}

if ! cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    exit 1
fi
for f in "$libdir/libmayday-cxx.a" "$libdir/libmayday-cxx.so.0" \
    "$libdir/pkgconfig/mayday-cxx.pc"; do
    [[ -e $prefix/$f ]] || fail "not installed: $f"
done
[[ -x $prefix/bin/mayday ]] && cli=$prefix/bin/mayday

export PKG_CONFIG_PATH=$lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
cross=()
if [[ -n $toolchain ]]; then
    triple=$("$cxx" -dumpmachine)
    export PKG_CONFIG_LIBDIR=/usr/lib/$triple/pkgconfig:/usr/share/pkgconfig
    cross=(-DCMAKE_TOOLCHAIN_FILE="$toolchain")
fi
if "$cxx" -o "$tmp/pc_cxx" "$app" $(pkg-config --cflags --libs mayday-cxx) \
    >"$tmp/pc.log" 2>&1; then
    check pkg-config "$tmp/pc_cxx" LD_LIBRARY_PATH="$lib"
else
    cat "$tmp/pc.log"
    fail "pkg-config mayday-cxx: build failed"
fi

cdir=$tmp/consumer
if cmake -S "$src/Tests/failure/consumer" -B "$cdir" -G "$generator" "${cross[@]}" \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DAPP_SOURCE="$app" \
    >"$tmp/cfg.log" 2>&1 && cmake --build "$cdir" >"$tmp/build.log" 2>&1; then
    check find_package-shared "$cdir/app_cxx_shared"
    check find_package-static "$cdir/app_cxx_static"
    if grep -q 'NEEDED.*libmayday' <<<"$(readelf -d "$cdir/app_cxx_static")"; then
        fail "find_package-static: needs a shared libmayday"
    fi
else
    cat "$tmp/cfg.log" "$tmp/build.log" 2>/dev/null | tail -n 30
    fail "find_package consumer: configure/build failed"
fi

if ((fails > 0)); then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all libmayday-cxx install checks passed"
