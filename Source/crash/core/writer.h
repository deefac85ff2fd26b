/*
 * writer.h - buffered output with a hard byte cap, over a file descriptor
 * or into memory.
 *
 * Context: async-signal-safe (raw write/pwrite/pread syscalls only). One
 * writer has one owner at a time.
 *
 * Errors are sticky: after the first failure (disk full, EIO, cap reached)
 * every later call is a no-op returning the same error, so the crash-path
 * code that builds a report can write straight through and check once.
 */
#ifndef MDS_WRITER_H
#define MDS_WRITER_H

#include <stddef.h>
#include <stdint.h>

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
/* Drops everything after pos (pos must still be in the buffer: returns
 * MAYDAY_EINVAL otherwise). */
int mds_writer_rewind(mds_writer *w, uint64_t pos);
/* Writes out the buffer. */
int mds_writer_flush(mds_writer *w);
/* CRC-32 (IEEE) of bytes [from, pos) of the output, reading back the file
 * with pread in memory-buffer-sized chunks after a flush. */
int mds_writer_crc32(mds_writer *w, uint64_t from, uint32_t *crc);

/* Plain CRC-32 (IEEE 802.3, as zlib's crc32()); start with crc = 0. */
uint32_t mds_crc32(uint32_t crc, const void *data, size_t n);

#endif
