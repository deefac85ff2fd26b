# Exporters (issue 13): a loaded report as a minidump or a Sentry
# envelope/event. Normal context; part of libmayday (no extra dependency).
list(APPEND MD_NORMAL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/buf.c
  ${CMAKE_CURRENT_LIST_DIR}/minidump.c
  ${CMAKE_CURRENT_LIST_DIR}/minidump_linux.c
  ${CMAKE_CURRENT_LIST_DIR}/sentry.c
  ${CMAKE_CURRENT_LIST_DIR}/envelope.c
  ${CMAKE_CURRENT_LIST_DIR}/export.c)

# The report contents of issue 11 (stack memory, FP state, memory windows,
# memory map, attachments) are used as soon as the schema has them.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/Protobuf/mayday.proto)
file(READ ${CMAKE_SOURCE_DIR}/Protobuf/mayday.proto _md_export_proto)
if(_md_export_proto MATCHES "optional Memory stack = 20;")
  list(APPEND MD_NORMAL_SOURCES ${CMAKE_CURRENT_LIST_DIR}/contents.c)
else()
  list(APPEND MD_NORMAL_SOURCES ${CMAKE_CURRENT_LIST_DIR}/contents_v1.c)
endif()
unset(_md_export_proto)
