/*
 * test_install.c - mayday_install()/mayday_uninstall() semantics: config
 * validation, report directory, pruning, handler save/restore, altstacks
 * for new and existing threads; annotations and breadcrumbs; error
 * strings.
 *
 * Context: test program. Each test leaves mayday uninstalled.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crash/handler/annot.h"
#include "mayday/mayday.h"
#include "mdt.h"

static char *g_tmp;

static int setup(void **state)
{
    (void)state;
    g_tmp = mdt_mkdtemp("install");
    return g_tmp ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mayday_uninstall();
    mdt_rmtree(g_tmp);
    free(g_tmp);
    return 0;
}

static mayday_config cfg_in(const char *sub)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", g_tmp, sub);
    mayday_config c;
    mayday_config_init(&c);
    c.report_dir = dir;
    return c;
}

/* cmocka has its own SIGSEGV handler while a test runs: "nothing was
 * installed" means the disposition is still the one before the call. */
static struct sigaction g_segv_before;

static void remember_segv(void) { sigaction(SIGSEGV, 0, &g_segv_before); }

static int segv_is_default(void)
{
    struct sigaction sa;
    sigaction(SIGSEGV, 0, &sa);
    return sa.sa_sigaction == g_segv_before.sa_sigaction &&
           sa.sa_flags == g_segv_before.sa_flags;
}

static void defaults(void **state)
{
    (void)state;
    mayday_config c;
    memset(&c, 0xff, sizeof c);
    mayday_config_init(&c);
    assert_int_equal(c.size, sizeof c);
    assert_null(c.report_dir);
    assert_int_equal(c.handler_mode, MAYDAY_HANDLER_AUTO);
    assert_int_equal(c.max_report_bytes, 0); /* automatic */
    assert_true(c.max_reports >= 1);
    assert_int_equal(c.flags, 0);
    assert_null(c.on_crash);
}

static void nonsense_rejected(void **state)
{
    (void)state;
    mayday_config c;
    remember_segv();
    assert_int_equal(mayday_install(0), MAYDAY_EINVAL);
    mayday_config_init(&c);
    assert_int_equal(mayday_install(&c), MAYDAY_EINVAL); /* no dir */
    struct {
        size_t off;
        uint32_t bad;
    } cases[] = {
        {offsetof(mayday_config, handler_mode), 7},
        {offsetof(mayday_config, max_reports), 0},
        {offsetof(mayday_config, max_report_bytes), 100},
        {offsetof(mayday_config, max_report_bytes), 0xffffffffu},
        {offsetof(mayday_config, flags), 1u << 30},
        {offsetof(mayday_config, reply_timeout_ms), 0},
        {offsetof(mayday_config, suspend_timeout_ms), 0},
        {offsetof(mayday_config, max_frames), 0},
        {offsetof(mayday_config, max_frames), 100000},
        {offsetof(mayday_config, max_threads), 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c = cfg_in("bad");
        memcpy((char *)&c + cases[i].off, &cases[i].bad, sizeof(uint32_t));
        assert_int_equal(mayday_install(&c), MAYDAY_EINVAL);
        assert_true(segv_is_default()); /* nothing installed */
    }
    c = cfg_in("bad");
    c.size = 4; /* too small to hold even report_dir */
    assert_int_equal(mayday_install(&c), MAYDAY_EINVAL);
    /* A file where the directory should be. */
    char path[4096];
    snprintf(path, sizeof path, "%s/file", g_tmp);
    FILE *f = fopen(path, "w");
    fclose(f);
    c = cfg_in("file");
    assert_int_equal(mayday_install(&c), MAYDAY_ENOTDIR);
    c = cfg_in("file/sub");
    assert_true(mayday_install(&c) < 0);
    assert_true(segv_is_default());
}

static void old_small_config(void **state)
{
    (void)state;
    /* A caller compiled against a version whose struct ended at flags. */
    mayday_config c = cfg_in("old");
    c.size = offsetof(mayday_config, flags) + sizeof(uint32_t);
    c.max_frames = 0; /* beyond its size: must be ignored, not rejected */
    assert_int_equal(mayday_install(&c), 0);
    assert_int_equal(mayday_uninstall(), 0);
}

static void dir_created_0700(void **state)
{
    (void)state;
    mayday_config c = cfg_in("a/b/c");
    assert_int_equal(mayday_install(&c), 0);
    struct stat st;
    assert_int_equal(stat(c.report_dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(mayday_install(&c), MAYDAY_EALREADY);
    assert_int_equal(mayday_uninstall(), 0);
    assert_int_equal(mayday_uninstall(), MAYDAY_ENOTINSTALLED);
}

static void app_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
}

static void handlers_restored(void **state)
{
    (void)state;
    struct sigaction mine, before[3], after;
    memset(&mine, 0, sizeof mine);
    mine.sa_sigaction = app_handler;
    mine.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&mine.sa_mask);
    sigaddset(&mine.sa_mask, SIGUSR2);
    sigaction(SIGSEGV, &mine, 0);
    signal(SIGBUS, SIG_IGN);
    int sigs[3] = {SIGSEGV, SIGBUS, SIGABRT};
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], 0, &before[i]);
    mayday_config c = cfg_in("restore");
    assert_int_equal(mayday_install(&c), 0);
    sigaction(SIGSEGV, 0, &after);
    assert_true(after.sa_sigaction != app_handler);
    assert_true(after.sa_flags & SA_ONSTACK);
    assert_int_equal(mayday_uninstall(), 0);
    for (int i = 0; i < 3; i++) {
        sigaction(sigs[i], 0, &after);
        assert_ptr_equal(after.sa_sigaction, before[i].sa_sigaction);
        assert_int_equal(after.sa_flags, before[i].sa_flags);
        /* glibc's sigset_t is 128 bytes, the kernel keeps 8: compare
         * member by member. */
        for (int s = 1; s < 65; s++)
            assert_int_equal(sigismember(&after.sa_mask, s),
                             sigismember(&before[i].sa_mask, s));
    }
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
}

static void touch(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
}

static int exists(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void prune_oldest(void **state)
{
    (void)state;
    mayday_config c = cfg_in("prune");
    mkdir(c.report_dir, 0700);
    const char *names[] = {"1000-aa.mayday", "2000-bb.mayday",
                           "3000-cc.mayday", "4000-dd.mayday",
                           "5000-ee.mayday"};
    for (int i = 0; i < 5; i++)
        touch(c.report_dir, names[i]);
    touch(c.report_dir, "notes.txt");
    touch(c.report_dir, "6000-ff.mayday.tmp"); /* fresh: may be in use */
    c.max_reports = 2;
    assert_int_equal(mayday_install(&c), 0);
    assert_int_equal(mayday_uninstall(), 0);
    for (int i = 0; i < 3; i++)
        assert_false(exists(c.report_dir, names[i]));
    assert_true(exists(c.report_dir, names[3]));
    assert_true(exists(c.report_dir, names[4]));
    assert_true(exists(c.report_dir, "notes.txt"));
    assert_true(exists(c.report_dir, "6000-ff.mayday.tmp"));
}

static size_t altstack_size(void)
{
    stack_t ss;
    sigaltstack(0, &ss);
    return (ss.ss_flags & SS_DISABLE) ? 0 : ss.ss_size;
}

static void *report_altstack(void *arg)
{
    *(size_t *)arg = altstack_size();
    return 0;
}

static pthread_barrier_t bar;
static size_t early_size;

static void *early_thread(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&bar); /* created */
    pthread_barrier_wait(&bar); /* mayday installed */
    early_size = altstack_size();
    return 0;
}

static void altstacks(void **state)
{
    (void)state;
    pthread_t early;
    pthread_barrier_init(&bar, 0, 2);
    pthread_create(&early, 0, early_thread, 0);
    pthread_barrier_wait(&bar);
    mayday_config c = cfg_in("alt");
    assert_int_equal(mayday_install(&c), 0);
    pthread_barrier_wait(&bar);
    pthread_join(early, 0);
    /* Given by install (injected into the thread); under valgrind install
     * skips injection by design (fault-path.md), so no altstack there. */
    const char *pre = getenv("LD_PRELOAD");
    if (!(pre && strstr(pre, "vgpreload")))
        assert_true(early_size >= 65536);

    size_t got = 0;
    pthread_t t;
    pthread_create(&t, 0, report_altstack, &got);
    pthread_join(t, 0);
    long want = sysconf(_SC_SIGSTKSZ);
    assert_true(got >= 65536 && got >= (size_t)want);
    assert_int_equal(mayday_uninstall(), 0);

    c.flags = MAYDAY_FLAG_NO_THREAD_HOOK;
    assert_int_equal(mayday_install(&c), 0);
    got = 1;
    pthread_create(&t, 0, report_altstack, &got);
    pthread_join(t, 0);
    assert_int_equal(got, 0);
    assert_int_equal(mayday_uninstall(), 0);
}

static void annotations(void **state)
{
    (void)state;
    char key[MDS_ANNOT_KEY], val[MDS_ANNOT_VAL];
    assert_int_equal(mayday_annotate("user", "alice"), 0);
    assert_int_equal(mayday_annotate("user", "bob"), 0);
    int found = 0;
    for (int i = 0; i < MDS_ANNOT_MAX; i++) {
        if (mds_annot_read(i, key, val) && !strcmp(key, "user")) {
            assert_string_equal(val, "bob");
            found++;
        }
    }
    assert_int_equal(found, 1);
    assert_int_equal(mayday_annotate("user", 0), 0);
    for (int i = 0; i < MDS_ANNOT_MAX; i++)
        assert_false(mds_annot_read(i, key, val) && !strcmp(key, "user"));
    assert_int_equal(mayday_annotate("", "x"), MAYDAY_EINVAL);
    assert_int_equal(mayday_annotate(0, "x"), MAYDAY_EINVAL);
    char longkey[100];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[99] = 0;
    assert_int_equal(mayday_annotate(longkey, "x"), MAYDAY_EINVAL);
    char longval[1000];
    memset(longval, 'v', sizeof longval - 1);
    longval[999] = 0;
    assert_int_equal(mayday_annotate("long", longval), 0);
    for (int i = 0; i < MDS_ANNOT_MAX; i++) {
        if (mds_annot_read(i, key, val) && !strcmp(key, "long"))
            assert_int_equal(strlen(val), MDS_ANNOT_VAL - 1);
    }
    int r = 0, n = 0;
    for (; n < 200 && r == 0; n++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", n);
        r = mayday_annotate(k, "v");
    }
    assert_int_equal(r, MAYDAY_ETOOBIG);
    for (int i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        mayday_annotate(k, 0);
    }
    mayday_annotate("long", 0);
}

static void breadcrumbs(void **state)
{
    (void)state;
    uint32_t start = mds_crumb_head;
    for (int i = 0; i < 40; i++) {
        char m[32];
        snprintf(m, sizeof m, "crumb %d", i);
        assert_int_equal(mayday_breadcrumb(m), 0);
    }
    assert_int_equal(mayday_breadcrumb(0), MAYDAY_EINVAL);
    char msg[MDS_CRUMB_MSG];
    int64_t t;
    /* The 8 oldest were overwritten, the 32 newest are there in order. */
    assert_false(mds_crumb_read(start + 7, &t, msg));
    for (int i = 8; i < 40; i++) {
        assert_true(mds_crumb_read(start + (uint32_t)i, &t, msg));
        char want[32];
        snprintf(want, sizeof want, "crumb %d", i);
        assert_string_equal(msg, want);
        assert_true(t > 0);
    }
}

static void error_strings(void **state)
{
    (void)state;
    int codes[] = {
#define XX(name, value, msg) value,
        MAYDAY_ERRNO_MAP(XX)
#undef XX
    };
    const char *msgs[] = {
#define XX(name, value, msg) msg,
        MAYDAY_ERRNO_MAP(XX)
#undef XX
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] < 0);
        assert_string_equal(mayday_strerror(codes[i]), msgs[i]);
        assert_string_not_equal(mayday_err_name(codes[i]), "EUNKNOWN");
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(codes[i], codes[j]);
    }
    assert_string_equal(mayday_strerror(-9999), "unknown error");
    assert_string_equal(mayday_err_name(0), "OK");
    assert_string_equal(mayday_version(), MAYDAY_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(nonsense_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(old_small_config, setup, teardown),
        cmocka_unit_test_setup_teardown(dir_created_0700, setup, teardown),
        cmocka_unit_test_setup_teardown(handlers_restored, setup, teardown),
        cmocka_unit_test_setup_teardown(prune_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(altstacks, setup, teardown),
        cmocka_unit_test_setup_teardown(annotations, setup, teardown),
        cmocka_unit_test_setup_teardown(breadcrumbs, setup, teardown),
        cmocka_unit_test_setup_teardown(error_strings, setup, teardown),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
