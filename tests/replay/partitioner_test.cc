#include "replay/partitioner.h"

#include <gtest/gtest.h>

namespace slawatch {
namespace {

RawRecord with_subject(const std::string& subject) {
  RawRecord r;
  r.bytes = R"({"specversion":"1.0","id":"e1","subject":")" + subject + R"(","type":"hotline.case.created"})";
  return r;
}

TEST(CaseIdPartitioner, TheHashIsFnv1aSoStateFindsItsPartitionOnEveryBuild) {
  EXPECT_EQ(case_id_hash(""), 14695981039346656037ull);
  EXPECT_EQ(case_id_hash("a"), 0xaf63dc4c8601ec8cull);  // the published FNV-1a 64 test vector
}

TEST(CaseIdPartitioner, EveryEventOfACaseGoesToOnePartition) {
  CaseIdPartitioner partitioner(3);
  const size_t p = partitioner.partition_of(with_subject("HK-20260302-0001"));
  RawRecord other = with_subject("HK-20260302-0001");
  other.bytes.insert(1, R"("summary":"subject \"HK-9\" moved",)");  // a decoy inside a string value
  EXPECT_EQ(partitioner.partition_of(other), p);
  EXPECT_EQ(p, case_id_hash("HK-20260302-0001") % 3);
}

TEST(CaseIdPartitioner, TheRecordKeyWinsOverTheBody) {
  CaseIdPartitioner partitioner(7);
  RawRecord r = with_subject("A");
  r.key = "B";
  EXPECT_EQ(partitioner.partition_of(r), case_id_hash("B") % 7);
}

TEST(CaseIdPartitioner, UnreadableRecordsGoToPartitionZeroToBeDeadLettered) {
  CaseIdPartitioner partitioner(4);
  RawRecord bad;
  bad.bytes = "{not json";
  EXPECT_EQ(partitioner.partition_of(bad), 0u);
  bad.bytes = R"({"id":"x"})";
  EXPECT_EQ(partitioner.partition_of(bad), 0u);
  bad.bytes = R"({"subject":42})";
  EXPECT_EQ(partitioner.partition_of(bad), 0u);
  bad.bytes = "[1,2]";
  EXPECT_EQ(partitioner.partition_of(bad), 0u);
}

TEST(CaseIdPartitioner, OnePartitionTakesEverythingWithoutParsing) {
  CaseIdPartitioner partitioner(1);
  RawRecord bad;
  bad.bytes = "\xff\xfe";
  EXPECT_EQ(partitioner.partition_of(bad), 0u);
}

}  // namespace
}  // namespace slawatch
