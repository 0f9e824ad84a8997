// The subcommand table. Each entry's install() declares the subcommand's
// options on its CLI11 app and returns the function that runs it once parsed.
// Adding a command = one cmd_<name>.cc plus one row in kCommands (main.cc).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace ferry::cli {

using Runner = std::function<int()>;  // returns the process exit status

struct Command {
  const char* name;
  const char* summary;
  Runner (*install)(CLI::App& sub);
};

Runner install_assess(CLI::App& sub);
Runner install_db(CLI::App& sub);
Runner install_proxy(CLI::App& sub);
Runner install_run(CLI::App& sub);
// `ferry proxy rollout ...` (cmd_proxy_rollout.cc), a subcommand of proxy.
Runner install_proxy_rollout(CLI::App& sub);
// `ferry run ui PLAN` (cmd_run_ui.cc), the live dashboard, a subcommand of run.
Runner install_run_ui(CLI::App& sub);

}  // namespace ferry::cli
