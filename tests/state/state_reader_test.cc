// StateReader: the case API's read-only view across partitions. A case is
// found in whichever partition holds it, a case's alerts are its own (not
// those of a case whose id merely starts the same), the alert listing pages
// with a cursor across partitions without repeats or gaps, filters by state
// and department, and stops a page early at the scan budget.
#include "state/state_reader.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "indexed_alert.h"
#include "temp_database.h"

namespace slawatch {
namespace {

class StateReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_ = std::make_unique<testing::TempDatabase>("slawatch-reader-test");
    db_ = temp_->database;
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override {
    db_.reset();
    temp_.reset();
  }

  static IndexedAlert alert(std::string_view id, AlertIndexEntry::State state, std::string department) {
    return testing::indexed_alert(id, state, std::move(department));
  }
  void commit(uint16_t partition, StateBatch batch, Instant clock) {
    batch.checkpoint = Checkpoint{clock, "pos", 1, "v1"};
    RocksDbStateStore store(db_, partition);
    ASSERT_TRUE(store.commit(batch).ok());
  }
  // Partition 1: cases c1, c10; partition 5: case c2. Eight alert ids in all.
  void fill() {
    using S = AlertIndexEntry::State;
    StateBatch p1;
    p1.cases.emplace_back(CaseId{"c1"}, "record-c1");
    p1.cases.emplace_back(CaseId{"c10"}, "record-c10");
    p1.alert_index = {alert("c1/r/1/warning", S::firing, "roads"), alert("c1/r/1/breach", S::firing, "roads"),
                      alert("c10/r/1/breach", S::firing, "water"),
                      alert("c1/r/1/warning", S::retracted, "roads")};  // a later event of the same id wins
    commit(1, p1, from_millis(1000));
    StateBatch p5;
    p5.cases.emplace_back(CaseId{"c2"}, "record-c2");
    p5.alert_index = {alert("c2/r/1/warning", S::resolved, "water"), alert("c2/r/1/breach", S::resolved, "water"),
                      alert("c2/q/1/threshold", S::firing, "roads"), alert("c2/q/2/threshold", S::firing, "water"),
                      alert("c2/q/3/threshold", S::retracted, "roads")};
    commit(5, p5, from_millis(2000));
  }

  std::vector<std::string> walk(const StateReader& reader, const StateReader::AlertFilter& filter, size_t limit,
                                size_t budget, size_t& pages) {
    std::vector<std::string> ids;
    std::string cursor;
    pages = 0;
    do {
      auto page = reader.list_alerts(filter, cursor, limit, budget);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      EXPECT_LE(page->alerts.size(), limit);
      for (const auto& a : page->alerts) ids.push_back(a.alert_id);
      cursor = page->next_cursor;
      ++pages;
    } while (!cursor.empty() && pages < 100);
    return ids;
  }

  std::unique_ptr<testing::TempDatabase> temp_;
  std::shared_ptr<RocksDbDatabase> db_;
};

TEST_F(StateReaderTest, FindsCasesInAnyPartitionWithTheirOwnAlertsAndClock) {
  fill();
  StateReader reader(db_);
  auto c2 = reader.find_case(CaseId{"c2"});
  ASSERT_TRUE(c2.ok());
  ASSERT_TRUE(c2->has_value());
  EXPECT_EQ((*c2)->partition, 5);
  EXPECT_EQ((*c2)->encoded, "record-c2");
  auto c1 = reader.find_case(CaseId{"c1"});
  ASSERT_TRUE(c1.ok() && c1->has_value());
  EXPECT_EQ((*c1)->partition, 1);
  auto missing = reader.find_case(CaseId{"c3"});
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto alerts = reader.alerts_of_case(1, CaseId{"c1"});
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->size(), 2u);  // not c10's
  EXPECT_EQ((*alerts)[0].alert_id, "c1/r/1/breach");
  EXPECT_EQ((*alerts)[0].state, AlertIndexEntry::State::firing);
  EXPECT_EQ((*alerts)[1].alert_id, "c1/r/1/warning");
  EXPECT_EQ((*alerts)[1].state, AlertIndexEntry::State::retracted);
  EXPECT_EQ((*alerts)[1].department, "roads");
  EXPECT_EQ((*alerts)[1].event,
            testing::read_back(alert("c1/r/1/warning", AlertIndexEntry::State::retracted, "roads"),
                               AlertIndexEntry::State::retracted)
                .event);
  EXPECT_TRUE(reader.alerts_of_case(5, CaseId{"c1"})->empty());

  auto checkpoint = reader.checkpoint(5);
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(checkpoint->clock, from_millis(2000));
  EXPECT_EQ(checkpoint->rules_version, "v1");
  EXPECT_EQ(reader.checkpoint(1)->clock, from_millis(1000));
}

TEST_F(StateReaderTest, PagesAcrossPartitionsWithoutRepeatsOrGaps) {
  fill();
  StateReader reader(db_);
  size_t pages = 0;
  const auto ids = walk(reader, {}, 3, 100000, pages);
  EXPECT_EQ(pages, 3u);  // 3 + 3 + 2
  ASSERT_EQ(ids.size(), 8u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  // Partition order first, then alert id order inside a partition.
  EXPECT_EQ(ids, (std::vector<std::string>{"c1/r/1/breach", "c1/r/1/warning", "c10/r/1/breach",
                                           "c2/q/1/threshold", "c2/q/2/threshold", "c2/q/3/threshold",
                                           "c2/r/1/breach", "c2/r/1/warning"}));
}

TEST_F(StateReaderTest, FiltersByStateAndDepartment) {
  fill();
  StateReader reader(db_);
  size_t pages = 0;
  StateReader::AlertFilter firing{AlertIndexEntry::State::firing, std::nullopt};
  EXPECT_EQ(walk(reader, firing, 100, 100000, pages),
            (std::vector<std::string>{"c1/r/1/breach", "c10/r/1/breach", "c2/q/1/threshold", "c2/q/2/threshold"}));
  EXPECT_EQ(pages, 1u);
  StateReader::AlertFilter firing_water{AlertIndexEntry::State::firing, "water"};
  EXPECT_EQ(walk(reader, firing_water, 1, 100000, pages),
            (std::vector<std::string>{"c10/r/1/breach", "c2/q/2/threshold"}));
  StateReader::AlertFilter retracted_roads{AlertIndexEntry::State::retracted, "roads"};
  EXPECT_EQ(walk(reader, retracted_roads, 100, 100000, pages),
            (std::vector<std::string>{"c1/r/1/warning", "c2/q/3/threshold"}));
  StateReader::AlertFilter nobody{std::nullopt, "parks"};
  EXPECT_TRUE(walk(reader, nobody, 100, 100000, pages).empty());
  EXPECT_EQ(pages, 1u);
}

TEST_F(StateReaderTest, AcceptNarrowsAfterStateAndDepartmentAndAnEmptyDepartmentMeansNone) {
  fill();
  StateBatch p7;
  p7.alert_index = {alert("c7/r/1/breach", AlertIndexEntry::State::firing, "")};
  commit(7, p7, from_millis(3000));
  StateReader reader(db_);
  size_t pages = 0;
  StateReader::AlertFilter thresholds{AlertIndexEntry::State::firing, std::nullopt,
                                      [](const AlertIndexEntry& e) { return e.alert_id.find("/q/") != std::string::npos; }};
  EXPECT_EQ(walk(reader, thresholds, 1, 100000, pages),
            (std::vector<std::string>{"c2/q/1/threshold", "c2/q/2/threshold"}));
  StateReader::AlertFilter none{std::nullopt, ""};
  EXPECT_EQ(walk(reader, none, 100, 100000, pages), (std::vector<std::string>{"c7/r/1/breach"}));
  EXPECT_EQ(reader.partitions().value(), (std::vector<uint16_t>{1, 5, 7}));
}

TEST_F(StateReaderTest, ScanBudgetEndsAPageEarlyAndItsCursorContinues) {
  fill();
  StateReader reader(db_);
  // The two resolved alerts are the last two of the eight rows in key order: with a budget of 2 rows
  // per page, three pages come back empty (each with a cursor) before the fourth finds them.
  StateReader::AlertFilter resolved{AlertIndexEntry::State::resolved, std::nullopt};
  auto first = reader.list_alerts(resolved, "", 100, 2);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->alerts.empty());
  EXPECT_FALSE(first->next_cursor.empty());
  size_t pages = 0;
  EXPECT_EQ(walk(reader, resolved, 100, 2, pages), (std::vector<std::string>{"c2/r/1/breach", "c2/r/1/warning"}));
  EXPECT_EQ(pages, 4u);  // 8 rows looked at, 2 per page
}

TEST_F(StateReaderTest, CursorsAreCheckedBeforeUse) {
  fill();
  StateReader reader(db_);
  EXPECT_TRUE(StateReader::valid_cursor(""));
  EXPECT_TRUE(StateReader::valid_cursor("0001"));
  EXPECT_FALSE(StateReader::valid_cursor("xyz"));
  EXPECT_FALSE(StateReader::valid_cursor("abc"));  // odd length
  EXPECT_FALSE(reader.list_alerts({}, "not-hex", 10).ok());
}

}  // namespace
}  // namespace slawatch
