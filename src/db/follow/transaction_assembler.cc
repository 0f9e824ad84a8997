#include "db/follow/transaction_assembler.h"

#include <fmt/format.h>

#include <algorithm>

#include "pg/connection.h"

namespace ferry::db {

namespace {

// Approximate memory a tuple holds.
size_t tuple_bytes(const pg::Tuple& t) {
  size_t n = 0;
  for (const auto& v : t) n += v.text.size() + sizeof(v);
  return n;
}

}  // namespace

TransactionAssembler::TransactionAssembler(pg::Lsn applied,
                                           std::map<std::string, pg::Lsn> copy_horizons,
                                           size_t max_bytes)
    : applied_(applied), horizons_(std::move(copy_horizons)), max_bytes_(max_bytes) {}

Result<std::shared_ptr<const TargetRelation>> TransactionAssembler::relation(uint32_t id) const {
  auto it = relations_.find(id);
  if (it == relations_.end())
    return fail(ErrorCode::kDatabase,
                fmt::format("a change for relation {} came before its Relation message", id));
  return it->second;
}

void TransactionAssembler::add_horizon(const std::string& table, pg::Lsn lsn) {
  auto& h = horizons_[table];
  h = std::max(h, lsn);
}

bool TransactionAssembler::before_copy(const TargetRelation& rel) const {
  auto it = horizons_.find(rel.display);
  // Committed before the snapshot the table was copied at: already in its rows.
  return it != horizons_.end() && current_->begin.final_lsn < it->second;
}

Result<AssemblerEvent> TransactionAssembler::feed(pg::PgOutputMessage&& message) {
  AssemblerEvent e;
  if (auto* r = std::get_if<pg::RelationMessage>(&message)) {
    auto rel = std::make_shared<TargetRelation>();
    rel->id = r->relation_id;
    const std::string schema = r->schema.empty() ? "pg_catalog" : r->schema;
    rel->display = schema + "." + r->name;
    rel->qualified = pg::qualified_name(schema, r->name);
    for (const auto& c : r->columns) {
      rel->columns.push_back(pg::quote_ident(c.name));
      rel->names.push_back(c.name);
      rel->types.push_back(c.type_oid);
      rel->key.push_back(c.key);
    }
    // REPLICA IDENTITY FULL marks every column as key: rows are matched whole.
    rel->keyless = r->replica_identity == 'f';
    // No key column and not FULL: a table without replica identity, whose
    // inserts and truncates only are published.
    rel->insert_only =
        !rel->keyless && std::none_of(rel->key.begin(), rel->key.end(), [](bool k) { return k; });
    relations_[r->relation_id] = rel;
    last_relation_ = std::move(*r);
    e.kind = AssemblerEvent::Kind::kRelation;
    e.relation = rel;
    e.relation_message = &last_relation_;
    return e;
  }
  if (auto* b = std::get_if<pg::BeginMessage>(&message)) {
    current_ = std::make_unique<SourceTransaction>();
    current_->begin = *b;
    in_transaction_ = true;
    large_ = false;
    // Already on the target: its commit ends at or before the applied position.
    skipping_ = b->final_lsn < applied_;
    return e;
  }
  if (auto* o = std::get_if<pg::OriginMessage>(&message)) {
    // Made by ferry's own apply on this server: it came from the other side.
    // (The Origin message comes right after Begin, before any change.)
    if (in_transaction_ && o->name.starts_with("ferry")) skipping_ = true;
    return e;
  }
  if (auto* c = std::get_if<pg::CommitMessage>(&message)) {
    if (!in_transaction_)
      return fail(ErrorCode::kDatabase, "a Commit message arrived outside a transaction");
    in_transaction_ = false;
    current_->commit = *c;
    if (skipping_) {
      ++skipped_;
      current_.reset();
      return e;
    }
    current_->seq = next_seq_++;
    e.kind = large_ ? AssemblerEvent::Kind::kLargeCommit : AssemblerEvent::Kind::kTransaction;
    e.transaction = std::move(current_);
    return e;
  }
  if (auto* l = std::get_if<pg::LogicalMessage>(&message)) {
    if (!l->transactional && l->prefix.starts_with("ferry")) {
      e.kind = AssemblerEvent::Kind::kMarker;
      e.marker = l->prefix;
      e.marker_lsn = l->lsn;
    }
    return e;
  }
  if (std::holds_alternative<pg::TypeMessage>(message)) return e;
  if (!in_transaction_)
    return fail(ErrorCode::kDatabase, "a row change arrived outside a transaction");
  auto change = resolve(std::move(message));
  if (!change) return tl::unexpected(change.error());
  if (skipping_ || !*change) return e;
  const size_t bytes = tuple_bytes((*change)->new_tuple) +
                       ((*change)->old_key ? tuple_bytes(*(*change)->old_key) : 0) +
                       ((*change)->old_row ? tuple_bytes(*(*change)->old_row) : 0) + 64;
  if (large_) {
    e.kind = AssemblerEvent::Kind::kLargeChange;
    e.change = std::move(**change);
    return e;
  }
  current_->bytes += bytes;
  current_->changes.push_back(std::move(**change));
  if (current_->bytes > max_bytes_) {
    large_ = true;
    e.kind = AssemblerEvent::Kind::kLargeBegin;
    auto started = std::make_unique<SourceTransaction>();
    started->begin = current_->begin;
    started->changes = std::move(current_->changes);
    current_->changes.clear();
    current_->bytes = 0;
    e.transaction = std::move(started);
  }
  return e;
}

Result<std::optional<Change>> TransactionAssembler::resolve(pg::PgOutputMessage&& message) {
  Change c;
  uint32_t id = 0;
  if (auto* i = std::get_if<pg::InsertMessage>(&message)) {
    c.kind = Change::Kind::kInsert;
    id = i->relation_id;
    c.new_tuple = std::move(i->new_tuple);
  } else if (auto* u = std::get_if<pg::UpdateMessage>(&message)) {
    c.kind = Change::Kind::kUpdate;
    id = u->relation_id;
    c.new_tuple = std::move(u->new_tuple);
    c.old_key = std::move(u->old_key);
    c.old_row = std::move(u->old_row);
  } else if (auto* d = std::get_if<pg::DeleteMessage>(&message)) {
    c.kind = Change::Kind::kDelete;
    id = d->relation_id;
    c.old_key = std::move(d->old_key);
    c.old_row = std::move(d->old_row);
  } else if (auto* t = std::get_if<pg::TruncateMessage>(&message)) {
    c.kind = Change::Kind::kTruncate;
    c.cascade = t->cascade;
    c.restart_identity = t->restart_identity;
    for (auto rid : t->relation_ids) {
      auto rel = relation(rid);
      if (!rel) return tl::unexpected(rel.error());
      if (!before_copy(**rel)) c.truncated.push_back(*rel);
    }
    if (c.truncated.empty()) return std::optional<Change>();
    // Some tables left out (their copy is newer): the message names every
    // table it empties, so a CASCADE could only reach the left-out ones.
    if (c.truncated.size() < t->relation_ids.size()) {
      c.cascade = false;
      c.partial = true;
    }
    return std::optional<Change>(std::move(c));
  } else {
    return std::optional<Change>();
  }
  auto rel = relation(id);
  if (!rel) return tl::unexpected(rel.error());
  if (before_copy(**rel)) return std::optional<Change>();
  c.relation = *rel;
  return std::optional<Change>(std::move(c));
}

}  // namespace ferry::db
