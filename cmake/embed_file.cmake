# Script mode helper for ferry_embed: writes IN as a byte array named SYMBOL to OUT
# (unsigned: UTF-8 text has bytes above 0x7f).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}
  "// Generated from ${IN}; do not edit.\n"
  "#include <string_view>\n"
  "namespace {\nconst unsigned char data[] = {${bytes} 0};\n}\n"
  "extern const std::string_view ${SYMBOL};\n"
  "const std::string_view ${SYMBOL}(reinterpret_cast<const char*>(data), ${size});\n")
