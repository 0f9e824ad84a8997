#include "proxy/stream_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <boost/asio/error.hpp>
#include <cerrno>

namespace ferry::proxy {

namespace {

namespace asio_error = boost::asio::error;

boost::system::error_code last_error() { return {errno, boost::system::system_category()}; }

}  // namespace

boost::system::error_code StreamSocket::adopt(int fd) {
  fd_ = UniqueFd(fd);
  // The kernel reports what is already there when the socket is added.
  return register_with_loop();
}

boost::system::error_code StreamSocket::register_with_loop() {
  const error_code ec = loop_.add(fd_.get(), this, registration_);
  if (ec) fd_.reset();
  return ec;
}

void StreamSocket::async_connect(const sockaddr* address, socklen_t length, IoHandler done) {
  fd_ = UniqueFd(
      ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!is_open()) {
    loop_.complete(std::move(done), last_error(), 0);
    return;
  }
  // Added after connect(): a socket that is not yet connecting reports a
  // hang-up, which would read as a finished connect.
  const int rc = ::connect(fd_.get(), address, length);
  const error_code connect_ec = rc == 0 || errno == EINPROGRESS ? error_code() : last_error();
  if (const error_code ec = register_with_loop()) {
    loop_.complete(std::move(done), ec, 0);
    return;
  }
  if (connect_ec) {
    loop_.complete(std::move(done), connect_ec, 0);
    return;
  }
  write_op_ = WriteOp::kConnect;
  write_done_ = std::move(done);
  if (rc == 0) {
    writable_ = true;
    progress_write();
  }
}

void StreamSocket::set_no_delay() {
  const int one = 1;
  ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

size_t StreamSocket::read_some(char* data, size_t size, error_code& ec) {
  ec = {};
  if (size == 0) return 0;
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), data, size, 0);
    if (n > 0) {
      // Short: the kernel had no more. More data or a FIN raises a new edge.
      if (static_cast<size_t>(n) < size && !peer_closed_) readable_ = false;
      return static_cast<size_t>(n);
    }
    if (n == 0) {
      ec = asio_error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      readable_ = false;
      ec = asio_error::would_block;
      return 0;
    }
    ec = last_error();
    return 0;
  }
}

bool StreamSocket::input_pending(bool ask_kernel) {
  if (!readable_ && !ask_kernel) return false;
  char byte;
  const ssize_t n = ::recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    readable_ = false;
    return false;
  }
  return true;
}

void StreamSocket::async_wait_read(IoHandler done) {
  if (!is_open()) {
    loop_.complete(std::move(done), asio_error::bad_descriptor, 0);
    return;
  }
  read_op_ = ReadOp::kWait;
  read_done_ = std::move(done);
  if (readable_) progress_read();
}

void StreamSocket::cancel_wait_read() {
  read_op_ = ReadOp::kNone;
  read_done_ = nullptr;
}

void StreamSocket::async_read_some(char* data, size_t size, IoHandler done) {
  if (!is_open() || size == 0) {
    loop_.complete(std::move(done), is_open() ? error_code() : asio_error::bad_descriptor, 0);
    return;
  }
  read_op_ = ReadOp::kRead;
  read_data_ = data;
  read_size_ = size;
  read_done_ = std::move(done);
  if (readable_) progress_read();
}

void StreamSocket::progress_read() {
  error_code ec;
  size_t n = 0;
  if (read_op_ == ReadOp::kRead) {
    n = read_some(read_data_, read_size_, ec);
    if (ec == asio_error::would_block) return;
  }
  read_op_ = ReadOp::kNone;
  loop_.complete(std::move(read_done_), ec, n);
}

void StreamSocket::async_write(std::string_view first, std::string_view second, IoHandler done) {
  if (!is_open()) {
    loop_.complete(std::move(done), asio_error::bad_descriptor, 0);
    return;
  }
  write_op_ = WriteOp::kWrite;
  write_iov_[0] = {const_cast<char*>(first.data()), first.size()};
  write_iov_[1] = {const_cast<char*>(second.data()), second.size()};
  written_ = 0;
  write_done_ = std::move(done);
  if (writable_) progress_write();
}

void StreamSocket::progress_write() {
  if (write_op_ == WriteOp::kConnect) {
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    finish_write(error == 0 ? error_code() : error_code(error, boost::system::system_category()));
    return;
  }
  for (;;) {
    iovec* iov = write_iov_;
    int count = 2;
    while (count > 0 && iov->iov_len == 0) {
      ++iov;
      --count;
    }
    if (count == 2 && iov[1].iov_len == 0) count = 1;
    if (count == 0) {
      finish_write({});
      return;
    }
    ssize_t n;
    if (count == 1) {
      n = ::send(fd_.get(), iov->iov_base, iov->iov_len, MSG_NOSIGNAL);
    } else {
      msghdr message{};
      message.msg_iov = iov;
      message.msg_iovlen = static_cast<size_t>(count);
      n = ::sendmsg(fd_.get(), &message, MSG_NOSIGNAL);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        writable_ = false;
        return;
      }
      finish_write(last_error());
      return;
    }
    written_ += static_cast<size_t>(n);
    for (size_t left = static_cast<size_t>(n); left > 0;) {
      const size_t step = std::min(left, iov->iov_len);
      iov->iov_base = static_cast<char*>(iov->iov_base) + step;
      iov->iov_len -= step;
      left -= step;
      if (iov->iov_len == 0) ++iov;
    }
  }
}

void StreamSocket::finish_write(const error_code& ec) {
  write_op_ = WriteOp::kNone;
  loop_.complete(std::move(write_done_), ec, written_);
}

void StreamSocket::on_events(uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) {
    // Both directions now fail or end, for good; the next call says how.
    readable_ = writable_ = peer_closed_ = true;
  }
  if (events & EPOLLRDHUP) peer_closed_ = readable_ = true;
  if (events & EPOLLIN) readable_ = true;
  if (events & EPOLLOUT) writable_ = true;
  if (writable_ && write_op_ != WriteOp::kNone) progress_write();
  if (readable_ && read_op_ != ReadOp::kNone) progress_read();
}

void StreamSocket::shutdown_send() {
  if (is_open()) ::shutdown(fd_.get(), SHUT_WR);
}

void StreamSocket::close() {
  if (!is_open()) return;
  loop_.remove(registration_);
  fd_.reset();
  readable_ = writable_ = peer_closed_ = false;
  if (read_op_ != ReadOp::kNone) {
    read_op_ = ReadOp::kNone;
    loop_.complete(std::move(read_done_), asio_error::operation_aborted, 0);
  }
  if (write_op_ != WriteOp::kNone) {
    write_op_ = WriteOp::kNone;
    loop_.complete(std::move(write_done_), asio_error::operation_aborted, written_);
  }
}

}  // namespace ferry::proxy
