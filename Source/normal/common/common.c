/*
 * common.c - version, error strings and config defaults.
 *
 * Context: mayday_version/mayday_strerror/mayday_err_name are
 * async-signal-safe (static tables); mayday_config_init is normal context.
 */
#include <signal.h>
#include <string.h>

#include "mayday/mayday.h"
#include "normal/common/config.h"

const char *mayday_version(void) { return MAYDAY_VERSION_STRING; }

const char *mayday_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define XX(name, value, msg)                                                   \
    case value:                                                                \
        return msg;
        MAYDAY_ERRNO_MAP(XX)
#undef XX
    default:
        return "unknown error";
    }
}

const char *mayday_err_name(int err)
{
    switch (err) {
    case 0:
        return "OK";
#define XX(name, value, msg)                                                   \
    case value:                                                                \
        return #name;
        MAYDAY_ERRNO_MAP(XX)
#undef XX
    default:
        return "EUNKNOWN";
    }
}

void mayday_config_init(mayday_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->handler_mode = MAYDAY_HANDLER_AUTO;
    cfg->max_reports = MD_DEFAULT_MAX_REPORTS;
    cfg->max_report_bytes = 0; /* automatic (report_file.c) */
    cfg->reply_timeout_ms = MD_DEFAULT_REPLY_TIMEOUT_MS;
    cfg->suspend_timeout_ms = MD_DEFAULT_SUSPEND_TIMEOUT_MS;
    cfg->max_frames = MD_DEFAULT_MAX_FRAMES;
    cfg->max_threads = MD_DEFAULT_MAX_THREADS;
    md_capture_config_init(cfg);
}

int md_config_copy(mayday_config *dst, const mayday_config *src)
{
    if (!src || src->size < offsetof(mayday_config, flags) + sizeof(uint32_t))
        return MAYDAY_EINVAL;
    /* Older callers pass a smaller struct: take what they have and default
     * the rest. A newer caller's extra fields are ignored. */
    mayday_config_init(dst);
    size_t n = src->size < sizeof(*dst) ? src->size : sizeof(*dst);
    memcpy(dst, src, n);
    dst->size = sizeof(*dst);
    return 0;
}

int md_config_validate(const mayday_config *c)
{
    if (!c->report_dir || !c->report_dir[0] ||
        strlen(c->report_dir) > MD_MAX_DIR_LEN)
        return MAYDAY_EINVAL;
    if (c->handler_mode > MAYDAY_HANDLER_SIGNAL)
        return MAYDAY_EINVAL;
    if (c->max_reports < 1 || c->max_reports > 10000)
        return MAYDAY_EINVAL;
    if (c->max_report_bytes != 0 &&
        (c->max_report_bytes < 4096 || c->max_report_bytes > (256u << 20)))
        return MAYDAY_EINVAL;
    if (c->flags & ~MD_KNOWN_FLAGS)
        return MAYDAY_EINVAL;
    if (c->reply_timeout_ms < 100 || c->reply_timeout_ms > 600000)
        return MAYDAY_EINVAL;
    if (c->suspend_timeout_ms < 1 || c->suspend_timeout_ms > 10000)
        return MAYDAY_EINVAL;
    if (c->max_frames < 1 || c->max_frames > 4096)
        return MAYDAY_EINVAL;
    if (c->max_threads < 1 || c->max_threads > 100000)
        return MAYDAY_EINVAL;
    if (c->stop_method > MAYDAY_STOP_NONE)
        return MAYDAY_EINVAL;
    if ((c->app_id && strlen(c->app_id) > MD_MAX_ID_LEN) ||
        (c->app_version && strlen(c->app_version) > MD_MAX_ID_LEN))
        return MAYDAY_EINVAL;
    if (!md_failure_config_ok(c))
        return MAYDAY_EINVAL;
    return md_capture_config_validate(c); /* issue 11 */
}

/* --- issue 12: the fatal and hang signals, the hang action. */
int md_fatal_signal_ok(int sig)
{
    static const int crash[] = {SIGABRT, SIGSEGV, SIGBUS, SIGILL,
                                SIGFPE,  SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++)
        if (sig == crash[i])
            return 1;
    return 0;
}

int md_failure_config_ok(const mayday_config *c)
{
    if (c->fatal_signal != 0 && !md_fatal_signal_ok(c->fatal_signal))
        return 0;
    if (c->hang_action > MAYDAY_HANG_END)
        return 0;
    /* Signals whose default action ends the process (signal(7)). */
    int s = c->hang_signal;
    if (s != 0 &&
        (s < 1 || s > SIGRTMAX || s == SIGCHLD || s == SIGCONT ||
         s == SIGSTOP || s == SIGTSTP || s == SIGTTIN || s == SIGTTOU ||
         s == SIGURG || s == SIGWINCH))
        return 0;
    return 1;
}
