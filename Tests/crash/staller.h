/*
 * staller.h - a process that holds mayday's ptrace helper off the CPU for
 * a while as it starts (staller.c).
 *
 * Context: test program.
 */
#ifndef STALLER_H
#define STALLER_H

#include <sys/types.h>

/* Starts the staller and pins the calling process (and so the crasher it
 * forks next) to CPU 0. -1 if this machine cannot (one CPU, no proc
 * connector: not root). */
pid_t mdt_staller_start(void);

/* Ends it, gives the caller its CPUs back: 1 if it caught and held the
 * helper, else 0. */
int mdt_staller_stop(pid_t pid);

#endif
