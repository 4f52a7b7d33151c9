#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_set>

#include "model/ids.h"

namespace slawatch {
namespace {

TEST(IdHash, SequentialCaseIdsOfEveryLengthGetDistinctHashes) {
  // Case ids differ in a few trailing digits; every length from empty to past
  // two words must spread them (the tail word and the length both count).
  std::set<size_t> hashes;
  size_t ids = 0;
  for (const std::string prefix : {"", "C", "HK-2026", "HK-20261206-", "HK-20261206-0000000000-"}) {
    for (int n = 0; n < 20'000; ++n) {
      hashes.insert(std::hash<CaseId>{}(CaseId{prefix + std::to_string(n)}));
      ++ids;
    }
  }
  EXPECT_EQ(hashes.size(), ids);  // 100,000 distinct ids, no two of 64-bit hashes alike
}

TEST(IdHash, TrailingZeroBytesAndLengthAreTellingApart) {
  const std::string zero(1, '\0');
  std::unordered_set<size_t> hashes;
  std::string id;
  for (int length = 0; length <= 24; ++length, id += zero) hashes.insert(std::hash<CaseId>{}(CaseId{id}));
  EXPECT_EQ(hashes.size(), 25u);
}

TEST(IdHash, BucketsOfAnUnorderedSetStayEven) {
  std::unordered_set<CaseId> set;
  set.reserve(65'536);
  for (int n = 0; n < 65'536; ++n) set.insert(CaseId{"HK-20261206-" + std::to_string(100'000 + n)});
  size_t longest = 0;
  for (size_t b = 0; b < set.bucket_count(); ++b) longest = std::max(longest, set.bucket_size(b));
  EXPECT_LE(longest, 12u);  // a uniform hash gives ~8 at this load; a weak one clusters far beyond
}

}  // namespace
}  // namespace slawatch
