// SIGINT and SIGTERM as a request to stop: long-running commands poll the flag
// and wind down cleanly (finish or undo what is open, record where they got
// to). A second signal ends the process at once, for a stop that hangs.
#pragma once

#include <atomic>

namespace ferry {

const std::atomic<bool>& install_stop_signals();

}  // namespace ferry
