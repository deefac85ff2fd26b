#!/usr/bin/env bash
# check-style.sh - mayday's style checks over the project's own files (not
# build directories, not generated protobuf code).
#
# Strict (exit 1 on any violation):
#   - every .c/.h starts with a comment block (what it is for, its context)
#   - no .c/.h file over 800 lines
#   - no tab characters and no trailing whitespace in .c/.h/.proto/.sh/
#     CMakeLists.txt/.cmake files
# Warning only (strict with --strict): clang-format (.clang-format) would
# change the file. Existing code is hand-formatted in places (aligned tables
# and comments), so clang-format is advisory.
#
# Context: developer tool and CTest test `style` (Tests/install/).
# Usage:
#   scripts/check-style.sh [--strict] [FILE...]   check (default: all files)
#   scripts/check-style.sh --fix FILE...          clang-format -i FILE...
#   scripts/check-style.sh --diff FILE...         show clang-format's changes
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
max_lines=800
strict=0
mode=check
clang_format=${CLANG_FORMAT:-clang-format}

while (($# > 0)); do
    case $1 in
    --strict) strict=1 ;;
    --fix) mode=fix ;;
    --diff) mode=diff ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d'
        exit 0
        ;;
    -*)
        echo "unknown option $1" >&2
        exit 2
        ;;
    *) break ;;
    esac
    shift
done

# The project's files: tracked + untracked-but-not-ignored when in git
# (.gitignore excludes build*/), else a find that skips build dirs.
list_files() {
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$root" ls-files -co --exclude-standard -- "$@"
    else
        local args=() p
        for p in "$@"; do
            args+=(-o -name "$p")
        done
        find . \( -path './build*' -o -path './.git' -o -path './_build' \
            -o -path './out' \) -prune -o \( -false "${args[@]}" \) \
            -type f -print | sed 's|^\./||'
    fi
}

# Skips generated and vendored code, and files deleted in the work tree.
filter() {
    local f
    while IFS= read -r f; do
        case $f in
        *.pb-c.c | *.pb-c.h | third_party/* | */third_party/*) continue ;;
        esac
        [[ -f $f ]] && printf '%s\n' "$f"
    done
}

if (($# > 0)); then
    c_files=$(printf '%s\n' "$@" | grep -E '\.(c|h)$' || true)
    text_files=$(printf '%s\n' "$@")
else
    c_files=$(list_files '*.c' '*.h' | filter)
    text_files=$(list_files '*.c' '*.h' '*.proto' '*.sh' 'CMakeLists.txt' \
        '*.cmake' '*.cmake.in' | filter)
fi

if [[ $mode != check ]]; then
    if (($# == 0)); then
        echo "--fix/--diff need file names (reformatting other people's" \
            "files wholesale is a team decision)" >&2
        exit 2
    fi
    for f in $c_files; do
        if [[ $mode == fix ]]; then
            "$clang_format" -i "$f"
        else
            "$clang_format" "$f" | diff -u "$f" - || true
        fi
    done
    exit 0
fi

errors=0
err() {
    echo "error: $*"
    errors=$((errors + 1))
}

# Header comment: the first non-blank line opens a comment.
for f in $c_files; do
    first=$(grep -m1 -v '^[[:space:]]*$' "$f" || true)
    case $first in
    /\** | //*) ;;
    *) err "$f: no comment block at the top (what it is for, its context)" ;;
    esac
    n=$(wc -l <"$f")
    ((n <= max_lines)) || err "$f: $n lines (limit $max_lines): split it"
done

for f in $text_files; do
    if grep -q $'\t' "$f"; then
        err "$f: tab characters at line(s)" \
            "$(grep -n $'\t' "$f" | cut -d: -f1 | head -5 | tr '\n' ' ')"
    fi
    if grep -q '[[:space:]]$' "$f"; then
        err "$f: trailing whitespace at line(s)" \
            "$(grep -n '[[:space:]]$' "$f" | cut -d: -f1 | head -5 |
                tr '\n' ' ')"
    fi
done

# clang-format: warning (or error with --strict).
cf_files=0
if command -v "$clang_format" >/dev/null 2>&1; then
    for f in $c_files; do
        n=$("$clang_format" --dry-run "$f" 2>&1 | grep -c 'warning:' || true)
        if ((n > 0)); then
            cf_files=$((cf_files + 1))
            if ((strict)); then
                err "$f: clang-format would change $n place(s)"
            else
                echo "warning: $f: clang-format would change $n place(s)"
            fi
        fi
    done
    if ((cf_files > 0)); then
        echo "clang-format: $cf_files file(s) differ; see the changes with" \
            "scripts/check-style.sh --diff FILE, apply with --fix FILE"
    fi
else
    echo "warning: $clang_format not found; formatting not checked"
fi

nc=$(printf '%s\n' "$c_files" | grep -c . || true)
if ((errors > 0)); then
    echo "style: $errors error(s) in $nc C file(s) checked"
    exit 1
fi
echo "style: ok ($nc C files; clang-format differences: $cf_files," \
    "$( ((strict)) && echo strict || echo advisory))"
