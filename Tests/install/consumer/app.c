/*
 * app.c - a tiny program built against an INSTALLED mayday (by
 * Tests/install/test_install.sh, four ways: pkg-config and find_package,
 * shared and static) to prove the installed header, libraries and package
 * files work for a user.
 *
 * Context: normal context only; it does not install the crash handler.
 * Prints "mayday <runtime version> <header version>" and exits 0 when the
 * calls behave; the script compares the versions with the project's.
 */
#include <stdio.h>
#include <string.h>

#include <mayday/mayday.h>

int main(void)
{
    mayday_config cfg;
    memset(&cfg, 0xff, sizeof(cfg));
    mayday_config_init(&cfg);
    if (cfg.size != sizeof(cfg)) {
        fprintf(stderr, "mayday_config_init: size %u, expected %zu\n",
                (unsigned)cfg.size, sizeof(cfg));
        return 1;
    }
    if (cfg.report_dir != NULL) {
        fprintf(stderr, "mayday_config_init: report_dir not cleared\n");
        return 1;
    }
    const char *msg = mayday_strerror(MAYDAY_EINVAL);
    if (msg == NULL || strcmp(msg, "invalid argument") != 0) {
        fprintf(stderr, "mayday_strerror(MAYDAY_EINVAL) = \"%s\"\n",
                msg ? msg : "(null)");
        return 1;
    }
    printf("mayday %s %s\n", mayday_version(), MAYDAY_VERSION_STRING);
    return 0;
}
