/*
 * stopset.c - preparing a reporter's stop set at install (see
 * Source/crash/stop/stop.h): the slot table, scratch, the ptrace helper's
 * stack (guard pages both sides), and a reserved /proc/PID/task
 * descriptor.
 *
 * Context: normal.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "crash/core/arena.h"
#include "crash/stop/stop.h"

int md_stopset_init(mds_stopset *s, uint32_t cap, int proc_fd)
{
    memset(s, 0, sizeof *s);
    s->task_fd = -1;
    size_t slots = (size_t)cap * sizeof(mds_slot);
    if (mds_arena_map(&s->slot_arena, slots + MDS_STOP_BUF) < 0 ||
        mds_arena_map(&s->stack_arena, MDS_HELPER_STACK) < 0) {
        md_stopset_free(s);
        return -1;
    }
    s->slots = mds_arena_alloc(&s->slot_arena, slots, 64);
    s->buf = mds_arena_alloc(&s->slot_arena, MDS_STOP_BUF, 64);
    s->cap = cap;
    s->hstack = s->stack_arena.base;
    s->hstack_len = s->stack_arena.size;
    if (proc_fd >= 0) {
        s->task_fd =
            openat(proc_fd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        s->task_fd_pid = (uint32_t)getpid();
    }
    return 0;
}

void md_stopset_free(mds_stopset *s)
{
    if (s->task_fd >= 0)
        close(s->task_fd);
    mds_arena_unmap(&s->slot_arena);
    mds_arena_unmap(&s->stack_arena);
    memset(s, 0, sizeof *s);
    s->task_fd = -1;
}
