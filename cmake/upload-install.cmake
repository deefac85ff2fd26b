# cmake/upload-install.cmake - install rules of libmayday-upload (issue 13),
# included by cmake/install.cmake when the library is built. Installs:
#   <libdir>/libmayday-upload.so{,.0,.0.x.y}, libmayday-upload.a
#   include/mayday/upload.h (with the other headers)
#   <libdir>/pkgconfig/mayday-upload.pc         -lmayday-upload (shared)
#   <libdir>/pkgconfig/mayday-upload-static.pc  libmayday-upload.a by path
#   CMake components `upload` (mayday::upload) and `upload_static`
#   (mayday::upload_static) in the same package as mayday.
# libcurl is a dependency of these only: mayday.pc, mayday::mayday and
# mayday::mayday_static do not name it.

set_target_properties(mayday_upload_shared PROPERTIES EXPORT_NAME upload)
set_target_properties(mayday_upload_static PROPERTIES EXPORT_NAME upload_static)

# PkgConfig::CURL in the static library's link interface becomes
# mayday::_dep_curl once installed (found again by mayday-config.cmake).
get_target_property(_up_iface mayday_upload_static INTERFACE_LINK_LIBRARIES)
string(REPLACE "PkgConfig::CURL"
  "$<BUILD_INTERFACE:PkgConfig::CURL>$<INSTALL_INTERFACE:mayday::_dep_curl>"
  _up_iface "${_up_iface}")
set_property(TARGET mayday_upload_static PROPERTY
  INTERFACE_LINK_LIBRARIES "${_up_iface}")

install(TARGETS mayday_upload_shared mayday_upload_static EXPORT mayday-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

foreach(_pc mayday-upload mayday-upload-static)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${_pc}.pc.in
    ${CMAKE_BINARY_DIR}/cmake/${_pc}.pc.stage @ONLY)
  install(CODE "set(MAYDAY_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
configure_file(\"${CMAKE_BINARY_DIR}/cmake/${_pc}.pc.stage\"
  \"${CMAKE_BINARY_DIR}/cmake/${_pc}.pc\" @ONLY)")
  install(FILES ${CMAKE_BINARY_DIR}/cmake/${_pc}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
