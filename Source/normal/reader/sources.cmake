# Next-launch reader: list, load/validate, format (text, JSON), purge.
list(APPEND MD_NORMAL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/load.c
  ${CMAKE_CURRENT_LIST_DIR}/pbarena.c
  ${CMAKE_CURRENT_LIST_DIR}/names.c
  ${CMAKE_CURRENT_LIST_DIR}/failure_names.c
  ${CMAKE_CURRENT_LIST_DIR}/format.c
  ${CMAKE_CURRENT_LIST_DIR}/text.c
  ${CMAKE_CURRENT_LIST_DIR}/jsonw.c
  ${CMAKE_CURRENT_LIST_DIR}/extras.c
  ${CMAKE_CURRENT_LIST_DIR}/access.c
  ${CMAKE_CURRENT_LIST_DIR}/json.c
  ${CMAKE_CURRENT_LIST_DIR}/json_frame.c
  ${CMAKE_CURRENT_LIST_DIR}/lastcrash.c
  ${CMAKE_CURRENT_LIST_DIR}/contents.c
  ${CMAKE_CURRENT_LIST_DIR}/json_contents.c
  ${CMAKE_CURRENT_LIST_DIR}/text_contents.c)
