#include "core/failpoint.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace ferry {

namespace {

struct Armed {
  std::string name;
  long count = 0;
};

const Armed* armed() {
  static const Armed* value = []() -> const Armed* {
    const char* env = std::getenv("FERRY_FAILPOINT");
    if (!env || !*env) return nullptr;
    auto* a = new Armed;
    std::string spec = env;
    const auto colon = spec.rfind(':');
    a->name = spec.substr(0, colon);
    a->count = colon == std::string::npos ? 1 : std::atol(spec.c_str() + colon + 1);
    return a;
  }();
  return value;
}

}  // namespace

void failpoint(std::string_view name) {
  const Armed* a = armed();
  if (!a || a->name != name) return;
  static std::atomic<long> hits{0};
  if (++hits == a->count) kill(getpid(), SIGKILL);
}

}  // namespace ferry
