# Crash path: stopping the other threads (ptrace helper, signal fallback).
list(APPEND MDS_CRASH_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/stop.c
  ${CMAKE_CURRENT_LIST_DIR}/ptrace_util.c
  ${CMAKE_CURRENT_LIST_DIR}/stop_ptrace.c
  ${CMAKE_CURRENT_LIST_DIR}/inject.c
  ${CMAKE_CURRENT_LIST_DIR}/stop_signal.c)
