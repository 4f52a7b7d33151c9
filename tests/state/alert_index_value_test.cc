// The alert index keeps an alert's fields and renders its CloudEvent when
// read: what a reader gets must be, byte for byte, what was delivered, for
// every kind and every optional field; values of the earlier format (the
// CloudEvent's text) are still read; damaged values are refused, not guessed.
#include "state/alert_index_value.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "indexed_alert.h"
#include "io/alert_json.h"

namespace slawatch {
namespace {

using S = AlertIndexEntry::State;

std::vector<std::pair<IndexedAlert, S>> every_shape() {
  std::vector<std::pair<IndexedAlert, S>> shapes;
  auto fired = testing::indexed_alert("HK-20260302-000003/first-response/1/warning", S::firing, "transport");
  fired.alert.notify = {NotifyTarget{"department.duty_officer", "李伟"}, NotifyTarget{"department.head", ""}};
  shapes.emplace_back(fired, S::firing);
  auto no_department = testing::indexed_alert("HK-1/emergency/2/breach", S::firing, "");  // rendered "unassigned"
  no_department.alert.notify.clear();
  shapes.emplace_back(no_department, S::firing);
  auto resolved = testing::indexed_alert("HK-2/first-response/1/breach", S::resolved, "water");
  resolved.alert.closed_at = resolved.alert.due_at + Duration{1'234'567};  // overdue_seconds 1234.567
  shapes.emplace_back(resolved, S::resolved);
  auto retracted = testing::indexed_alert("HK-3/normal-handling/3/warning", S::retracted, "roads");
  retracted.alert.closed_at = retracted.alert.due_at - Duration{1};
  retracted.alert.reason = "the due time moved to 2026-03-02T08:00:00Z \"quoted\" \\ and\nnewline";
  shapes.emplace_back(retracted, S::retracted);
  auto retracted_open = testing::indexed_alert("HK-4/repeated-return/1/threshold", S::retracted, "");
  retracted_open.alert.closed_at.reset();
  retracted_open.alert.event_id = EventId{};  // rendered null
  retracted_open.source = "/haikou/12345/slawatch";
  shapes.emplace_back(retracted_open, S::retracted);
  auto early = testing::indexed_alert("HK-5/first-response/12/breach", S::firing, "公安");
  early.alert.due_at = from_millis(-86'400'000);  // before 1970: negative times
  early.alert.started_at = from_millis(-90'000'000);
  shapes.emplace_back(early, S::firing);
  return shapes;
}

TEST(AlertIndexValue, EveryKindReadsBackAsTheCloudEventDelivered) {
  for (const auto& [indexed, state] : every_shape()) {
    const std::string value = encode_alert_index_value(indexed);
    auto entry = decode_alert_index_entry(indexed.alert.alert_id, value);
    ASSERT_TRUE(entry.ok()) << indexed.alert.alert_id << ": " << entry.error().message;
    EXPECT_EQ(entry->event, encode_alert_cloudevent(indexed.alert, indexed.source)) << indexed.alert.alert_id;
    EXPECT_EQ(entry->state, state);
    EXPECT_EQ(entry->department, indexed.alert.department) << "as emitted (empty stays empty)";
    EXPECT_EQ(entry->alert_id, indexed.alert.alert_id);
  }
}

TEST(AlertIndexValue, AValueIsAFractionOfItsCloudEvent) {
  for (const auto& [indexed, state] : every_shape()) {
    const size_t value = encode_alert_index_value(indexed).size();
    const size_t event = encode_alert_cloudevent(indexed.alert, indexed.source).size();
    // A retraction's reason is free text, the same in both.
    EXPECT_LT(value * (state == S::retracted ? 2 : 3), event) << indexed.alert.alert_id << ": " << value << " against " << event;
    EXPECT_EQ(alert_index_state(encode_alert_index_value(indexed)), state);
  }
}

TEST(AlertIndexValue, ValuesOfTheEarlierFormatAreReadAsTheyWereStored) {
  std::string legacy(1, static_cast<char>(S::resolved));
  codec::put_string(legacy, "roads");
  legacy += R"({"specversion":"1.0","id":"as stored"})";
  auto entry = decode_alert_index_entry("C-1/r/1/breach", legacy);
  ASSERT_TRUE(entry.ok()) << entry.error().message;
  EXPECT_EQ(*entry, (AlertIndexEntry{"C-1/r/1/breach", S::resolved, "roads", R"({"specversion":"1.0","id":"as stored"})"}));
}

TEST(AlertIndexValue, DamagedValuesAreRefusedWithTheAlertId) {
  const auto [indexed, state] = every_shape().front();
  const std::string value = encode_alert_index_value(indexed);
  const std::string id = indexed.alert.alert_id;
  auto refused = [&](std::string_view alert_id, std::string_view bytes) {
    auto entry = decode_alert_index_entry(alert_id, bytes);
    if (entry.ok()) return false;
    EXPECT_NE(entry.error().message.find(std::string(alert_id)), std::string::npos) << entry.error().message;
    return true;
  };
  EXPECT_TRUE(refused(id, ""));
  for (size_t cut = 1; cut < value.size(); ++cut) EXPECT_TRUE(refused(id, value.substr(0, cut))) << "cut at " << cut;
  EXPECT_TRUE(refused(id, value + "x")) << "trailing bytes";
  EXPECT_TRUE(refused("HK-20260302-000003/first-response/1/breach", value)) << "fields that spell another id";
  std::string unknown = value;
  unknown[0] = 0x11;
  EXPECT_TRUE(refused(id, unknown)) << "unknown format";
  std::string bad_kind = value;
  bad_kind[1] = 7;
  EXPECT_TRUE(refused(id, bad_kind)) << "unknown kind";
}

}  // namespace
}  // namespace slawatch
