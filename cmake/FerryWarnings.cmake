# ferry_warnings(target): the project-wide warning set. Warnings are errors so
# that a clean build stays clean.
function(ferry_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor)
  # GCC 12 at -O2/-O3 reports -Wrestrict on ordinary std::string concatenation
  # (GCC bug 105329, fixed in 13); it is noise, not a finding.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
endfunction()
