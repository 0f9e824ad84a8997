// Test harness for tests that run ferry against the two throwaway PostgreSQL
// servers of the CTest fixture "pg" (tests/pg_servers.sh, started by the test
// pg_start): their URIs, databases, psql, the ferry binary, pg_equal.sh.
//
// Tests run in parallel (ctest -j), so each one works in databases, slots and
// directories named after itself; PgTest creates and drops them.
// Compile definitions: FERRY_BINARY, FERRY_SOURCE_DIR, FERRY_PG_DIR.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "child_process.h"
#include "core/yaml.h"

namespace pgtest {

namespace fs = std::filesystem;
using namespace ferry_test;  // Child, run, sh, slurp, trim

// "postgresql://postgres@127.0.0.1:PORT/postgres" of "source" or "target".
inline std::string server_uri(const std::string& which) {
  const fs::path file = fs::path(FERRY_PG_DIR) / which / "uri";
  std::string uri = trim(slurp(file));
  if (uri.empty())
    ADD_FAILURE() << file << " is missing: the servers are started by the CTest fixture "
                  << "(ctest -R pg_start), or by: tests/pg_servers.sh start " << FERRY_PG_DIR;
  return uri;
}

// The same server, another database.
inline std::string with_db(const std::string& uri, const std::string& db) {
  return uri.substr(0, uri.rfind('/') + 1) + db;
}

// Runs SQL with psql (one statement per -c); fails the test on error and
// returns the unaligned, tuples-only output.
inline std::string psql(const std::string& uri, const std::string& sql) {
  Outcome r = run({"psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c", sql});
  EXPECT_EQ(r.status, 0) << "psql " << sql << "\n" << r.err;
  return trim(r.out);
}

inline std::vector<std::string> ferry_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv{FERRY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

inline Outcome run_ferry(const std::vector<std::string>& args, const Env& env = {}) {
  return run(ferry_argv(args), env);
}

// tests/pg_equal.sh: 0 equal, 1 differences (listed on stdout), 2 errors.
inline Outcome pg_equal(const std::string& source, const std::string& target) {
  return run({std::string(FERRY_SOURCE_DIR) + "/tests/pg_equal.sh", source, target});
}

inline bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// ferry's JSON output, read with ferry's own YAML/JSON parser.
inline ferry::YamlNode parse_json(const std::string& text) {
  auto doc = ferry::parse_yaml(text, "stdout");
  EXPECT_TRUE(doc) << (doc ? "" : doc.error().to_string()) << "\n" << text;
  return doc ? *doc : ferry::YamlNode{};
}

// A scalar member of a JSON object, or "(missing KEY)".
inline std::string field(const ferry::YamlNode& object, const char* key) {
  const ferry::YamlNode* v = object.find(key);
  return v ? v->scalar() : "(missing " + std::string(key) + ")";
}

// A test's own databases (source and target server), slot name and work
// directory, all named after the test; dropped again at the end, slots first
// (a database cannot be dropped while a slot uses it).
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string full = std::string(info->test_suite_name()) + "_" + info->name();
    for (char c : full)
      name_ += std::isalnum(static_cast<unsigned char>(c))
                   ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                   : '_';
    // Short enough for a slot name with ferry's "_resume_PID" suffix (63 bytes).
    if (name_.size() > 38)
      name_ =
          name_.substr(0, 29) + "_" + std::to_string(std::hash<std::string>{}(full) % 100000000);
    source_server_ = server_uri("source");
    target_server_ = server_uri("target");
    ASSERT_FALSE(source_server_.empty() || target_server_.empty());
    slot_ = "s_" + name_;
    dir_ = fs::temp_directory_path() / ("ferry_" + name_);
    fs::remove_all(dir_);
    drop_all();  // leftovers of an earlier run of this test against the same servers
  }

  void TearDown() override {
    drop_all();
    fs::remove_all(scratch_dir());
    if (!HasFailure()) fs::remove_all(dir_);  // kept for a look when the test failed
  }

  // The test's source database: a copy of the fixture, or empty.
  std::string make_source(bool with_fixture = true) {
    psql(source_server_,
         "CREATE DATABASE " + name_ + (with_fixture ? " TEMPLATE ferry_fixture" : ""));
    return source();
  }
  // The test's (empty) target database.
  std::string make_target() {
    psql(target_server_, "CREATE DATABASE " + name_);
    return target();
  }
  // The source's schema (tables, indexes, constraints, triggers; no rows)
  // created on the target the way a user would, with pg_dump --schema-only.
  void copy_schema_to_target() {
    Outcome r = sh("pg_dump --schema-only -d '" + source() +
                   "' | psql -X -q -v ON_ERROR_STOP=1 -d '" + target() + "'");
    ASSERT_EQ(r.status, 0) << r.err;
  }

  std::string source() const { return with_db(source_server_, name_); }
  std::string target() const { return with_db(target_server_, name_); }

  // Slots of this test on the source: its own and any temporary ones.
  std::string slots_on_source() {
    return psql(source_server_,
                "SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM "
                "pg_replication_slots WHERE slot_name LIKE '" +
                    slot_ + "%'");
  }

  void drop_all() {
    for (const auto& server : {source_server_, target_server_}) {
      // A killed ferry's sessions (and their temporary slots) may linger a moment.
      const std::string sql =
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name_ +
          "' AND pid <> pg_backend_pid()";
      for (int attempt = 0; attempt < 50; ++attempt) {
        (void)run({"psql", "-X", "-q", "-At", "-d", server, "-c", sql});
        (void)run({"psql", "-X", "-q", "-At", "-d", server, "-c",
                   "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                   "WHERE database = '" +
                       name_ + "' AND NOT active"});
        // Replication origins belong to the server, not the database.
        (void)run({"psql", "-X", "-q", "-At", "-d", server, "-c",
                   "SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin "
                   "WHERE roname LIKE 'ferry:" +
                       name_ + ":%'"});
        Outcome r = run({"psql", "-X", "-q", "-At", "-d", server, "-c",
                         "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"});
        if (r.status == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

  std::string name_, slot_, source_server_, target_server_;
  fs::path dir_;
};

}  // namespace pgtest
