# cmake/static-link.cmake - the link flags a program needs, beyond the
# libraries, to link libmayday.a (docs/linking.md). For the
# mayday::mayday_static target (in the build tree and once installed);
# the pkg-config files get them through MAYDAY_PC_LIBS_PRIVATE
# (cmake/install.cmake).
#   -u __pthread_create  with a static glibc (-static), links glibc's
#                        pthread_create.o: libmayday's pthread_create
#                        forwards to its __pthread_create_2_1 (libc.a's
#                        pthread_create is only a weak alias, which
#                        libmayday's definition overrides); nothing else
#                        would pull that object in. Harmless in a dynamic
#                        link (an unused undefined entry of .symtab).
#   --eh-frame-hdr       gcc asks ld for .eh_frame_hdr, the table the
#                        stack walker searches, only in dynamic links:
#                        without it the frames of a -static executable are
#                        found by frame pointer or stack scan, not CFI.
# Included by cmake/install.cmake before it reads mayday_static's link
# interface.
set(MAYDAY_STATIC_LINK_FLAGS -Wl,-u,__pthread_create -Wl,--eh-frame-hdr)
target_link_options(mayday_static INTERFACE ${MAYDAY_STATIC_LINK_FLAGS})
string(REPLACE ";" " " MAYDAY_PC_STATIC_LINK "${MAYDAY_STATIC_LINK_FLAGS}")
