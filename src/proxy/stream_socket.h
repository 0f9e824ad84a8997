// A non-blocking TCP connection on an EventLoop, with an Asio-like interface
// (the handlers get a boost::system::error_code, eof at the end of input,
// operation_aborted when the socket is closed first).
//
// It is registered once, edge-triggered, and remembers what the kernel last
// said: `readable` stays false after a read that came back short (the kernel
// had nothing more) unless the peer's FIN was reported (EPOLLRDHUP), in which
// case the next read returns the end of input. So a request/response turn
// costs one read and one write per side and no epoll_ctl.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <string_view>

#include "proxy/event_loop.h"
#include "proxy/unique_fd.h"

namespace ferry::proxy {

class StreamSocket final : public EventHandler {
 public:
  using error_code = boost::system::error_code;

  explicit StreamSocket(EventLoop& loop) : loop_(loop) {}
  ~StreamSocket() { close(); }
  StreamSocket(const StreamSocket&) = delete;
  StreamSocket& operator=(const StreamSocket&) = delete;

  // Takes an accepted, non-blocking descriptor (closed on failure).
  error_code adopt(int fd);
  // Opens a socket and connects it to `address`; `done(ec, 0)` when connected.
  void async_connect(const sockaddr* address, socklen_t length, IoHandler done);

  bool is_open() const { return fd_.get() >= 0; }
  // Whether a read may find something (data, end of input or an error).
  bool readable() const { return readable_; }
  // Whether input (bytes, end of input or an error) is waiting, for a
  // connection that should have none. Asks the kernel (MSG_PEEK) when the
  // remembered state says it may, or always with `ask_kernel`: the kernel may
  // have received a FIN that this batch of events has not reported yet.
  bool input_pending(bool ask_kernel);
  bool writing() const { return write_op_ != WriteOp::kNone; }
  void set_no_delay();

  // Reads what is there now: bytes, or would_block, eof or another error.
  size_t read_some(char* data, size_t size, error_code& ec);
  // `done(ec, 0)` once a read may find something.
  void async_wait_read(IoHandler done);
  // Forgets a pending async_wait_read without calling it.
  void cancel_wait_read();
  // `done(ec, n)` with the first bytes that arrive (or eof, or an error);
  // at once with 0 bytes when `size` is 0.
  void async_read_some(char* data, size_t size, IoHandler done);
  // Writes both buffers whole; `done(ec, bytes written)`.
  void async_write(std::string_view first, std::string_view second, IoHandler done);

  void shutdown_send();
  // Closes the descriptor; pending operations complete with operation_aborted.
  void close();

 private:
  enum class ReadOp { kNone, kWait, kRead };
  enum class WriteOp { kNone, kWrite, kConnect };

  void on_events(uint32_t events) override;
  error_code register_with_loop();
  void progress_read();
  void progress_write();
  void finish_write(const error_code& ec);

  EventLoop& loop_;
  UniqueFd fd_;
  uint64_t registration_ = 0;
  bool readable_ = false;
  bool writable_ = false;
  bool peer_closed_ = false;  // FIN or error seen: input ends after what is buffered
  ReadOp read_op_ = ReadOp::kNone;
  WriteOp write_op_ = WriteOp::kNone;
  char* read_data_ = nullptr;
  size_t read_size_ = 0;
  IoHandler read_done_;
  iovec write_iov_[2] = {};
  size_t written_ = 0;
  IoHandler write_done_;
};

}  // namespace ferry::proxy
