# ferry_add_test(NAME SOURCES... LIBS...): one GoogleTest executable registered
# with CTest. Tests run from the source tree so they can read examples/ and data/.
function(ferry_add_test name)
  if(FERRY_FUZZ)
    return()  # the fuzz build instruments libraries; tests run in the default build
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  ferry_warnings(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE FERRY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()
