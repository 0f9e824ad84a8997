#include "pg/pgoutput.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>

namespace ferry::pg {

namespace {

// Reads big-endian fields from a message, remembering the first overrun.
class Reader {
 public:
  Reader(std::string_view data, char type) : data_(data), type_(type) {}

  bool ok() const { return !failed_; }
  size_t offset() const { return at_; }
  bool done() const { return at_ == data_.size(); }

  uint64_t u(int bytes) {
    if (!need(static_cast<size_t>(bytes))) return 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data_[at_++]);
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(u(1)); }
  int16_t i16() { return static_cast<int16_t>(u(2)); }
  uint32_t u32() { return static_cast<uint32_t>(u(4)); }
  int32_t i32() { return static_cast<int32_t>(u(4)); }
  uint64_t u64() { return u(8); }
  int64_t i64() { return static_cast<int64_t>(u(8)); }
  char byte() { return static_cast<char>(u8()); }

  // A NUL-terminated string.
  std::string cstring() {
    const auto end = data_.find('\0', at_);
    if (failed_ || end == std::string_view::npos) {
      failed_ = true;
      return {};
    }
    std::string s(data_.substr(at_, end - at_));
    at_ = end + 1;
    return s;
  }
  std::string bytes(size_t n) {
    if (!need(n)) return {};
    std::string s(data_.substr(at_, n));
    at_ += n;
    return s;
  }

  Tuple tuple() {
    Tuple t;
    const int16_t columns = i16();
    if (columns < 0) failed_ = true;
    for (int i = 0; i < columns && ok(); ++i) {
      TupleValue v;
      switch (byte()) {
        case 'n':
          v.kind = TupleValue::Kind::kNull;
          break;
        case 'u':
          v.kind = TupleValue::Kind::kUnchangedToast;
          break;
        case 't': {
          v.kind = TupleValue::Kind::kText;
          const int32_t length = i32();
          if (length < 0) failed_ = true;
          if (ok()) v.text = bytes(static_cast<size_t>(length));
          break;
        }
        default:
          failed_ = true;  // 'b' (binary) is never asked for
      }
      t.push_back(std::move(v));
    }
    return t;
  }

  Error error() const {
    return Error{ErrorCode::kDatabase,
                 fmt::format("malformed pgoutput '{}' message ({} bytes): unexpected content at "
                             "byte {}",
                             type_, data_.size(), at_),
                 {},
                 {}};
  }

 private:
  bool need(size_t n) {
    if (failed_ || data_.size() - at_ < n) {
      failed_ = true;
      return false;
    }
    return true;
  }

  std::string_view data_;
  char type_;
  size_t at_ = 1;  // after the message type
  bool failed_ = false;
};

// An optional old tuple ('K' or 'O') before the new one ('N') or alone.
void old_tuple(Reader& r, char marker, std::optional<Tuple>& key, std::optional<Tuple>& row) {
  if (marker == 'K') key = r.tuple();
  if (marker == 'O') row = r.tuple();
}

}  // namespace

int64_t micros_since_2000() {
  using namespace std::chrono;
  constexpr int64_t kUnixTo2000 = 946684800LL * 1000000;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count() - kUnixTo2000;
}

std::string lsn_text(Lsn lsn) {
  return fmt::format("{:X}/{:X}", static_cast<uint32_t>(lsn >> 32), static_cast<uint32_t>(lsn));
}

std::optional<Lsn> parse_lsn(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) return {};
  uint32_t high = 0, low = 0;
  const char* end = text.data() + text.size();
  auto [p1, e1] = std::from_chars(text.data(), text.data() + slash, high, 16);
  auto [p2, e2] = std::from_chars(text.data() + slash + 1, end, low, 16);
  if (e1 != std::errc() || e2 != std::errc() || p1 != text.data() + slash || p2 != end) return {};
  return (static_cast<Lsn>(high) << 32) | low;
}

Result<PgOutputMessage> decode_pgoutput(std::string_view message) {
  if (message.empty()) return fail(ErrorCode::kDatabase, "malformed pgoutput message: empty");
  const char type = message[0];
  Reader r(message, type);
  PgOutputMessage out;
  switch (type) {
    case 'B': {
      BeginMessage m;
      m.final_lsn = r.u64();
      m.commit_time = r.i64();
      m.xid = r.u32();
      out = m;
      break;
    }
    case 'C': {
      CommitMessage m;
      r.u8();  // flags, unused
      m.commit_lsn = r.u64();
      m.end_lsn = r.u64();
      m.commit_time = r.i64();
      out = m;
      break;
    }
    case 'O': {
      OriginMessage m;
      m.origin_lsn = r.u64();
      m.name = r.cstring();
      out = std::move(m);
      break;
    }
    case 'R': {
      RelationMessage m;
      m.relation_id = r.u32();
      m.schema = r.cstring();
      m.name = r.cstring();
      m.replica_identity = r.byte();
      const int16_t columns = r.i16();
      for (int i = 0; i < columns && r.ok(); ++i) {
        RelationColumn c;
        c.key = (r.u8() & 1) != 0;
        c.name = r.cstring();
        c.type_oid = r.u32();
        c.type_modifier = r.i32();
        m.columns.push_back(std::move(c));
      }
      out = std::move(m);
      break;
    }
    case 'Y': {
      TypeMessage m;
      m.type_oid = r.u32();
      m.schema = r.cstring();
      m.name = r.cstring();
      out = std::move(m);
      break;
    }
    case 'I': {
      InsertMessage m;
      m.relation_id = r.u32();
      if (r.byte() != 'N') return tl::unexpected(r.error());
      m.new_tuple = r.tuple();
      out = std::move(m);
      break;
    }
    case 'U': {
      UpdateMessage m;
      m.relation_id = r.u32();
      char marker = r.byte();
      if (marker == 'K' || marker == 'O') {
        old_tuple(r, marker, m.old_key, m.old_row);
        marker = r.byte();
      }
      if (marker != 'N') return tl::unexpected(r.error());
      m.new_tuple = r.tuple();
      out = std::move(m);
      break;
    }
    case 'D': {
      DeleteMessage m;
      m.relation_id = r.u32();
      const char marker = r.byte();
      if (marker != 'K' && marker != 'O') return tl::unexpected(r.error());
      old_tuple(r, marker, m.old_key, m.old_row);
      out = std::move(m);
      break;
    }
    case 'T': {
      TruncateMessage m;
      const uint32_t count = r.u32();
      const uint8_t options = r.u8();
      m.cascade = (options & 1) != 0;
      m.restart_identity = (options & 2) != 0;
      for (uint32_t i = 0; i < count && r.ok(); ++i) m.relation_ids.push_back(r.u32());
      out = std::move(m);
      break;
    }
    case 'M': {
      LogicalMessage m;
      m.transactional = (r.u8() & 1) != 0;
      m.lsn = r.u64();
      m.prefix = r.cstring();
      const int32_t length = r.i32();
      if (length < 0) return tl::unexpected(r.error());
      m.content = r.bytes(static_cast<size_t>(length));
      out = std::move(m);
      break;
    }
    default:
      return fail(ErrorCode::kDatabase, fmt::format("unknown pgoutput message type '{}' ({} bytes)",
                                                    type, message.size()));
  }
  if (!r.ok() || !r.done()) return tl::unexpected(r.error());
  return out;
}

}  // namespace ferry::pg
