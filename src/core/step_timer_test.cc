#include "core/step_timer.h"

#include <gtest/gtest.h>

#include <thread>

namespace ferry {
namespace {

using namespace std::chrono_literals;

TEST(StepTimer, RecordsStepsInTheOrderTheyFinish) {
  StepTimer timer;
  auto outer = timer.start("data");
  auto inner = timer.start("indexes");
  std::this_thread::sleep_for(2ms);
  const double indexes = timer.finish(inner);
  const double data = timer.finish(outer);
  ASSERT_EQ(timer.steps().size(), 2u);
  EXPECT_EQ(timer.steps()[0].name, "indexes");
  EXPECT_EQ(timer.steps()[1].name, "data");
  EXPECT_EQ(timer.steps()[0].seconds, indexes);
  // Overlapping steps are each timed from their own start.
  EXPECT_GE(data, indexes);
  EXPECT_GE(indexes, 0.002);
}

TEST(StepTimer, ALapStartsWhereThePreviousStepEnded) {
  StepTimer timer;
  std::this_thread::sleep_for(2ms);
  const double first = timer.lap("read");
  const double second = timer.lap("plan");
  EXPECT_GE(first, 0.002);
  // Were the second lap timed from the start, it would hold the first's
  // time too and the two would add up to more than the whole.
  EXPECT_GE(timer.total_seconds(), first + second);
}

}  // namespace
}  // namespace ferry
