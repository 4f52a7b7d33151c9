// State tallies: names round-trip, an elapsed time exactly at a bucket bound
// is in that bucket and 1 ms more is in the next, a withdrawal undoes a
// report exactly, and alert events of one alert move one overdue tally.
#include "pipeline/state_tallies.h"

#include <gtest/gtest.h>

namespace slawatch {
namespace {

using std::chrono::minutes;

CycleMark closed_cycle(Duration elapsed, bool breached) {
  CycleMark mark{RuleId{"first-response"}, 1, Instant{}, "roads", true, breached, elapsed};
  return mark;
}

TEST(StateTallies, KeysRoundTripAndUnknownNamesAreRefused) {
  for (const TallyKey& key : {TallyKey{TallyKey::Kind::overdue_alerts, "first-response", "breach", "roads"},
                              TallyKey{TallyKey::Kind::open_cycles, "first-response", "", ""},
                              TallyKey{TallyKey::Kind::closed_elapsed, "r", "", "a\x1f" "b", true},
                              TallyKey{TallyKey::Kind::closed_bucket, "r", "", "d", false, kCycleElapsedBuckets.size()}}) {
    const auto decoded = decode_tally_key(encode_tally_key(key));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, key);
  }
  EXPECT_FALSE(decode_tally_key("").has_value());
  EXPECT_FALSE(decode_tally_key(std::string(1, '\x09') + "xx").has_value());
  std::string past_inf = encode_tally_key(TallyKey{TallyKey::Kind::closed_bucket, "r", "", "d", false, 0});
  past_inf.back() = static_cast<char>(kCycleElapsedBuckets.size() + 1);
  EXPECT_FALSE(decode_tally_key(past_inf).has_value());
}

TEST(StateTallies, ExactlyAtABoundIsInThatBucketAndOneMillisecondMoreIsNot) {
  EXPECT_EQ(kCycleElapsedBuckets[4], 1800);
  EXPECT_EQ(cycle_elapsed_bucket(minutes{30}), 4u);
  EXPECT_EQ(cycle_elapsed_bucket(minutes{30} + Duration{1}), 5u);
  EXPECT_EQ(cycle_elapsed_bucket(Duration{0}), 0u);
  EXPECT_EQ(cycle_elapsed_bucket(std::chrono::hours{24 * 14}), kCycleElapsedBuckets.size() - 1);
  EXPECT_EQ(cycle_elapsed_bucket(std::chrono::hours{24 * 14} + Duration{1}), kCycleElapsedBuckets.size());
}

TEST(StateTallies, AWithdrawalUndoesItsReportExactly) {
  Tallies deltas;
  tally_cycle(CycleOutcome{closed_cycle(minutes{40}, true), false}, deltas);
  EXPECT_EQ(deltas[encode_tally_key(TallyKey{TallyKey::Kind::closed_elapsed, "first-response", "", "roads", true})],
            40 * 60 * 1000);
  tally_cycle(CycleOutcome{closed_cycle(minutes{40}, true), true}, deltas);
  tally_cycle(CycleOutcome{closed_cycle(minutes{10}, false), false}, deltas);
  Tallies committed;
  add_tallies(committed, deltas);
  const Tallies expected{
      {encode_tally_key(TallyKey{TallyKey::Kind::closed_cycles, "first-response", "", "roads", false}), 1},
      {encode_tally_key(TallyKey{TallyKey::Kind::closed_elapsed, "first-response", "", "roads", false}), 600000},
      {encode_tally_key(TallyKey{TallyKey::Kind::closed_bucket, "first-response", "", "roads", false, 2}), 1}};
  EXPECT_EQ(committed, expected);
}

TEST(StateTallies, AnAlertFiredResolvedThenRetractedLeavesNothingOverdue) {
  Alert alert;
  alert.rule = RuleId{"first-response"};
  alert.stage = "breach";
  alert.department = "roads";
  alert.kind = AlertKind::fired;
  Tallies deltas;
  tally_alert(alert, deltas);
  const std::string overdue = encode_tally_key(TallyKey{TallyKey::Kind::overdue_alerts, "first-response", "breach", "roads"});
  EXPECT_EQ(deltas[overdue], 1);
  alert.kind = AlertKind::resolved;
  tally_alert(alert, deltas);
  Tallies committed;
  add_tallies(committed, deltas);
  EXPECT_TRUE(committed.empty());
  // A late event then shows the stage was met after all: the retraction of a
  // resolved stage changes nothing overdue.
  deltas.clear();
  alert.kind = AlertKind::retracted;
  alert.was_resolved = true;
  tally_alert(alert, deltas);
  EXPECT_TRUE(deltas.empty());
  // A retraction of a stage still firing takes it out.
  alert.was_resolved = false;
  tally_alert(alert, deltas);
  EXPECT_EQ(deltas[overdue], -1);
}

// A batch builds its deltas hashed (TallyDeltas); they must add up to what
// the ordered Tallies would have held.
TEST(StateTallies, HashedDeltasAddUpToTheSameTalliesAsOrderedOnes) {
  Alert alert;
  alert.kind = AlertKind::fired;
  alert.rule = RuleId{"first-response"};
  alert.stage = "breach";
  alert.department = "roads";
  Tallies ordered;
  TallyDeltas hashed;
  tally_alert(alert, ordered);
  tally_cycle(CycleOutcome{closed_cycle(minutes{40}, true), false}, ordered);
  tally_cycle(CycleOutcome{closed_cycle(minutes{40}, true), true}, ordered);
  tally_cycle(CycleOutcome{closed_cycle(minutes{10}, false), false}, ordered);
  tally_alert(alert, hashed);
  tally_cycle(CycleOutcome{closed_cycle(minutes{40}, true), false}, hashed);
  tally_cycle(CycleOutcome{closed_cycle(minutes{40}, true), true}, hashed);
  tally_cycle(CycleOutcome{closed_cycle(minutes{10}, false), false}, hashed);
  Tallies from_ordered;
  add_tallies(from_ordered, ordered);
  Tallies from_hashed;
  add_tallies(from_hashed, Tallies(hashed.begin(), hashed.end()));
  EXPECT_EQ(from_hashed, from_ordered);
  EXPECT_EQ(from_hashed.size(), 4u);  // overdue, and the met cycle's three closed_* names
}

}  // namespace
}  // namespace slawatch
