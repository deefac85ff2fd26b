/*
 * state.c - the one instance of the crash-path state (see state.h).
 *
 * Context: data only.
 */
#include "crash/handler/state.h"

mds_state mds_g;
