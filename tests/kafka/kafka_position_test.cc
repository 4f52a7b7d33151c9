// Kafka checkpoint positions name their topic and partition, so a state
// directory is never resumed on another topic (issue 16, finding 4).
#include <gtest/gtest.h>

#include "kafka/kafka_source.h"

namespace slawatch {
namespace {

// The offset a position resumes at, or nullopt (from the beginning); fails the test on an error.
std::optional<int64_t> resumes_at(std::string_view position, std::string_view topic, int32_t partition) {
  auto resumed = resume_offset(position, topic, partition);
  EXPECT_TRUE(resumed.ok()) << position << ": " << (resumed.ok() ? "" : resumed.error().message);
  return resumed.ok() ? *resumed : std::nullopt;
}

TEST(KafkaPosition, NamesTheTopicAndPartition) {
  EXPECT_EQ(kafka_position(42, "hotline.case-events", 3), "42@hotline.case-events/3");
  EXPECT_EQ(resumes_at("42@hotline.case-events/3", "hotline.case-events", 3), std::optional<int64_t>{42});
}

TEST(KafkaPosition, NoPositionReadsFromTheBeginning) { EXPECT_FALSE(resumes_at("", "t", 0).has_value()); }

TEST(KafkaPosition, PositionsFromBeforeTopicsWereRecordedAreAccepted) {
  EXPECT_EQ(resumes_at("17", "any-topic", 5), std::optional<int64_t>{17});
}

TEST(KafkaPosition, AnotherTopicOrPartitionIsRefused) {
  auto other_topic = resume_offset("42@old-events/3", "new-events", 3);
  ASSERT_FALSE(other_topic.ok());
  EXPECT_EQ(other_topic.error().message,
            "the state of partition 3 was built from old-events/3, not from new-events/3: refusing to resume it on "
            "another topic (use another state directory)");
  EXPECT_FALSE(resume_offset("42@new-events/4", "new-events", 3).ok());
}

TEST(KafkaPosition, MalformedPositionsAreRefused) {
  for (const char* bad : {"x", "-1", "12x@t/0", "@t/0"}) EXPECT_FALSE(resume_offset(bad, "t", 0).ok()) << bad;
}

}  // namespace
}  // namespace slawatch
