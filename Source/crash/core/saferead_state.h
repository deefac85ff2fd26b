/*
 * saferead_state.h - the safe read's state, shared by its crash-path half
 * (saferead.c) and its install-time half (saferead_init.c). Not for use
 * elsewhere.
 *
 * Context: written in normal context by md_saferead_init (and, for the
 * pipes of a forked child, once by the crash path itself); otherwise read
 * with atomics.
 */
#ifndef MDS_SAFEREAD_STATE_H
#define MDS_SAFEREAD_STATE_H

#include <stddef.h>
#include <stdint.h>

#define MDS_SR_PIPES 4           /* concurrent readers without waiting */
#define MDS_SR_CHUNK (64 * 1024) /* bytes per write: at most the pipe size */

typedef struct mds_sr_pipe {
    int rd, wr;             /* -1: none */
    uint64_t dev, ino;      /* what fstat must say of both ends */
    volatile uint32_t busy; /* claimed by a reader */
} mds_sr_pipe;

typedef struct mds_sr_state {
    volatile int method; /* MDS_SAFEREAD_*; VM before init */
    int initialised;
    uint32_t chunk; /* <= the pipes' capacity */
    /* The process that owns the pipes; 0 while a forked child re-creates
     * them. */
    volatile uint32_t owner_pid;
    mds_sr_pipe p[MDS_SR_PIPES];
} mds_sr_state;

extern mds_sr_state mds_sr;

/* Crash-path half, for the install-time self-test. */
int mds_sr_vm_read(void *dst, uintptr_t src, size_t len);
int mds_sr_pipe_read(void *dst, uintptr_t src, size_t len);
/* Opens the pipes for this process (raw syscalls, async-signal-safe).
 * Returns 0 or -errno. */
int mds_sr_open_pipes(uint32_t pid);
void mds_sr_close_pipes(void);

#endif
