#include "model/event.h"

#include <gtest/gtest.h>

namespace slawatch {
namespace {

TEST(EventTypeNames, EveryTypeRoundTrips) {
  for (size_t i = 0; i < kEventTypeCount; ++i) {
    const auto type = static_cast<EventType>(i);
    const std::string_view name = to_string(type);
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(event_type_from_name(name), type) << name;
  }
}

TEST(EventTypeNames, NamesAreTheContractShortNames) {
  EXPECT_EQ(to_string(EventType::created), "created");
  EXPECT_EQ(to_string(EventType::acknowledged), "acknowledged");
  EXPECT_EQ(to_string(EventType::feedback), "feedback");
}

TEST(EventTypeNames, UnknownOrPrefixedNamesAreNotTypes) {
  EXPECT_EQ(event_type_from_name(""), std::nullopt);
  EXPECT_EQ(event_type_from_name("Created"), std::nullopt);
  EXPECT_EQ(event_type_from_name("hotline.case.created"), std::nullopt);
  EXPECT_EQ(event_type_from_name("escalated"), std::nullopt);
}

CaseEvent event_of(EventType type) {
  CaseEvent e;
  e.type = type;
  return e;
}

TEST(CaseAttributesApply, CreatedThenUpdatedThenDispatched) {
  CaseAttributes attrs;

  CaseEvent created = event_of(EventType::created);
  created.category = "water-leak";
  created.priority = "normal";
  created.channel = "phone";
  created.district = "meilan";
  attrs.apply(created);
  EXPECT_EQ(attrs.category, "water-leak");
  EXPECT_EQ(attrs.priority, "normal");
  EXPECT_EQ(attrs.channel, "phone");
  EXPECT_EQ(attrs.district, "meilan");
  EXPECT_EQ(attrs.department, "");

  // Re-triage changes only the fields it carries.
  CaseEvent updated = event_of(EventType::updated);
  updated.priority = "urgent";
  attrs.apply(updated);
  EXPECT_EQ(attrs.priority, "urgent");
  EXPECT_EQ(attrs.category, "water-leak");
  EXPECT_EQ(attrs.district, "meilan");
  EXPECT_EQ(attrs.channel, "phone");

  CaseEvent dispatched = event_of(EventType::dispatched);
  dispatched.department = "water";
  attrs.apply(dispatched);
  EXPECT_EQ(attrs.department, "water");
  EXPECT_EQ(attrs.priority, "urgent");

  CaseEvent redispatched = event_of(EventType::dispatched);
  redispatched.department = "roads";
  redispatched.from_department = "water";
  attrs.apply(redispatched);
  EXPECT_EQ(attrs.department, "roads");
}

TEST(CaseAttributesApply, AcknowledgementDoesNotMoveTheCase) {
  CaseAttributes attrs;
  CaseEvent dispatched = event_of(EventType::dispatched);
  dispatched.department = "water";
  attrs.apply(dispatched);

  CaseEvent acknowledged = event_of(EventType::acknowledged);
  acknowledged.department = "roads";
  attrs.apply(acknowledged);
  EXPECT_EQ(attrs.department, "water");
}

TEST(CaseAttributesGet, KnownAndUnknownNames) {
  CaseAttributes attrs;
  attrs.priority = "emergency";
  attrs.department = "power";
  ASSERT_NE(attrs.get("priority"), nullptr);
  EXPECT_EQ(*attrs.get("priority"), "emergency");
  ASSERT_NE(attrs.get("department"), nullptr);
  EXPECT_EQ(*attrs.get("department"), "power");
  EXPECT_EQ(attrs.get("summary"), nullptr);
}

TEST(EventTypeSetTest, InsertContainsAndEmpty) {
  EventTypeSet set;
  EXPECT_TRUE(set.empty());
  set.insert(EventType::acknowledged);
  set.insert(EventType::closed);
  EXPECT_FALSE(set.empty());
  EXPECT_TRUE(set.contains(EventType::acknowledged));
  EXPECT_TRUE(set.contains(EventType::closed));
  EXPECT_FALSE(set.contains(EventType::created));
  EXPECT_FALSE(set.contains(EventType::feedback));
}

TEST(EventTypeSetTest, IntersectsAndEquality) {
  EventTypeSet stops;
  stops.insert(EventType::acknowledged);
  stops.insert(EventType::resolved);
  EventTypeSet starts;
  starts.insert(EventType::dispatched);
  EXPECT_FALSE(stops.intersects(starts));
  starts.insert(EventType::resolved);
  EXPECT_TRUE(stops.intersects(starts));

  EventTypeSet same;
  same.insert(EventType::resolved);
  same.insert(EventType::acknowledged);
  EXPECT_EQ(stops, same);
  EXPECT_NE(stops, starts);
}

TEST(EventOrder, TimeThenId) {
  CaseEvent a = event_of(EventType::dispatched);
  CaseEvent b = event_of(EventType::acknowledged);
  a.time = b.time = from_millis(1000);
  a.id = EventId{"ev-1"};
  b.id = EventId{"ev-2"};
  EXPECT_TRUE(event_order_less(a, b));
  EXPECT_FALSE(event_order_less(b, a));
  b.time = from_millis(999);
  EXPECT_TRUE(event_order_less(b, a));
  EXPECT_FALSE(event_order_less(a, a));
}

}  // namespace
}  // namespace slawatch
