/*
 * bench_saferead.c - what one safe read costs (Source/crash/core/
 * saferead.h), per method: process_vm_readv on ourselves and the pipe
 * (write into it, read back), for reads of 8 B to 1 MiB of good memory,
 * and a read of a PROT_NONE page (the -EFAULT path). Prints the median of
 * R rounds of K reads each, in ns per read and MiB/s.
 *
 *   bench_saferead [--rounds R]
 *
 * Under qemu-user only the pipe works (process_vm_readv is ENOSYS there);
 * its column then says so. Context: benchmark program (normal context).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "crash/core/saferead.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median ns per read of len bytes at src (want: the expected result). */
static double per_read(unsigned char *dst, uintptr_t src, size_t len, int want,
                       int rounds)
{
    int k = len >= (1u << 20) ? 20 : len >= 65536 ? 200 : 2000;
    uint64_t *t = calloc((size_t)rounds, sizeof *t);
    for (int r = 0; r < rounds; r++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < k; i++) {
            if (mds_safe_read(dst, src, len) != want) {
                fprintf(stderr, "bench_saferead: unexpected result\n");
                exit(1);
            }
        }
        t[r] = (now_ns() - t0) / (uint64_t)k;
    }
    qsort(t, (size_t)rounds, sizeof *t, cmp_u64);
    double m = (double)t[rounds / 2];
    free(t);
    return m;
}

int main(int argc, char **argv)
{
    int rounds = 11;
    if (argc > 2 && !strcmp(argv[1], "--rounds"))
        rounds = atoi(argv[2]) > 0 ? atoi(argv[2]) : 11;
    size_t big = 1u << 20;
    unsigned char *src = mmap(NULL, big + 4096, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *dst = malloc(big);
    if (src == MAP_FAILED || !dst)
        return 1;
    memset(src, 7, big);
    mprotect(src + big, 4096, PROT_NONE);
    static const size_t sizes[] = {8, 64, 4096, 65536, 1u << 20};
    static const int methods[] = {MDS_SAFEREAD_VM, MDS_SAFEREAD_PIPE};
    static const char *const names[] = {"process_vm_readv", "pipe"};
    printf("safe read, median of %d rounds, ns per read (MiB/s)\n", rounds);
    printf("%-10s %24s %24s\n", "bytes", names[0], names[1]);
    double res[2][6];
    int ok[2];
    for (int m = 0; m < 2; m++) {
        md_saferead_fini();
        ok[m] = md_saferead_init(methods[m]) == methods[m];
        for (size_t s = 0; s < 5 && ok[m]; s++)
            res[m][s] = per_read(dst, (uintptr_t)src, sizes[s], 0, rounds);
        if (ok[m])
            res[m][5] = per_read(dst, (uintptr_t)src + big, 8, -EFAULT, rounds);
    }
    for (size_t s = 0; s < 6; s++) {
        if (s < 5)
            printf("%-10zu", sizes[s]);
        else
            printf("%-10s", "bad page");
        for (int m = 0; m < 2; m++) {
            char cell[64];
            if (!ok[m])
                snprintf(cell, sizeof cell, "not available");
            else if (s < 5)
                snprintf(cell, sizeof cell, "%.0f (%.0f)", res[m][s],
                         (double)sizes[s] / res[m][s] * 1e9 / 1048576.0);
            else
                snprintf(cell, sizeof cell, "%.0f", res[m][s]);
            printf(" %24s", cell);
        }
        printf("\n");
    }
    md_saferead_fini();
    return 0;
}
