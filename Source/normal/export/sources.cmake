# Exporters (issue 13): a loaded report as a minidump or a Sentry
# envelope/event. Normal context; part of libmayday (no extra dependency).
list(APPEND MD_NORMAL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/buf.c
  ${CMAKE_CURRENT_LIST_DIR}/minidump.c
  ${CMAKE_CURRENT_LIST_DIR}/minidump_linux.c
  ${CMAKE_CURRENT_LIST_DIR}/sentry.c
  ${CMAKE_CURRENT_LIST_DIR}/envelope.c
  ${CMAKE_CURRENT_LIST_DIR}/export.c)
