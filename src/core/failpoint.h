// Named places where tests can kill ferry on purpose, to prove that a resumed
// run loses and duplicates nothing. FERRY_FAILPOINT=name:N makes the N-th pass
// through `name` (1 when N is left out) end the process with SIGKILL, exactly as
// `kill -9` would. Names may carry a table: "clone.table-copied public.orders". Unset, a failpoint
// costs one branch on a cached flag.
#pragma once

#include <string_view>

namespace ferry {

void failpoint(std::string_view name);

}  // namespace ferry
