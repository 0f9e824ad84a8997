# ferry_embed(OUT_VAR SYMBOL FILE): turns FILE into a generated .cc defining
#   extern const std::string_view SYMBOL;
# so shipped data (rules, catalog) travels inside the binary. The file is
# regenerated whenever FILE changes.
function(ferry_embed out_var symbol file)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${symbol}.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DSYMBOL=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
    DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
    COMMENT "Embedding ${file}")
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
