// libFuzzer target: the proxy config loader on arbitrary bytes: a bad file
// must become a list of errors, never a crash; a config that loads must
// compile into a router that can route a request.
#include <cstddef>
#include <cstdint>
#include <string>

#include "proxy/proxy_config.h"
#include "proxy/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::proxy;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = parse_proxy_config(text, "fuzz.yaml");
  if (!config) return 0;
  auto router = Router::compile(*config);
  if (!router) __builtin_trap();  // validation must catch what compiling would refuse
  const HeaderField headers[] = {
      {"X-User-Id", "u1"}, {"Cookie", "uid=7"}, {"migration-flag", "new"}};
  const RequestView request{"GET", "shop.example", "/api/users/1", "v=2", headers, "10.0.0.1"};
  const RouteDecision d = router->route(request, 12345);
  if (d.route >= 0 && (d.pool < 0 || static_cast<size_t>(d.pool) >= config->pools.size()))
    __builtin_trap();
  return 0;
}
