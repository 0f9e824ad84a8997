#include "core/error.h"

namespace ferry {

std::string Error::to_string() const {
  std::string out;
  for (auto it = context.rbegin(); it != context.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += message;
  return out;
}

}  // namespace ferry
