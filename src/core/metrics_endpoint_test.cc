#include "core/metrics_endpoint.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(PrometheusLabel, EscapesWhatWouldBreakThePage) {
  EXPECT_EQ(prometheus_label("public.orders"), "public.orders");
  EXPECT_EQ(prometheus_label("we\"ird\\name\nx"), "we\\\"ird\\\\name\\nx");
}

}  // namespace
}  // namespace ferry
