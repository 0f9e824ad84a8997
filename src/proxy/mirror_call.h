// One mirrored request of a parallel run (parallel_run.h): sent to one
// endpoint of the mirror (or noise) pool on a connection of its own, its
// answer read whole up to the route's mirror.max_body and handed to the
// sample. It never touches the client's exchange: the client has its answer
// from the primary whatever happens here, and a slow or failing mirror only
// costs this call. Its failures do not count toward the endpoint's passive
// health or its pool's circuit breaker, which judge real traffic.
//
// The worker owns every call in flight (Worker::start_mirror) and ends those
// past their deadline in its sweep; callbacks hold only weak references.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "proxy/body_cursor.h"
#include "proxy/http_head.h"
#include "proxy/io_buffer.h"
#include "proxy/parallel_run.h"

namespace ferry::proxy {

class Worker;
struct EndpointState;
struct UpstreamConnection;

struct MirrorRequest {
  std::shared_ptr<ParallelRunSample> sample;
  ParallelRunSample::Part part = ParallelRunSample::Part::kCandidate;
  std::shared_ptr<EndpointState> endpoint;
  // The request as sent upstream; shared by the candidate's and the noise's calls.
  std::shared_ptr<const std::string> head, body;
  bool head_method = false;
  HeadLimits limits;
  int max_idle = 0;  // the pool's max_idle, for keeping the connection afterwards
  int64_t deadline_ms = 0;
};

class MirrorCall : public std::enable_shared_from_this<MirrorCall> {
 public:
  MirrorCall(Worker& worker, MirrorRequest request);
  ~MirrorCall();
  MirrorCall(const MirrorCall&) = delete;
  MirrorCall& operator=(const MirrorCall&) = delete;

  void start();
  bool past_deadline(int64_t now_ms) const { return now_ms >= request_.deadline_ms; }
  // From the worker's sweep.
  void time_out() { fail("no answer within mirror.timeout"); }

 private:
  void connect();
  void send();
  void read();
  void on_bytes();
  void fail(const std::string& detail);
  void done(CapturedAnswer answer, bool reusable);

  Worker& worker_;
  MirrorRequest request_;
  std::unique_ptr<UpstreamConnection> connection_;
  IoBuffer in_;  // from the worker's pool: read and not yet taken
  ResponseHead response_;
  bool head_parsed_ = false;
  bool keep_alive_ = false;
  BodyCursor cursor_;
  AnswerCapture capture_;
  bool ended_ = false;
};

}  // namespace ferry::proxy
