/*
 * state.c - the one instance of the crash-path state (see state.h).
 *
 * Context: data only; read and written by async-signal-safe code.
 */
#include "crash/handler/state.h"

#include "crash/core/poison.h"

mds_state mds_g;
