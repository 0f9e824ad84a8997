# What `cmake --install` puts where, and the Debian package CPack builds from it
# (`make package`). Everything ferry needs at run time is inside the binary
# (rules and catalog are embedded); the files installed beside it are for
# people: the shipped data to copy and edit (--rules, --catalog), examples,
# man pages, bash completion, systemd units and the guides.
include(GNUInstallDirs)

install(TARGETS ferry RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/data/rules.yaml ${PROJECT_SOURCE_DIR}/data/catalog.yaml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ferry)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DATADIR}/ferry/examples)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/ferry.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ferry)
# Units go where Debian's systemd looks for packaged units (/usr/lib/systemd/system).
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/ferry-proxy@.service
              ${PROJECT_SOURCE_DIR}/deploy/systemd/ferry-follow@.service
              ${PROJECT_SOURCE_DIR}/deploy/systemd/ferry-follow-reverse@.service
        DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Man pages come from the built binary's --help (help2man), so they are made
# after it and always match it.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(FERRY_MAN_DIR ${PROJECT_BINARY_DIR}/man)
  add_custom_command(
    OUTPUT ${FERRY_MAN_DIR}/ferry.1.gz
    COMMAND ${PROJECT_SOURCE_DIR}/packaging/man_pages.sh $<TARGET_FILE:ferry> ${PROJECT_VERSION}
            ${FERRY_MAN_DIR}
    DEPENDS ferry ${PROJECT_SOURCE_DIR}/packaging/man_pages.sh
    COMMENT "Writing man pages from ferry --help")
  add_custom_target(ferry_man_pages ALL DEPENDS ${FERRY_MAN_DIR}/ferry.1.gz)
  install(DIRECTORY ${FERRY_MAN_DIR}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "help2man not found (scripts/setup installs it): no man pages will be installed")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ferry)
set(CPACK_PACKAGE_VENDOR "ferry")
set(CPACK_PACKAGE_CONTACT "ferry maintainers <ferry@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "move running workloads between platforms with no downtime and a way back")
set(CPACK_PACKAGE_DESCRIPTION
    "ferry assesses an estate and plans its migration, moves PostgreSQL databases\n\
while the old server keeps serving (clone, follow by logical replication,\n\
verify row by row, cut over in seconds, roll back), and moves HTTP traffic a\n\
slice at a time through its proxy.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
# Library dependencies are read from the binary (dpkg-shlibdeps); pg_dump and
# pg_restore (ferry db clone) come from the PostgreSQL client.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql-client")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
