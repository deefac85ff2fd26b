#!/usr/bin/env bash
# test_install.sh - installs the current build into a temporary prefix and
# builds a tiny program (consumer/app.c) against the INSTALLED tree five
# ways, runs each and checks what it links:
#   1. pkg-config mayday               dynamic: libmayday.so.0 from the prefix
#   2. pkg-config --static mayday      with -l:libmayday.a: no libmayday.so
#   3. pkg-config mayday-static        libmayday.a by path: no libmayday.so
#   4. find_package, mayday::mayday    dynamic: libmayday.so.0 from the prefix
#   5. find_package, mayday_static     no libmayday.so
# Also checks the installed layout (header, soname symlinks). Then (issue
# 10) consumer/crash_app.c, built against the installed tree in every
# supported link mode, must crash into a complete report, checked by
# check_report.py with the installed CLI, nm and readelf ($MAYDAY_REPEAT
# runs per mode and kind of crash, default 10):
#   pkg-config mayday (shared), mayday-static (dynamic glibc),
#   mayday-static --static with -static (static glibc), find_package
#   shared / static / static with MAYDAY_STATIC_DEPS and -static;
#   and a -static-pie link must be refused with mayday's message.
# Also checks the installed layout (header, soname symlinks), and that
# libmayday-upload is a library of its own: the apps above never link
# libcurl; upload_app.c builds with mayday-upload(-static).pc and with
# find_package COMPONENTS upload upload_static.
#
# Context: a CTest test (Tests/install/CMakeLists.txt), normal context.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR VERSION LIBDIR CC GENERATOR
#        [SANITIZE]
# Exit: 0 pass, 1 fail, 77 skipped (sanitizer builds: the installed
# libraries then need the sanitizer runtime, which a plain app lacks).
set -euo pipefail

build=$1 src=$2 version=$3 libdir=$4 cc=$5 generator=$6 sanitize=${7:-}
if [[ -n $sanitize ]]; then
    echo "SKIP: sanitizer build (MAYDAY_SANITIZE=$sanitize)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mayday-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
lib=$prefix/$libdir
app=$src/Tests/install/consumer/app.c
fails=0

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# run LOG CMD...: runs CMD quietly; on failure prints its output.
run() {
    local log=$tmp/$1
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "command failed: $*"
        sed 's/^/    /' "$log"
        return 1
    fi
}

# check_runs NAME BINARY [env...]: the app prints "mayday V V".
check_runs() {
    local name=$1 bin=$2 out
    shift 2
    if ! out=$(env "$@" "$bin" 2>&1); then
        fail "$name: app failed: $out"
        return
    fi
    if [[ $out != "mayday $version $version" ]]; then
        fail "$name: printed '$out', expected 'mayday $version $version'"
        return
    fi
    echo "ok   $name: $out"
}

# check_dynamic NAME BINARY [env...]: needs libmayday.so.0, resolved in
# the prefix.
check_dynamic() {
    local name=$1 bin=$2 resolved
    shift 2
    if ! grep -q 'NEEDED.*\[libmayday\.so\.0\]' <<<"$(readelf -d "$bin")"; then
        fail "$name: no NEEDED libmayday.so.0"
        return
    fi
    resolved=$(env "$@" ldd "$bin" | awk '$1 == "libmayday.so.0" {print $3}')
    if [[ -z $resolved ]] ||
        [[ $(realpath "$resolved") != $(realpath "$lib/libmayday.so.0") ]]; then
        fail "$name: libmayday.so.0 resolves to '$resolved', not $lib"
        return
    fi
    echo "ok   $name: links $resolved"
}

# check_static NAME BINARY: does not need libmayday.so, defines the API.
check_static() {
    local name=$1 bin=$2
    if grep -q 'NEEDED.*libmayday' <<<"$(readelf -d "$bin")"; then
        fail "$name: needs libmayday.so"
        return
    fi
    if ! grep -q ' T mayday_version$' <<<"$(nm "$bin")"; then
        fail "$name: mayday_version not linked in"
        return
    fi
    echo "ok   $name: libmayday linked statically"
}

# ---------------------------------------------------------------- install
run install.log cmake --install "$build" --prefix "$prefix" || exit 1

for f in include/mayday/mayday.h "$libdir/libmayday.a" \
    "$libdir/pkgconfig/mayday.pc" "$libdir/pkgconfig/mayday-static.pc" \
    "$libdir/cmake/mayday/mayday-config.cmake" \
    "$libdir/cmake/mayday/mayday-config-version.cmake" \
    "$libdir/cmake/mayday/mayday-targets.cmake"; do
    [[ -f $prefix/$f ]] || fail "not installed: $f"
done
[[ $(readlink "$lib/libmayday.so") == libmayday.so.0 ]] ||
    fail "libmayday.so -> $(readlink "$lib/libmayday.so"), not libmayday.so.0"
[[ $(readlink "$lib/libmayday.so.0") == "libmayday.so.$version" ]] ||
    fail "libmayday.so.0 -> $(readlink "$lib/libmayday.so.0")"
soname=$(readelf -d "$lib/libmayday.so.$version" |
    sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == libmayday.so.0 ]] || fail "SONAME is '$soname'"
grep -q "^prefix=$prefix\$" "$lib/pkgconfig/mayday.pc" ||
    fail "mayday.pc prefix is not the install prefix $prefix"
echo "ok   install: $prefix"

# Static links force every public function in (-u), as a program using the
# whole API would: the dependency lists must then resolve everything.
force=()
for sym in $(nm -g --defined-only "$lib/libmayday.a" 2>/dev/null |
    awk '$2 == "T" && $3 ~ /^mayday_[a-z]/ {print $3}' | sort -u); do
    force+=("-Wl,-u,$sym")
done
echo "ok   static links force ${#force[@]} public function(s) in"

# -------------------------------------------------------------- pkg-config
export PKG_CONFIG_PATH=$lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
cflags=$(pkg-config --cflags mayday)
pc_version=$(pkg-config --modversion mayday)
[[ $pc_version == "$version" ]] || fail "mayday.pc version $pc_version"

# 1. dynamic
if run pc_shared.log "$cc" -o "$tmp/pc_shared" "$app" $cflags \
    $(pkg-config --libs mayday); then
    check_runs pkg-config-shared "$tmp/pc_shared" LD_LIBRARY_PATH="$lib"
    check_dynamic pkg-config-shared "$tmp/pc_shared" LD_LIBRARY_PATH="$lib"
else
    fail "pkg-config-shared: build failed"
fi

# 2. --static: the dependency list must be complete for libmayday.a.
static_libs=$(pkg-config --static --libs mayday)
for l in -lmayday -lunwind-generic -lprotobuf-c -lpthread -ldl; do
    [[ " $static_libs " == *" $l "* ]] ||
        fail "pkg-config --static --libs mayday lacks $l: $static_libs"
done
# -lmayday would pick libmayday.so (installed next to the archive).
static_libs=" $static_libs "
static_libs=${static_libs/ -lmayday / -l:libmayday.a }
if run pc_static.log "$cc" -o "$tmp/pc_static" "$app" "${force[@]}" \
    $cflags $static_libs; then
    check_runs pkg-config-static "$tmp/pc_static"
    check_static pkg-config-static "$tmp/pc_static"
else
    fail "pkg-config-static: build failed"
fi

# 3. mayday-static.pc
if run pc_static2.log "$cc" -o "$tmp/pc_static2" "$app" "${force[@]}" \
    $(pkg-config --cflags --libs mayday-static); then
    check_runs pkg-config-mayday-static "$tmp/pc_static2"
    check_static pkg-config-mayday-static "$tmp/pc_static2"
else
    fail "pkg-config-mayday-static: build failed"
fi

# ----------------------------------------------- libmayday-upload (issue 13)
# An application that only wants crash handling never links libcurl; one
# that uploads links libmayday-upload, which brings libcurl.
upload_app=$src/Tests/install/consumer/upload_app.c
check_upload_runs() { # NAME BINARY [env...]
    local name=$1 bin=$2 out
    shift 2
    if ! out=$(env "$@" "$bin" 2>&1) ||
        [[ $out != "mayday-upload $version uploaded" ]]; then
        fail "$name: printed '$out'"
        return
    fi
    echo "ok   $name: $out"
}
for b in "$lib/libmayday.so.0" "$tmp/pc_shared" "$tmp/pc_static" \
    "$tmp/pc_static2"; do
    [[ -f $b ]] || continue
    if readelf -d "$b" | grep -q 'NEEDED.*libcurl'; then
        fail "$(basename "$b"): a crash-handling-only app needs libcurl"
    fi
done
for pc in mayday mayday-static; do
    if pkg-config --libs --static "$pc" | grep -q curl; then
        fail "$pc.pc names libcurl"
    fi
done
echo "ok   crash-handling-only apps do not link libcurl"
if [[ -f $lib/pkgconfig/mayday-upload.pc ]]; then
    if run pcu_shared.log "$cc" -o "$tmp/pcu_shared" "$upload_app" \
        $(pkg-config --cflags --libs mayday-upload); then
        check_upload_runs pkg-config-upload "$tmp/pcu_shared" \
            LD_LIBRARY_PATH="$lib"
        readelf -d "$tmp/pcu_shared" |
            grep -q 'NEEDED.*\[libmayday-upload\.so\.0\]' ||
            fail "pkg-config-upload: no NEEDED libmayday-upload.so.0"
    else
        fail "pkg-config-upload: build failed"
    fi
    if run pcu_static.log "$cc" -o "$tmp/pcu_static" "$upload_app" \
        $(pkg-config --cflags --libs mayday-upload-static); then
        check_upload_runs pkg-config-upload-static "$tmp/pcu_static"
        if readelf -d "$tmp/pcu_static" | grep -q 'NEEDED.*libmayday'; then
            fail "pkg-config-upload-static: needs a shared libmayday*"
        fi
    else
        fail "pkg-config-upload-static: build failed"
    fi
else
    fail "not installed: mayday-upload.pc"
fi

# ------------------------------------------------------------ find_package
# One configure for both variants; no package registry (it could point at a
# build tree instead of the prefix).
cdir=$tmp/consumer
if run consumer_configure.log cmake -S "$src/Tests/install/consumer" \
    -B "$cdir" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DMAYDAY_FORCE_LINK=${force[*]}" &&
    run consumer_build.log cmake --build "$cdir"; then
    found=$(sed -n 's/.*consumer: mayday_DIR=//p' "$tmp/consumer_configure.log")
    [[ $(realpath "$found") == $(realpath "$lib/cmake/mayday") ]] ||
        fail "find_package found mayday in '$found', not in the prefix"
    # CMake puts the prefix's lib dir in the build RPATH: no env needed.
    check_runs find_package-shared "$cdir/app_shared"
    check_dynamic find_package-shared "$cdir/app_shared"
    check_runs find_package-static "$cdir/app_static"
    check_static find_package-static "$cdir/app_static"
    if [[ -x $cdir/upload_app_shared && -x $cdir/upload_app_static ]]; then
        check_upload_runs find_package-upload "$cdir/upload_app_shared"
        check_upload_runs find_package-upload-static "$cdir/upload_app_static"
    else
        fail "find_package: components upload/upload_static not found"
    fi
else
    fail "find_package consumer: configure/build failed"
fi

# ------------------------------------------- crash reports, per link mode
cli=$prefix/bin/mayday
crash_src=$src/Tests/install/consumer/crash_app.c
checker=$src/Tests/install/check_report.py
runs=${MAYDAY_REPEAT:-10}

# check_crashes NAME BINARY [env...]: every run of BINARY dies of its
# signal and leaves one report; check_report.py accepts them all.
check_crashes() {
    local name=$1 bin=$2 mode i d st want
    shift 2
    for mode in segv assert; do
        want=139
        [[ $mode == assert ]] && want=134
        local all=() dirs=()
        for ((i = 0; i < runs; i++)); do
            d=$(mktemp -d "$tmp/crash.XXXXXX")
            dirs+=("$d")
            st=0
            env "$@" "$bin" "$d" "$mode" >"$d.log" 2>&1 || st=$?
            local reports=("$d"/*.mayday)
            if [[ $st != "$want" ]]; then
                fail "$name $mode: exit status $st, expected $want"
                sed 's/^/    /' "$d.log"
                return
            elif [[ ${#reports[@]} != 1 || ! -f ${reports[0]} ]]; then
                fail "$name $mode: ${#reports[@]} report(s) in $d"
                return
            fi
            all+=("${reports[0]}")
        done
        if ! python3 "$checker" "$cli" "$bin" "$mode" "${all[@]}"; then
            fail "$name $mode: report check failed"
            return
        fi
        for d in "${dirs[@]}"; do rm -rf "$d" "$d.log"; done
    done
    echo "ok   $name: $runs crashes per kind (segv, assert), reports complete"
}

# check_no_interp NAME BINARY: a fully static executable.
check_no_interp() {
    if readelf -lW "$2" | grep -q -e INTERP -e DYNAMIC; then
        fail "$1: not fully static (has INTERP or DYNAMIC)"
    fi
}

if [[ ! -x $cli ]] || ! command -v python3 >/dev/null; then
    echo "SKIP: crash reports per link mode (no installed CLI or python3)"
else
    base_flags=(-O1 -g -pthread)
    if run crash_shared.log "$cc" "${base_flags[@]}" -o "$tmp/crash_shared" \
        "$crash_src" $(pkg-config --cflags --libs mayday); then
        check_crashes crash-pkg-config-shared "$tmp/crash_shared" \
            LD_LIBRARY_PATH="$lib"
    else
        fail "crash-pkg-config-shared: build failed"
    fi
    if run crash_static.log "$cc" "${base_flags[@]}" -o "$tmp/crash_static" \
        "$crash_src" $(pkg-config --cflags --libs mayday-static); then
        check_static crash-pkg-config-static "$tmp/crash_static"
        check_crashes crash-pkg-config-static "$tmp/crash_static"
    else
        fail "crash-pkg-config-static: build failed"
    fi
    # The output of pkg-config --static links as is, with -static.
    if run crash_full.log "$cc" "${base_flags[@]}" -static \
        -o "$tmp/crash_full" "$crash_src" \
        $(pkg-config --cflags --static --libs mayday-static); then
        if grep -q -i warning "$tmp/crash_full.log"; then
            fail "crash-pkg-config-static-glibc: link warnings:"
            sed 's/^/    /' "$tmp/crash_full.log"
        fi
        check_no_interp crash-pkg-config-static-glibc "$tmp/crash_full"
        check_crashes crash-pkg-config-static-glibc "$tmp/crash_full"
    else
        fail "crash-pkg-config-static-glibc: build failed"
    fi
    # static-pie: refused at link time, with mayday's message.
    if "$cc" "${base_flags[@]}" -static-pie -o "$tmp/crash_spie" \
        "$crash_src" $(pkg-config --cflags --static --libs mayday-static) \
        >"$tmp/crash_spie.log" 2>&1; then
        fail "static-pie: the link succeeded (libunwind-generic.a PIC now?"\
" then support it: docs/linking.md)"
    elif ! grep -q "mayday: static-pie is not supported" "$tmp/crash_spie.log"; then
        fail "static-pie: refused without mayday's message:"
        sed 's/^/    /' "$tmp/crash_spie.log"
    else
        echo "ok   static-pie: refused at link time with mayday's message"
    fi
    if [[ -x $cdir/crash_app_shared && -x $cdir/crash_app_static ]]; then
        check_crashes crash-find_package-shared "$cdir/crash_app_shared"
        check_crashes crash-find_package-static "$cdir/crash_app_static"
    else
        fail "find_package crash_app_shared/static not built"
    fi
    fdir=$tmp/consumer_full
    if run consumer_full_configure.log cmake -S "$src/Tests/install/consumer" \
        -B "$fdir" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAYDAY_STATIC_DEPS=ON \
        -DCONSUMER_FULLY_STATIC=ON &&
        run consumer_full_build.log cmake --build "$fdir"; then
        check_no_interp crash-find_package-static-glibc "$fdir/crash_app_full"
        check_crashes crash-find_package-static-glibc "$fdir/crash_app_full"
    else
        fail "find_package static glibc consumer: configure/build failed"
    fi
fi

if ((fails > 0)); then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all install checks passed"
