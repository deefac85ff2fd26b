/*
 * altstack.h - per-thread alternate signal stacks: without one, a stack
 * overflow cannot be reported (the kernel has no stack to run the handler
 * on).
 *
 * Context: async-signal-safe.
 */
#ifndef MDS_ALTSTACK_H
#define MDS_ALTSTACK_H

#include <stddef.h>

/* Gives the calling thread a guard-paged altstack if it has none.
 * uc (may be NULL) is the current signal frame's ucontext: its uc_stack is
 * updated too, or sigreturn would undo the change. Returns 0 or -errno. */
int mds_altstack_ensure(void *uc, void **map_out, size_t *map_len_out);
/* Size of the usable altstack area, set at install. */
extern size_t mds_altstack_size;

#endif
