# ferry_warnings(target): the project-wide warning set. Warnings are errors so
# that a clean build stays clean.
function(ferry_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor)
endfunction()
