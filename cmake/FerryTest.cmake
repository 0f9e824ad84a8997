# ferry_add_test(NAME [LABEL label] SOURCES... LIBS... [PROPERTIES prop value...]):
# one GoogleTest executable whose cases are registered with CTest, each with
# the given test properties (e.g. FIXTURES_REQUIRED pg) and the CTest label
# (unit unless given: pg, proxy or e2e; `make test-fast` runs the unit ones).
# Tests run from the source tree so they can read examples/ and data/.
include(GoogleTest)
function(ferry_add_test name)
  if(FERRY_FUZZ)
    return()  # the fuzz build instruments libraries; tests run in the default build
  endif()
  cmake_parse_arguments(ARG "" "LABEL" "SOURCES;LIBS;PROPERTIES" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  ferry_warnings(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE FERRY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # One CTest entry per test case, listed when ctest runs (not at build time).
  gtest_discover_tests(${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS ${ARG_LABEL} ${ARG_PROPERTIES})
endfunction()
