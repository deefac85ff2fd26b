/*
 * upload_app.c - a tiny program built against an INSTALLED libmayday-upload
 * (Tests/install/test_install.sh: pkg-config mayday-upload and
 * mayday-upload-static, find_package COMPONENTS upload upload_static), to
 * prove the upload library's header, libraries and package files work.
 *
 * Context: normal context only; nothing is sent (no report directory).
 * Prints "mayday-upload <version> <state name>" and exits 0.
 */
#include <stdio.h>

#include <mayday/upload.h>

int main(void)
{
    mayday_upload_config c;
    mayday_upload_config_init(&c);
    if (c.size != sizeof(c) || c.max_per_hour != 10) {
        fprintf(stderr, "mayday_upload_config_init: bad defaults\n");
        return 1;
    }
    /* Must fail cleanly: no kind, no URL. */
    if (mayday_upload_pending("/nonexistent", &c, NULL) != MAYDAY_EINVAL) {
        fprintf(stderr, "mayday_upload_pending accepted a bad config\n");
        return 1;
    }
    printf("mayday-upload %s %s\n", mayday_version(),
           mayday_upload_state_name(MAYDAY_UPLOAD_UPLOADED));
    return 0;
}
