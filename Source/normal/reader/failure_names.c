/*
 * failure_names.c - strings for Report.failure (issue 12): failure kinds,
 * terminate reasons, hang actions, and the demangling of C++ exception
 * types, for the text and JSON formatters.
 *
 * Context: normal. Static tables; the identifiers are part of the
 * documented JSON format (docs/report-format.md): never rename them.
 * Demangling uses libstdc++'s __cxa_demangle, found at run time (dlsym,
 * else dlopen of libstdc++.so.6), so libmayday does not link C++.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "normal/reader/reader.h"

#define TABLE_GET(t, i)                                                        \
    (((i) > 0 && (size_t)(i) < sizeof(t) / sizeof((t)[0])) ? (t)[i] : NULL)

static const char *const k_kind_id[] = {
    [1] = "abort",   [2] = "assert",          [3] = "malloc_check",
    [4] = "fortify", [5] = "stack_protector", [6] = "libc_fatal",
    [7] = "trap",    [8] = "cxx_terminate",   [9] = "fatal",
    [10] = "hang",
};

static const char *const k_kind_text[] = {
    [1] = "abort() without a message",
    [2] = "assertion failed (glibc assert)",
    [3] = "glibc malloc check failed (heap corruption or bad free)",
    [4] = "_FORTIFY_SOURCE check failed",
    [5] = "stack smashing detected (stack protector)",
    [6] = "glibc fatal error",
    [7] = "trap instruction (__builtin_trap)",
    [8] = "C++ std::terminate",
    [9] = "fatal error declared by the application (mayday_fatal)",
    [10] = "hang: a watched thread missed its heartbeat deadline",
};

static const char *const k_reason_id[] = {
    [1] = "uncaught",
    [2] = "uncaught_rethrow",
    [3] = "noexcept",
    [4] = "during_unwinding",
    [5] = "rethrow_no_exception",
    [6] = "pure_virtual",
    [7] = "called",
};

static const char *const k_reason_text[] = {
    [1] = "uncaught exception (no handler)",
    [2] = "uncaught exception, rethrown (no handler)",
    [3] = "exception escaped a noexcept function",
    [4] = "exception thrown while another one was unwinding the stack",
    [5] = "'throw;' with no exception being handled",
    [6] = "pure or deleted virtual function called",
    [7] = "std::terminate() called by the program",
};

const char *md_failure_kind_id(int kind) { return TABLE_GET(k_kind_id, kind); }
const char *md_failure_kind_text(int kind)
{
    return TABLE_GET(k_kind_text, kind);
}
const char *md_terminate_reason_id(int reason)
{
    return TABLE_GET(k_reason_id, reason);
}
const char *md_terminate_reason_text(int reason)
{
    return TABLE_GET(k_reason_text, reason);
}

const char *md_hang_action_id(int action)
{
    static const char *const t[] = {[1] = "continue", [2] = "end"};
    return TABLE_GET(t, action);
}

typedef char *(*cxa_demangle_fn)(const char *, char *, size_t *, int *);

char *md_demangle_type(const char *mangled)
{
    static int tried;
    static cxa_demangle_fn fn;
    /* mayday writes at most 255 bytes; a longer (hand-made) name is not
     * given to the demangler, whose recursion depth grows with it. */
    if (!mangled || !mangled[0] || strlen(mangled) > 255)
        return NULL;
    if (!tried) {
        tried = 1;
        fn = (cxa_demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
        if (!fn) {
            void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
            if (h)
                fn = (cxa_demangle_fn)dlsym(h, "__cxa_demangle");
        }
    }
    if (!fn)
        return NULL;
    int status = -1;
    char *d = fn(mangled, NULL, NULL, &status);
    if (status != 0) {
        free(d);
        return NULL;
    }
    return d;
}

long md_throw_frame(const Mayday__Report *r)
{
    const Mayday__Failure *f = r->failure;
    if (!f || !f->exception || !f->exception->has_throw_pc ||
        !r->has_crashed_thread)
        return -1;
    const Mayday__Thread *t = r->threads[r->crashed_thread];
    for (size_t i = 0; i < t->n_frames; i++) {
        if (t->frames[i]->has_pc && t->frames[i]->pc == f->exception->throw_pc)
            return (long)i;
    }
    return -1;
}
