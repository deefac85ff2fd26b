/*
 * local_unwind.h - libunwind's local unwinder as a test reference (see
 * local_unwind.c). Context: test code.
 */
#ifndef WALK_LOCAL_UNWIND_H
#define WALK_LOCAL_UNWIND_H

#include <stdint.h>

/* Walks the calling thread with unw_getcontext + unw_init_local +
 * unw_step; frame i's ip and sp. Returns the count or -1. */
int local_unwind_here(uintptr_t *pcs, uintptr_t *sps, int max);
/* unw_backtrace (libunwind's fast local trace). */
int local_backtrace(void **pcs, int max);
/* Drops the local address space's caches. */
void local_flush(void);

#endif
