/*
 * test_capture_files.c - issue 11's attachments and memory-map parsing:
 * file and memory attachments in real crash reports of
 * Tests/capture/capturer (the file's tail as it is after the crash, read
 * here; a buffer's bytes; a detached one absent), the attachment API's
 * errors in this process, and the crash path's parser of one
 * /proc/PID/maps line on lines made here. $MAYDAY_REPEAT runs (default 4).
 *
 * Context: test program (normal context); children crash on purpose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash/capture/capture.h"
#include "crash/core/regs.h"
#include "mayday/mayday.h"
#include "capture_util.h"

static void test_parse_line(void **state)
{
    (void)state;
    mds_mapping m;
    const char *path;
    size_t plen;
    const char *l1 = "7f2d94f64000-7f2d94f67000 r-xs 0001a000 fe:01 333498  "
                     "  /usr/lib/with space/lib x.so (deleted)";
    assert_int_equal(mds_maps_parse_line(l1, strlen(l1), &m, &path, &plen), 0);
    assert_true(m.start == 0x7f2d94f64000ull && m.end == 0x7f2d94f67000ull);
    assert_int_equal(m.flags, MDS_MAP_R | MDS_MAP_X | MDS_MAP_SHARED);
    assert_true(m.offset == 0x1a000 && m.inode == 333498);
    assert_true(m.dev_major == 0xfe && m.dev_minor == 1);
    assert_int_equal(plen, strlen("/usr/lib/with space/lib x.so (deleted)"));
    assert_memory_equal(path, "/usr/lib/with space/lib x.so (deleted)", plen);
    const char *l2 = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0";
    assert_int_equal(mds_maps_parse_line(l2, strlen(l2), &m, &path, &plen), 0);
    assert_int_equal(plen, 0);
    assert_int_equal(m.flags, MDS_MAP_X);
    /* Broken lines are refused, never read past their length. */
    const char *bad[] = {
        "",
        "7f2d94f64000",
        "7f2d94f64000-",
        "7f2d94f67000-7f2d94f64000 r-xp 00000000 00:00 0", /* end < start */
        "7f2d94f64000-7f2d94f67000 r-",
        "7f2d94f64000-7f2d94f67000 r-xp zz 00:00 0",
        "7f2d94f64000-7f2d94f67000 r-xp 0 fe01 0",
        "17f2d94f64000000000-27f2d94f67000 r-xp 0 00:00 0", /* 19 digits */
        "1-2 r-xp 0 00:00 123456789012345678901",           /* 21 digits */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (mds_maps_parse_line(bad[i], strlen(bad[i]), &m, &path, &plen) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
    /* A line cut at every length parses only when the fixed part is
     * whole (the path may be cut). */
    for (size_t n = 0; n < strlen(l1); n++) {
        int r = mds_maps_parse_line(l1, n, &m, &path, &plen);
        assert_true(r == -1 || (n >= 47 && path + plen == l1 + n));
    }
}

/* ------------------------------------------------------------ attach */

static void write_file(const char *path, size_t n, unsigned seed)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    size_t done = 0;
    for (unsigned i = 0; done < n; i++) {
        char line[64];
        int k = snprintf(line, sizeof line, "line %u %08x\n", i,
                         i * 2654435761u + seed);
        size_t w = done + (size_t)k > n ? n - done : (size_t)k;
        fwrite(line, 1, w, f);
        done += w;
    }
    fclose(f);
}

static const Mayday__Attachment *att(const Mayday__Report *r, const char *name)
{
    for (size_t i = 0; i < r->n_attachments; i++)
        if (!strcmp(r->attachments[i]->name, name))
            return r->attachments[i];
    return 0;
}

static void test_attach(void **state)
{
    (void)state;
    for (int rep = 0; rep < mdt_repeat(4); rep++) {
        char *tmp = mdt_mkdtemp("capattach");
        char big[4200], small[4200], e1[4300], e2[4300];
        snprintf(big, sizeof big, "%s/big.log", tmp);
        snprintf(small, sizeof small, "%s/small.txt", tmp);
        write_file(big, 100000, 1);
        write_file(small, 300, 2);
        snprintf(e1, sizeof e1, "CAP_ATTACH_CONFIG=%s", big);
        snprintf(e2, sizeof e2, "CAP_ATTACH_API=%s", small);
        char *env[] = {(char *)mode_env(rep), (char *)stop_env(rep), e1, e2, 0};
        run x;
        run_child(&x, "attach", env, SIGSEGV);
        assert_true(out_val(&x, "attach_file", 0, 0) < 16);
        assert_true(out_val(&x, "attach_memory", 0, 0) < 16);
        assert_int_equal(out_val(&x, "detach", 0, 0), 0);
        /* The big file's last 4096 bytes as it is now (it grew after
         * install), read here. */
        struct stat sb;
        assert_int_equal(stat(big, &sb), 0);
        assert_int_equal(sb.st_size, 100000 + 23);
        uint8_t tail[4096];
        int fd = open(big, O_RDONLY);
        assert_int_equal(pread(fd, tail, 4096, sb.st_size - 4096), 4096);
        close(fd);
        const Mayday__Attachment *a = att(x.r, "big.log");
        assert_non_null(a);
        assert_int_equal(a->kind,
                         MAYDAY__ATTACHMENT_KIND__ATTACHMENT_KIND_FILE);
        assert_string_equal(a->path, big);
        assert_true(a->size == (uint64_t)sb.st_size);
        assert_true(a->offset == (uint64_t)sb.st_size - 4096);
        assert_int_equal(a->data.len, 4096);
        assert_memory_equal(a->data.data, tail, 4096);
        assert_null(a->error);
        a = att(x.r, "small.txt");
        assert_non_null(a);
        assert_int_equal(a->offset, 0);
        assert_int_equal(a->data.len, 300);
        a = att(x.r, "appstate");
        assert_non_null(a);
        assert_int_equal(a->data.len, 512);
        for (int i = 0; i < 512; i++)
            assert_int_equal(a->data.data[i], (uint8_t)(255 - i));
        assert_null(att(x.r, "gone"));
        assert_int_equal(x.r->n_attachments, 3);
        run_free(&x);
        mdt_rmtree(tmp);
        free(tmp);
    }
}

/* The API's errors, in this process. */
static void test_attach_errors(void **state)
{
    (void)state;
    char *tmp = mdt_mkdtemp("capapi");
    char f[4200];
    snprintf(f, sizeof f, "%s/f.txt", tmp);
    write_file(f, 10, 3);
    assert_int_equal(mayday_attach_file(tmp, 100), MAYDAY_EISDIR);
    assert_int_equal(mayday_attach_file("/nonexistent/x", 100), MAYDAY_ENOENT);
    assert_int_equal(mayday_attach_file(f, 0), MAYDAY_EINVAL);
    assert_int_equal(mayday_attach_file(f, (16u << 20) + 1), MAYDAY_EINVAL);
    assert_int_equal(mayday_attach_file(NULL, 100), MAYDAY_EINVAL);
    assert_int_equal(mayday_attach_file("/dev/null", 100), MAYDAY_EINVAL);
    assert_int_equal(mayday_attach_memory("x", NULL, 10), MAYDAY_EINVAL);
    assert_int_equal(mayday_attach_memory("", f, 10), MAYDAY_EINVAL);
    assert_int_equal(mayday_attach_memory("x", f, 0), MAYDAY_EINVAL);
    int ids[16];
    for (int i = 0; i < 16; i++) {
        ids[i] = mayday_attach_file(f, 100);
        assert_true(ids[i] >= 0);
    }
    assert_int_equal(mayday_attach_file(f, 100), MAYDAY_ETOOBIG);
    assert_int_equal(mayday_attach_memory("m", f, 4), MAYDAY_ETOOBIG);
    for (int i = 0; i < 16; i++)
        assert_int_equal(mayday_detach(ids[i]), 0);
    assert_int_equal(mayday_detach(ids[0]), MAYDAY_EINVAL);
    assert_int_equal(mayday_detach(-1), MAYDAY_EINVAL);
    assert_int_equal(mayday_detach(16), MAYDAY_EINVAL);
    /* A config file that cannot be opened fails the install. */
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = tmp;
    const char *files[] = {"/nonexistent/log", 0};
    cfg.attach_files = files;
    assert_int_equal(mayday_install(&cfg), MAYDAY_ENOENT);
    /* Nonsense caps. */
    mayday_config_init(&cfg);
    cfg.report_dir = tmp;
    cfg.pointer_window_bytes = 5000;
    assert_int_equal(mayday_install(&cfg), MAYDAY_EINVAL);
    cfg.pointer_window_bytes = 0;
    cfg.capture_flags = 1u << 20;
    assert_int_equal(mayday_install(&cfg), MAYDAY_EINVAL);
    cfg.capture_flags = 0;
    cfg.stack_bytes = (16u << 20) + 1;
    assert_int_equal(mayday_install(&cfg), MAYDAY_EINVAL);
    cfg.stack_bytes = 0;
    cfg.attach_max_bytes = 0;
    assert_int_equal(mayday_install(&cfg), MAYDAY_EINVAL);
    mdt_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    capturer = mdt_build_path("Tests/capture/capturer");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_attach),
        cmocka_unit_test(test_attach_errors),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
