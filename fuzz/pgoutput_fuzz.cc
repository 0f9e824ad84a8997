// libFuzzer target: pgoutput messages as a server (or anything posing as one)
// might send them. Every input must decode or fail cleanly, never read past
// its end (ASan watches).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pg/pgoutput.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ferry::pg::decode_pgoutput(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
