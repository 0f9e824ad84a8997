// The demo's service and load generator (examples/demo/) as tests run them.
#pragma once

#include <string>

namespace demotest {

// Debian's python3-psycopg2 is installed for Debian's interpreter; a pyenv
// or virtualenv python3 earlier on PATH would not find it.
inline const std::string kPython = "/usr/bin/python3";

// examples/demo/NAME in the source tree.
inline std::string demo_file(const std::string& name) {
  return std::string(FERRY_SOURCE_DIR) + "/examples/demo/" + name;
}

}  // namespace demotest
