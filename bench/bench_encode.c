/*
 * bench_encode.c - what encoding and writing a report costs per thread,
 * apart from stopping and walking: the crash-time writer (writer.h) and
 * protobuf encoder (pbenc.h) write a report shaped like report.c's (a
 * header, then per thread: tid, name, state, the 22 registers packed, 37
 * frames of pc/sp/trust/image) to a fresh file in a directory, then the
 * framing header with the message's length and CRC-32, as report.c does
 * (mds_writer_crc32 from byte 16, mds_writer_patch at 0, flush). Per
 * report: microseconds (median of runs), bytes, and the system calls made
 * between open and close (counted in process with bench_util's perf
 * counter, in a separate pass); per extra thread: microseconds, bytes.
 *
 *   bench_encode [--runs R] [--dir DIR]
 *
 * Context: benchmark program (normal context) calling crash-path
 * functions from normal code (built with -DMDS_NO_POISON).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "crash/core/framing.h"
#include "crash/core/pbenc.h"
#include "crash/core/writer.h"
#include "crash/handler/fields.h"

#define WBUF (64 * 1024) /* MDS_WRITE_BUF in crash/handler/state.h */
#define FRAMES 37
#define NREGS 22

static unsigned char wbuf[WBUF];

static void put_thread(mds_pb *pb, uint32_t i)
{
    uint64_t regs[NREGS];
    for (int r = 0; r < NREGS; r++)
        regs[r] = 0x7f0000001000ull + (uint64_t)r * 0x10101 + i;
    mds_pb_begin(pb, F_REPORT_THREADS);
    mds_pb_uint64(pb, F_THREAD_TID, 100000 + i);
    mds_pb_string(pb, F_THREAD_NAME, "worker");
    mds_pb_uint64(pb, F_THREAD_STATE, 2);
    mds_pb_packed_uint64(pb, F_THREAD_REGISTERS, regs, NREGS);
    for (int f = 0; f < FRAMES; f++) {
        if (mds_pb_begin(pb, F_THREAD_FRAMES) == 0) {
            mds_pb_uint64(pb, F_FRAME_PC, 0x55d0c0de1000ull + f * 0x31);
            mds_pb_uint64(pb, F_FRAME_SP, 0x7ffc00010000ull + f * 0x40 + i);
            mds_pb_uint64(pb, F_FRAME_TRUST, f ? 2 : 1);
            mds_pb_uint64(pb, F_FRAME_IMAGE, f < 33 ? 0 : 3);
        }
        mds_pb_end(pb);
    }
    mds_pb_end(pb);
}

/* One report of n threads into dir/encode.tmp; returns its size. */
static long write_one(const char *dir, int n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/encode.tmp", dir);
    /* A new file each time, as report.c creates one (O_TRUNC of an old
     * one would make ext4 write it back at close: milliseconds). */
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    mds_writer w;
    mds_pb pb;
    mds_writer_init(&w, fd, wbuf, sizeof wbuf, 256u << 20);
    unsigned char hdr[MDS_FILE_HEADER_LEN] = {0};
    memcpy(hdr, MDS_FILE_MAGIC, MDS_FILE_MAGIC_LEN);
    hdr[6] = MDS_FILE_VERSION;
    mds_writer_put(&w, hdr, sizeof hdr);
    mds_pb_init(&pb, &w, 64);
    static const uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    if (mds_pb_begin(&pb, F_REPORT_HEADER) == 0) {
        mds_pb_bytes(&pb, F_HEADER_UUID, uuid, 16);
        mds_pb_int64(&pb, F_HEADER_TIME, 1796191360440000000ll);
    }
    mds_pb_end(&pb);
    for (int i = 0; i < n; i++)
        put_thread(&pb, (uint32_t)i);
    int r = mds_pb_finish(&pb);
    uint64_t len = mds_writer_pos(&w) - MDS_FILE_HEADER_LEN;
    uint32_t crc = 0;
    if (r == 0)
        r = mds_writer_crc32(&w, MDS_FILE_HEADER_LEN, &crc);
    for (int i = 0; i < 4; i++) {
        hdr[8 + i] = (unsigned char)(len >> (8 * i));
        hdr[12 + i] = (unsigned char)(crc >> (8 * i));
    }
    if (r == 0)
        r = mds_writer_patch(&w, 0, hdr, sizeof hdr);
    if (r == 0)
        r = mds_writer_flush(&w);
    long size = r == 0 ? (long)mds_writer_pos(&w) : -1;
    close(fd);
    return size;
}

int main(int argc, char **argv)
{
    int runs = 51;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--dir"))
            base = argv[i + 1];
    }
    if (runs < 1)
        runs = 1;
    char *dir = bu_mkdtemp(base, "encode");
    uint64_t *t = calloc((size_t)runs, sizeof *t);
    if (!dir || !t)
        return 1;
    static const int ns[] = {1, 16, 128};
    printf("bench_encode: a report of N threads (37 frames, 22 registers "
           "each) encoded and written to a fresh file, median of %d\n\n",
           runs);
    printf("| threads | report bytes | us per report | system calls, open "
           "to close (write, pwrite, pread, ...) |\n|---|---|---|---|\n");
    double per[3];
    long sizes[3];
    long long calls[3];
    for (int k = 0; k < 3; k++) {
        write_one(dir, ns[k]); /* warm: page cache, file system */
        for (int i = 0; i < runs; i++) {
            uint64_t a = bu_now_ns();
            sizes[k] = write_one(dir, ns[k]);
            t[i] = bu_now_ns() - a;
        }
        per[k] = (double)bu_median_u64(t, (size_t)runs) / 1000.0;
        int fd = bu_syscalls_open();
        long long c0 = bu_syscalls_read(fd);
        write_one(dir, ns[k]);
        long long c1 = bu_syscalls_read(fd);
        /* the counter's own read, and open + close of the file */
        calls[k] = c0 >= 0 && c1 >= 0 ? c1 - c0 - 1 : -1;
        if (fd >= 0)
            close(fd);
    }
    for (int k = 0; k < 3; k++) {
        char c[32] = "n/a";
        if (calls[k] >= 0)
            snprintf(c, sizeof c, "%lld", calls[k]);
        printf("| %d | %ld | %.1f | %s |\n", ns[k], sizes[k], per[k], c);
    }
    printf("\nper extra thread (N = 128 minus N = 1, / 127): %.2f us, %.0f "
           "bytes\n",
           (per[2] - per[0]) / 127.0, (double)(sizes[2] - sizes[0]) / 127.0);
    bu_rmtree(dir);
    free(dir);
    free(t);
    return 0;
}
