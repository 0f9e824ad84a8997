// The `ferry db` subcommands, one cmd_db_<name>.cc each.
#pragma once

#include "cli/commands.h"

namespace ferry::cli {

Runner install_db_check(CLI::App& sub);
Runner install_db_clone(CLI::App& sub);
Runner install_db_follow(CLI::App& sub);
Runner install_db_status(CLI::App& sub);
Runner install_db_verify(CLI::App& sub);
// cutover and rollback share cmd_db_cutover.cc: one checklist, two directions.
Runner install_db_cutover(CLI::App& sub);
Runner install_db_rollback(CLI::App& sub);

}  // namespace ferry::cli
