// The data path's sockets against real TCP connections on loopback: the
// readiness they remember must never make them miss input, an end of input
// or a finished write.
#include "proxy/stream_socket.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <string>
#include <thread>

#include "proxy/unique_fd.h"

namespace ferry::proxy {
namespace {

using error_code = boost::system::error_code;

// A connected pair: `peer` is a plain blocking socket the test drives by
// hand, `fd` the other end for a StreamSocket.
struct LoopbackPair {
  UniqueFd peer;
  int fd = -1;
};

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

UniqueFd listening_socket(uint16_t& port) {
  UniqueFd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(0);
  EXPECT_EQ(::bind(l.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  EXPECT_EQ(::listen(l.get(), 8), 0);
  socklen_t length = sizeof(a);
  ::getsockname(l.get(), reinterpret_cast<sockaddr*>(&a), &length);
  port = ntohs(a.sin_port);
  return l;
}

LoopbackPair connected_pair() {
  uint16_t port = 0;
  UniqueFd l = listening_socket(port);
  LoopbackPair pair;
  pair.peer = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in a = loopback(port);
  EXPECT_EQ(::connect(pair.peer.get(), reinterpret_cast<const sockaddr*>(&a), sizeof(a)), 0);
  pair.fd = ::accept4(l.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  EXPECT_GE(pair.fd, 0);
  return pair;
}

void send_all(int fd, std::string_view bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

class StreamSocketTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop.open()); }
  // Runs the loop until a handler stops it, or fails after `limit_ms`.
  void run(int64_t limit_ms = 5000) {
    loop.run_after(limit_ms, [this] {
      timed_out = true;
      loop.stop();
    });
    loop.run();
    ASSERT_FALSE(timed_out) << "the loop waited for an event that never came";
  }

  // `socket` becomes the accepted end of a new connection from `pair.peer`.
  void connect_socket() {
    pair = connected_pair();
    ASSERT_FALSE(socket.adopt(pair.fd));
  }

  EventLoop loop;
  bool timed_out = false;
  LoopbackPair pair;
  StreamSocket socket{loop};
};

// Reads into `text` until the end of input; stops the loop there.
void read_to_end(StreamSocket& socket, char* buffer, size_t size, std::string& text,
                 EventLoop& loop) {
  socket.async_read_some(buffer, size, [&, buffer, size](const error_code& ec, size_t n) {
    if (ec) {
      EXPECT_EQ(ec, boost::asio::error::eof) << ec.message();
      loop.stop();
      return;
    }
    text.append(buffer, n);
    read_to_end(socket, buffer, size, text, loop);
  });
}

TEST_F(StreamSocketTest, FinArrivingWithTheLastBytesEndsTheInput) {
  // The case an edge-triggered reader gets wrong: the socket is known to be
  // readable, then more bytes and the FIN arrive before it reads, so the read
  // takes everything, comes back short, and only a later event tells of the FIN.
  connect_socket();
  send_all(pair.peer.get(), "last ");
  char buffer[64];
  std::string text;
  socket.async_wait_read([&](const error_code& ec, size_t) {
    ASSERT_FALSE(ec);
    send_all(pair.peer.get(), "words");
    ::shutdown(pair.peer.get(), SHUT_WR);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    read_to_end(socket, buffer, sizeof(buffer), text, loop);
  });
  run();
  EXPECT_EQ(text, "last words");
}

TEST_F(StreamSocketTest, InputThatEndedBeforeTheSocketWasAddedIsRead) {
  pair = connected_pair();
  send_all(pair.peer.get(), "early");
  ::shutdown(pair.peer.get(), SHUT_WR);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(socket.adopt(pair.fd));
  char buffer[64];
  std::string text;
  read_to_end(socket, buffer, sizeof(buffer), text, loop);
  run();
  EXPECT_EQ(text, "early");
}

TEST_F(StreamSocketTest, AShortReadWaitsForTheNextBytes) {
  connect_socket();
  send_all(pair.peer.get(), "a");
  char buffer[64];
  std::string text;
  socket.async_read_some(buffer, sizeof(buffer), [&](const error_code& ec, size_t n) {
    ASSERT_FALSE(ec);
    text.append(buffer, n);
    EXPECT_FALSE(socket.readable()) << "a short read means the kernel had nothing more";
    // Sent while nobody waits: the edge must still reach the next read.
    send_all(pair.peer.get(), "b");
    ::shutdown(pair.peer.get(), SHUT_WR);
    read_to_end(socket, buffer, sizeof(buffer), text, loop);
  });
  run();
  EXPECT_EQ(text, "ab");
}

TEST_F(StreamSocketTest, InputPendingTellsAnIdleConnectionFromAClosedOne) {
  connect_socket();
  send_all(pair.peer.get(), "12345678");
  char buffer[8];
  socket.async_read_some(buffer, sizeof(buffer), [&](const error_code& ec, size_t n) {
    ASSERT_FALSE(ec);
    ASSERT_EQ(n, sizeof(buffer));
    // The read filled the buffer, so the socket may still be readable; the
    // kernel says it is not, and the connection is fit for reuse.
    EXPECT_TRUE(socket.readable());
    EXPECT_FALSE(socket.input_pending(false));
    EXPECT_FALSE(socket.readable());
    // A FIN this batch has not reported: only asking the kernel finds it.
    ::shutdown(pair.peer.get(), SHUT_WR);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(socket.input_pending(false));
    EXPECT_TRUE(socket.input_pending(true));
    loop.stop();
  });
  run();
}

TEST_F(StreamSocketTest, OperationsOnAClosedSocketFailAtOnce) {
  error_code read_ec, write_ec;
  char buffer[4];
  socket.async_read_some(buffer, sizeof(buffer),
                         [&](const error_code& ec, size_t) { read_ec = ec; });
  socket.async_write("x", {}, [&](const error_code& ec, size_t) {
    write_ec = ec;
    loop.stop();
  });
  run();
  EXPECT_EQ(read_ec, boost::asio::error::bad_descriptor);
  EXPECT_EQ(write_ec, boost::asio::error::bad_descriptor);
}

TEST_F(StreamSocketTest, AWriteLargerThanTheSocketBuffersCompletesWhole) {
  connect_socket();
  const std::string head(100, 'h');
  const std::string body(16 << 20, 'b');
  size_t received = 0;
  std::thread reader([&] {
    char chunk[65536];
    ssize_t n;
    while ((n = ::recv(pair.peer.get(), chunk, sizeof(chunk), 0)) > 0) {
      received += static_cast<size_t>(n);
    }
  });
  size_t written = 0;
  socket.async_write(head, body, [&](const error_code& ec, size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    written = n;
    socket.close();
    loop.stop();
  });
  run(30000);
  reader.join();
  EXPECT_EQ(written, head.size() + body.size());
  EXPECT_EQ(received, head.size() + body.size());
}

TEST_F(StreamSocketTest, ClosingCompletesPendingOperationsAsAborted) {
  connect_socket();
  error_code read_ec;
  char buffer[16];
  socket.async_read_some(buffer, sizeof(buffer), [&](const error_code& ec, size_t) {
    read_ec = ec;
    loop.stop();
  });
  loop.run_after(10, [&] { socket.close(); });
  run();
  EXPECT_EQ(read_ec, boost::asio::error::operation_aborted);
  EXPECT_FALSE(socket.is_open());
}

TEST_F(StreamSocketTest, ConnectsAndReportsARefusedConnection) {
  uint16_t port = 0;
  UniqueFd l = listening_socket(port);
  StreamSocket good(loop);
  const sockaddr_in a = loopback(port);
  error_code good_ec = boost::asio::error::would_block;
  int done = 0;
  good.async_connect(reinterpret_cast<const sockaddr*>(&a), sizeof(a),
                     [&](const error_code& ec, size_t) {
                       good_ec = ec;
                       if (++done == 2) loop.stop();
                     });
  // A port nobody listens on: the one just closed.
  uint16_t closed_port = 0;
  listening_socket(closed_port).reset();
  const sockaddr_in b = loopback(closed_port);
  StreamSocket refused(loop);
  error_code refused_ec;
  refused.async_connect(reinterpret_cast<const sockaddr*>(&b), sizeof(b),
                        [&](const error_code& ec, size_t) {
                          refused_ec = ec;
                          if (++done == 2) loop.stop();
                        });
  run();
  EXPECT_FALSE(good_ec) << good_ec.message();
  EXPECT_EQ(refused_ec, boost::asio::error::connection_refused) << refused_ec.message();
}

TEST_F(StreamSocketTest, PostedTasksRunOnTheLoopThreadAndTimersInOrder) {
  std::vector<int> order;
  loop.run_after(30, [&] {
    order.push_back(3);
    loop.stop();
  });
  loop.run_after(10, [&] { order.push_back(2); });
  std::thread other([&] { loop.post([&] { order.push_back(1); }); });
  other.join();
  run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace ferry::proxy
