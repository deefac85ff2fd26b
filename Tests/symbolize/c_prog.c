/*
 * c_prog.c - a C program built -O2 -fomit-frame-pointer (as PIE and as
 * non-PIE) that installs mayday and crashes in code the symbolication
 * comparison needs: a store inlined three levels deep (poke into
 * leaf_inline into recurse), the cold part of a function split by gcc
 * (check_value.cold), and functions of two dlopen'ed libraries (one stripped
 * with a .gnu_debuglink, one with only its build-id to find its DWARF).
 *
 *   c_prog REPORT_DIR inline|cold|abort|dl-debuglink|dl-buildid [LIBDIR]
 *
 * abort: give_up() calls abort() (for the crash signature tests).
 *
 * Context: test helper program (it crashes on purpose).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mayday/mayday.h>

volatile int *volatile g_ptr;
volatile int g_sink;

static inline void poke(int v) { *g_ptr = v; /* the fault */ }

static inline void leaf_inline(int v)
{
    if (v > 0)
        poke(v * 3);
    g_sink += v;
}

static __attribute__((noinline)) int recurse(int depth)
{
    if (depth == 0) {
        leaf_inline(g_sink + 7);
        return g_sink;
    }
    int r = recurse(depth - 1);
    return r + depth * g_sink;
}

/* A cold callee makes the error path cold: gcc moves it into
 * check_value.cold, in .text.unlikely, away from check_value. */
static __attribute__((cold, noinline)) void report_bad(int v)
{
    fprintf(stderr, "c_prog: bad value %d\n", v);
}

static __attribute__((noinline)) int check_value(int v)
{
    int s = 0;
    for (int i = 0; i < v; i++)
        s += g_sink * i;
    if (v == 42) {
        report_bad(v);
        *g_ptr = v; /* the fault, in check_value.cold */
        abort();
    }
    return s * 2 + g_sink;
}

static __attribute__((noinline)) int give_up(int v)
{
    if (v >= 0)
        abort();
    return v;
}

static int run_lib(const char *dir, const char *name, const char *fn)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    void *h = dlopen(path, RTLD_NOW);
    if (!h) {
        fprintf(stderr, "c_prog: %s\n", dlerror());
        return 3;
    }
    int (*f)(volatile int *, int) = (int (*)(volatile int *, int))dlsym(h, fn);
    if (!f)
        return 3;
    return f(g_ptr, g_sink + 3);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = argv[1];
    cfg.app_id = "c_prog";
    if (mayday_install(&cfg) < 0)
        return 3;
    const char *mode = argv[2];
    if (strcmp(mode, "inline") == 0)
        return recurse(3);
    if (strcmp(mode, "abort") == 0)
        return give_up(g_sink);
    if (strcmp(mode, "cold") == 0)
        return check_value(g_sink + 42);
    if (strcmp(mode, "dl-debuglink") == 0 && argc > 3)
        return run_lib(argv[3], "libdl_a.so", "dl_a_entry");
    if (strcmp(mode, "dl-buildid") == 0 && argc > 3)
        return run_lib(argv[3], "libdl_b.so", "dl_b_entry");
    return 2;
}
