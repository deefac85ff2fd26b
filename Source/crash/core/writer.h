/*
 * writer.h - buffered output with a hard byte cap, over a file descriptor
 * or into memory, keeping the CRC-32 of what it writes.
 *
 * Context: async-signal-safe (raw write/pwrite syscalls; pread only in the
 * rare fallback of mds_writer_crc32). One writer has one owner at a time.
 *
 * Errors are sticky: after the first failure (disk full, EIO, cap reached)
 * every later call is a no-op returning the same error, so the crash-path
 * code that builds a report can write straight through and check once.
 *
 * CRC as written: each flush adds the bytes it writes to a running CRC;
 * a patch of bytes already written adds its change (old xor new) to a
 * correction term, shifted as the output grows (crc32.h). The old bytes
 * are known for the first MDS_WRITER_HEAD bytes (kept in the writer) and
 * whenever the caller says what they were (mds_writer_patch_over: pbenc's
 * length placeholders); only a patch of other old bytes makes
 * mds_writer_crc32 read the file back.
 */
#ifndef MDS_WRITER_H
#define MDS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "crc32.h"

#define MDS_WRITER_HEAD 64 /* leading bytes kept (the framing header) */

typedef struct mds_writer {
    int fd;             /* < 0: memory mode, buf is the whole output */
    unsigned char *buf; /* caller-provided (arena) buffer */
    size_t cap;         /* size of buf */
    size_t len;         /* bytes pending in buf */
    uint64_t flushed;   /* bytes already written to fd: offset of buf[0] */
    uint64_t limit;     /* hard cap on the total output in bytes */
    int err;            /* first error, -errno or MAYDAY_E*; 0 if none */
    /* If set, 1 while a write/pwrite/pread syscall is in progress: a
     * thread waiting on the writer can tell a stuck file system. */
    volatile uint32_t *io_flag;
    /* CRC of the flushed bytes, kept as they are written (see above) */
    uint32_t crc;  /* CRC-32 of [0, flushed) as first written */
    uint32_t fix;  /* raw CRC of the later changes, as of `flushed` */
    int crc_stale; /* a patch of unknown old bytes: read back */
    unsigned char head[MDS_WRITER_HEAD]; /* [0, HEAD) as flushed/patched */
} mds_writer;

/* fd >= 0 writes to fd starting at its current offset 0 (a fresh file);
 * fd < 0 keeps everything in buf (limit is then clamped to cap). */
void mds_writer_init(mds_writer *w, int fd, void *buf, size_t cap,
                     uint64_t limit);
/* Bytes written so far (flushed or not). */
static inline uint64_t mds_writer_pos(const mds_writer *w)
{
    return w->flushed + w->len;
}
/* Appends n bytes, all or nothing: if they would pass the limit nothing is
 * written and MAYDAY_ETOOBIG is returned (not sticky: a smaller write may
 * still fit). I/O errors are sticky. Retries EINTR and short writes. */
int mds_writer_put(mds_writer *w, const void *data, size_t n);
/* Overwrites n already-written bytes at absolute position pos (in the buffer
 * if still there, else with pwrite). */
int mds_writer_patch(mds_writer *w, uint64_t pos, const void *data, size_t n);
/* The same when the caller knows the n bytes being replaced (`was`): the
 * CRC stays computed without reading anything back. */
int mds_writer_patch_over(mds_writer *w, uint64_t pos, const void *data,
                          const void *was, size_t n);
/* Drops everything after pos (pos must still be in the buffer: returns
 * MAYDAY_EINVAL otherwise). */
int mds_writer_rewind(mds_writer *w, uint64_t pos);
/* Writes out the buffer. */
int mds_writer_flush(mds_writer *w);
/* CRC-32 (IEEE) of bytes [from, pos) of the output, after a flush (file
 * mode): from the running CRC when from is within the first
 * MDS_WRITER_HEAD bytes; otherwise, or after a patch of unknown old
 * bytes, by reading the file back with pread. */
int mds_writer_crc32(mds_writer *w, uint64_t from, uint32_t *crc);

#endif
