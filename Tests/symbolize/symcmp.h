/*
 * symcmp.h - compares the `mayday decode --format json` frames of a
 * report with what elfutils' eu-addr2line and binutils' addr2line
 * (-f -i -C) say about the same addresses: the inline chain (innermost
 * first), each entry's function, source file and line.
 *
 * Context: tests only. The expected values come from the two tools, run
 * as child processes on the image files (or on the unstripped originals of
 * stripped copies: same code, same addresses).
 */
#ifndef MD_SYMCMP_H
#define MD_SYMCMP_H

#include <stddef.h>

#include "json_mini.h"

#define SC_MAX_CHAIN 16

/* binutils of the architecture the programs are built for (the cross
 * build's aarch64-linux-gnu-objcopy ...; CMakeLists.txt passes CMake's). */
#ifndef OBJCOPY
#define OBJCOPY "objcopy"
#endif
#ifndef ADDR2LINE
#define ADDR2LINE "addr2line"
#endif

typedef struct sc_entry {
    char *function; /* NULL: "??" */
    char *file;     /* NULL: "??" */
    int line;       /* 0: unknown */
} sc_entry;

typedef struct sc_chain {
    sc_entry e[SC_MAX_CHAIN];
    int n;
} sc_chain;

/* Totals of one comparison (or of several, added up). */
typedef struct sc_stats {
    int frames;          /* physical frames compared */
    int entries;         /* entries in eu-addr2line's chains */
    int eu_mismatch;     /* frames whose chain differs from eu-addr2line */
    int bu_mismatch;     /* ... from addr2line (function and line) */
    int tools_disagree;  /* frames where the two tools disagree */
    int line_outside_cu; /* frames where both tools have no line, we do */
    int failed;          /* frames that match neither rule (see .c) */
    int eu_fl_mismatch;  /* ... eu-addr2line, functions and lines only */
    int sym_mismatch;    /* ELF symbol+offset differs from eu-addr2line -S */
} sc_stats;

/* Maps an image path in the report to the file the tools should read
 * (the unstripped original of a stripped copy); NULL: the path itself. */
typedef const char *(*sc_map_fn)(const char *image_path, void *ud);

/* Compares the frames of thread `thread` of the decoded report `json`.
 * Prints every difference (tag in front) to stdout. Adds to *st. */
void sc_compare(const jm_node *json, size_t thread, sc_map_fn map, void *ud,
                const char *tag, sc_stats *st);

/* Runs TOOL (eu-addr2line or addr2line) -f -i -C -a -e FILE on the
 * addresses; out[i] is the chain of addrs[i]. 0 or -1. */
int sc_run_tool(const char *tool, const char *file,
                const unsigned long long *addrs, size_t n, sc_chain *out);
/* eu-addr2line -S: the ELF symbol containing addr and the offset from it
 * ("check_value.cold+0xd"), demangled, without a version suffix, into
 * buf ("" if none). 0 or -1. */
int sc_eu_symbol(const char *file, unsigned long long addr, char *buf, size_t n,
                 unsigned long long *off);
void sc_chain_free(sc_chain *c);

#endif
