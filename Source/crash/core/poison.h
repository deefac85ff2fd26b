/*
 * poison.h - included last by every file in Source/crash/: makes the
 * compiler reject calls to functions that are not async-signal-safe.
 *
 * This is the compile-time half of the crash-path check; the link-time half
 * is Tests/core/test_nm_allowlist, which runs `nm -u` over the crash-path
 * object set and fails on any symbol outside scripts/crash-path-allowlist.txt.
 * Include it after all system headers (poisoning an identifier that a later
 * system header declares is itself an error).
 */
#ifndef MDS_POISON_H
#define MDS_POISON_H

#if defined(__GNUC__) && !defined(MDS_NO_POISON)
#pragma GCC poison malloc calloc realloc free strdup strndup asprintf
#pragma GCC poison printf fprintf sprintf snprintf vsnprintf vfprintf puts
#pragma GCC poison fopen fclose fread fwrite fflush fputs fgets
#pragma GCC poison pthread_mutex_lock pthread_mutex_unlock pthread_cond_wait
#pragma GCC poison pthread_getname_np pthread_setname_np
#pragma GCC poison dl_iterate_phdr dladdr dlsym dlvsym dlopen dlclose
#pragma GCC poison backtrace backtrace_symbols backtrace_symbols_fd
#pragma GCC poison getenv setenv localtime gmtime strftime mktime
#pragma GCC poison syslog exit atexit assert
#pragma GCC poison unw_init_local unw_backtrace
#endif

#endif /* MDS_POISON_H */
