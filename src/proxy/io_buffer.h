// Byte buffers for the proxy's connections. A connection holds a buffer only
// while it has bytes in flight; an idle keep-alive connection gives its
// buffer back to the worker's pool, which keeps idle connections small
// (measured in bench/proxy_memory.sh).
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::proxy {

class IoBuffer {
 public:
  IoBuffer() = default;
  explicit IoBuffer(size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}

  bool allocated() const { return data_ != nullptr; }
  size_t capacity() const { return capacity_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  std::string_view readable() const { return {data_.get() + begin_, end_ - begin_}; }
  const char* data() const { return data_.get() + begin_; }

  bool full() const { return begin_ == 0 && end_ == capacity_; }
  // Room for the next read (empty when full), after moving what is unread to the front.
  std::pair<char*, size_t> prepare() {
    if (begin_ > 0 && end_ == capacity_) compact();
    return {data_.get() + end_, capacity_ - end_};
  }
  void commit(size_t n) { end_ += n; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Grows to `capacity`, keeping the unread bytes.
  void grow(size_t capacity) {
    std::unique_ptr<char[]> next(new char[capacity]);
    std::memcpy(next.get(), data_.get() + begin_, size());
    end_ = size();
    begin_ = 0;
    data_ = std::move(next);
    capacity_ = capacity;
  }

 private:
  void compact() {
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }

  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// Per-worker free list of standard-size buffers (no locking: one thread).
class BufferPool {
 public:
  static constexpr size_t kBufferSize = 16 * 1024;
  static constexpr size_t kMaxKept = 1024;

  IoBuffer take() {
    if (free_.empty()) return IoBuffer(kBufferSize);
    IoBuffer b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  // Takes back an empty buffer; grown ones and surplus are freed.
  void give(IoBuffer& b) {
    if (!b.allocated()) return;
    if (b.empty() && b.capacity() == kBufferSize && free_.size() < kMaxKept) {
      free_.push_back(std::move(b));
    }
    b = IoBuffer();
  }

 private:
  std::vector<IoBuffer> free_;
};

}  // namespace ferry::proxy
