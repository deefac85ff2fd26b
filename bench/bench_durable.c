/*
 * bench_durable.c - what making a report durable costs, per way of doing
 * it (issue 15, "Durability"). Not the crash path: plain system calls on
 * a file the size of a report, in the report's directory, so that the
 * file system is the one reports go to.
 *
 * Ways (each a fresh file per round, interleaved, median of --runs):
 *   none         create .tmp, write, rename                (NO_FSYNC)
 *   fsync        create .tmp, write, fsync, rename, fsync(dir)  (default)
 *   fdatasync    the same with fdatasync for the file
 *   prealloc     the file made at "install" (written with zeros, fsynced
 *                with its directory, not timed), then at the crash:
 *                pwrite in place, fdatasync, rename, fsync(dir)
 *   inplace      as prealloc, but no rename: the name is final at
 *                install and the framing header would make it valid
 *                (pwrite, fdatasync only)
 *
 * Usage: bench_durable [--runs R] [--dir DIR] [--bytes B,B,...]
 * Context: benchmark program (normal context).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

#define MAXRUNS 101
#define NWAYS 5 /* none, fsync, fdatasync, prealloc, inplace */

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void write_all(int fd, const char *buf, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, buf, n, at);
        if (k <= 0)
            die("pwrite");
        buf += k;
        n -= (size_t)k;
        at += k;
    }
}

/* The install-time half of prealloc/inplace: a file of n zero bytes,
 * durable with its name. Not timed. */
static int prepare(int dfd, const char *name, const char *zeros, size_t n)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        die("openat prealloc");
    write_all(fd, zeros, n, 0);
    if (fsync(fd) < 0 || fsync(dfd) < 0)
        die("fsync prealloc");
    return fd;
}

/* One round of one way; ms. */
static double round_ms(int way, int dfd, const char *data, const char *zeros,
                       size_t n, int seq)
{
    char tmp[64], fin[64];
    snprintf(tmp, sizeof tmp, "d%d-%d.mayday.tmp", way, seq);
    snprintf(fin, sizeof fin, "d%d-%d.mayday", way, seq);
    int fd = -1;
    if (way >= 3)
        fd = prepare(dfd, way == 4 ? fin : tmp, zeros, n);
    uint64_t t0 = bu_now_ns();
    if (way < 3) {
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            die("openat");
    }
    write_all(fd, data, n, 0);
    if (way == 1 && fsync(fd) < 0)
        die("fsync");
    if ((way == 2 || way >= 3) && fdatasync(fd) < 0)
        die("fdatasync");
    if (way != 4) {
        if (renameat(dfd, tmp, dfd, fin) < 0)
            die("renameat");
        if (way != 0 && fsync(dfd) < 0)
            die("fsync dir");
    }
    uint64_t t1 = bu_now_ns();
    close(fd);
    unlinkat(dfd, fin, 0);
    return (double)(t1 - t0) / 1e6;
}

int main(int argc, char **argv)
{
    int runs = 21;
    const char *dir = "/var/tmp";
    const char *sizes = "19000,53000,316000";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
            sizes = argv[++i];
        else {
            fprintf(stderr, "usage: bench_durable [--runs R] [--dir DIR] "
                            "[--bytes B,B,...]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAXRUNS)
        runs = 21;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        die(dir);
    printf("### Making a report durable, ms: median of %d [min - max] "
           "(%s)\n\n",
           runs, dir);
    printf("| bytes | none (write, rename) | fsync + rename + fsync dir "
           "(default) | fdatasync + rename + fsync dir | pre-allocated: "
           "pwrite, fdatasync, rename, fsync dir | pre-allocated, final "
           "name: pwrite, fdatasync |\n|---|---|---|---|---|---|\n");
    char *list = strdup(sizes);
    int seq = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(0, ",")) {
        size_t n = (size_t)strtoull(tok, 0, 10);
        if (!n)
            continue;
        char *data = malloc(n), *zeros = calloc(1, n);
        if (!data || !zeros)
            die("malloc");
        for (size_t k = 0; k < n; k++)
            data[k] = (char)(k * 131 + 7);
        double ms[NWAYS][MAXRUNS];
        for (int r = 0; r < runs; r++)
            for (int w = 0; w < NWAYS; w++)
                ms[w][r] = round_ms(w, dfd, data, zeros, n, seq++);
        printf("| %zu |", n);
        for (int w = 0; w < NWAYS; w++) {
            double lo = ms[w][0], hi = ms[w][0];
            for (int r = 1; r < runs; r++) {
                lo = ms[w][r] < lo ? ms[w][r] : lo;
                hi = ms[w][r] > hi ? ms[w][r] : hi;
            }
            printf(" %.3f [%.3f - %.3f] |", bu_median_dbl(ms[w], (size_t)runs),
                   lo, hi);
        }
        printf("\n");
        free(data);
        free(zeros);
    }
    free(list);
    close(dfd);
    return 0;
}
