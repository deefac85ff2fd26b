/*
 * make_fixture.c - writes a realistic report of itself (fixture.c) whose
 * crashed thread's frames are addresses at known source lines of this file,
 * for the symbolication tests: the test finds the lines by scanning this
 * file for the MARKER comments, so do not move them onto other lines.
 *
 *   make_fixture OUT.mayday [--tricky] [--incomplete] [--contents] [--time NS]
 *
 * Frames of the crashed thread, innermost first:
 *   #0 context frame: the address of a label on the CONTEXT_MARKER line
 *   #1 return address of a call on the MARKER line (in marker_function)
 *   #2 return address of a call on the IN_INLINE_MARKER line, inside
 *      inlined_helper (always_inline) which marker_function calls on the
 *      CALLS_INLINE_MARKER line: symbolicates to two entries
 *   #3 return address of a call on the MAIN_MARKER line (in main)
 *   #4 an address in libc (write)
 *   #5 if libstdc++ is installed: std::exception::what() const (demangling)
 *
 * Built with -g -O0. Context: test helper program (normal context).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static uint64_t g_pcs[8];
volatile int g_sink;

static __attribute__((noinline)) void capture(int slot)
{
    g_pcs[slot] = (uint64_t)(uintptr_t)__builtin_return_address(0);
}

static inline __attribute__((always_inline)) void inlined_helper(void)
{
    capture(2); /* IN_INLINE_MARKER */
    g_sink++;
}

static __attribute__((noinline)) void context_function(void)
{
    g_pcs[0] = (uint64_t)(uintptr_t) && here;
here:
    g_sink += 3; /* CONTEXT_MARKER */
    if (g_sink < 0)
        goto here;
}

static __attribute__((noinline)) void marker_function(void)
{
    capture(1); /* MARKER */
    g_sink++;
    inlined_helper(); /* CALLS_INLINE_MARKER */
    g_sink++;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: make_fixture OUT [--tricky] [--incomplete] "
                        "[--contents] [--time NS]\n");
        return 2;
    }
    context_function();
    marker_function();
    capture(3); /* MAIN_MARKER */
    /* libc's own write: through RTLD_DEFAULT an interposer (the ASan
     * runtime's interceptor in sanitizer builds) would answer instead. */
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    if (!libc || !dlsym(libc, "write")) {
        fprintf(stderr, "make_fixture: libc.so.6 write not found\n");
        return 1;
    }
    g_pcs[4] = (uint64_t)(uintptr_t)dlsym(libc, "write") + 4;
    fx_opts o = {.pcs = g_pcs, .npcs = 5};
    /* #5: a C++ function (std::exception::what() const) in libstdc++, to
     * check demangling, when libstdc++ is installed. */
    void *cxx = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
    void *what = cxx ? dlsym(cxx, "_ZNKSt9exception4whatEv") : NULL;
    if (what) {
        g_pcs[5] = (uint64_t)(uintptr_t)what + 2;
        o.npcs = 6;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--tricky") == 0)
            o.tricky_strings = 1;
        else if (strcmp(argv[i], "--incomplete") == 0)
            o.incomplete = 1;
        else if (strcmp(argv[i], "--contents") == 0)
            o.contents = 1;
        else if (strcmp(argv[i], "--time") == 0 && i + 1 < argc)
            o.time_ns = strtoll(argv[++i], NULL, 10);
    }
    Mayday__Report *r = fx_build(&o);
    int rc = fx_write_report(r, argv[1]);
    fx_free(r);
    if (rc != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
