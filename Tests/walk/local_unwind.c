/*
 * local_unwind.c - libunwind's own LOCAL unwinder, used by the tests only
 * as an independent reference for the frames mds_walk finds.
 *
 * Context: test code; called from a signal handler in the walked thread.
 * (This is exactly the path mayday must not use at crash time: it calls
 * dl_iterate_phdr and takes locks. In a test it is fine.)
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdint.h>

#include "local_unwind.h"

int local_unwind_here(uintptr_t *pcs, uintptr_t *sps, int max)
{
    unw_context_t ctx;
    unw_cursor_t c;
    int n = 0;
    if (unw_getcontext(&ctx) != 0 || unw_init_local(&c, &ctx) != 0)
        return -1;
    do {
        unw_word_t ip, sp;
        if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 ||
            unw_get_reg(&c, UNW_REG_SP, &sp) < 0)
            break;
        pcs[n] = ip;
        sps[n] = sp;
        n++;
    } while (n < max && unw_step(&c) > 0);
    return n;
}

int local_backtrace(void **pcs, int max) { return unw_backtrace(pcs, max); }

void local_flush(void) { unw_flush_cache(unw_local_addr_space, 0, 0); }
