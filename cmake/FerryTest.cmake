# ferry_add_test(NAME SOURCES... LIBS... [PROPERTIES prop value...]): one
# GoogleTest executable whose cases are registered with CTest, each with the
# given test properties (e.g. FIXTURES_REQUIRED pg). Tests run from the source
# tree so they can read examples/ and data/.
include(GoogleTest)
function(ferry_add_test name)
  if(FERRY_FUZZ)
    return()  # the fuzz build instruments libraries; tests run in the default build
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;PROPERTIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  ferry_warnings(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE FERRY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # One CTest entry per test case, listed when ctest runs (not at build time).
  if(ARG_PROPERTIES)
    gtest_discover_tests(${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} DISCOVERY_MODE PRE_TEST
                         PROPERTIES ${ARG_PROPERTIES})
  else()
    gtest_discover_tests(${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} DISCOVERY_MODE PRE_TEST)
  endif()
endfunction()
