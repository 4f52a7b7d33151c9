#include "model/compact_text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "model/ids.h"

namespace slawatch {
namespace {

// Texts of every length around the inline limit, including NULs and bytes
// above 0x7f, which must order as std::string orders them (unsigned bytes).
std::vector<std::string> sample_texts() {
  std::vector<std::string> texts = {"", "a", "HK-20260302-000001", std::string("a\0b", 3), "\xff", "\x7f", "\x80z"};
  for (size_t n = 28; n <= 35; ++n) {
    texts.push_back(std::string(n, 'x'));
    texts.push_back(std::string(n - 1, 'x') + 'y');
  }
  texts.push_back(std::string(64, 'Z'));
  texts.push_back(std::string(200, '\0'));
  return texts;
}

TEST(CompactText, HoldsEveryLengthInlineOrOnTheHeap) {
  for (const auto& text : sample_texts()) {
    const CompactText compact(text);
    EXPECT_EQ(compact.view(), text);
    EXPECT_EQ(compact.size(), text.size());
    EXPECT_EQ(compact.empty(), text.empty());
    EXPECT_EQ(compact.on_heap(), text.size() > CompactText::kInlineChars) << text.size();
  }
  EXPECT_TRUE(CompactText().view().empty());
}

// An event's data field: 16 bytes, 15 characters inline. Assigned from any
// text (a view of its own bytes too, as a field set from itself), compared
// with plain text, and equal to a std::string of the same bytes either way.
TEST(EventText, HoldsFifteenInlineAndAssignsFromAnyTextIncludingItsOwn) {
  std::vector<std::string> texts = sample_texts();
  for (size_t n = 13; n <= 18; ++n) texts.push_back(std::string(n, 'd'));
  for (const auto& text : texts) {
    EventText field;
    field = text;
    EXPECT_EQ(field.view(), text);
    EXPECT_TRUE(field == text);
    EXPECT_EQ(field.on_heap(), text.size() > EventText::kInlineChars) << text.size();
    field = field.view();  // its own bytes
    EXPECT_EQ(field.view(), text);
    field = std::string_view(field).substr(field.size() / 2);  // a part of them
    EXPECT_EQ(field.view(), std::string_view(text).substr(text.size() / 2));
    EventText moved(std::move(field));
    EXPECT_TRUE(field.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    moved.clear();
    EXPECT_TRUE(moved.empty());
    EXPECT_FALSE(moved.on_heap());
  }
  EventText department;
  department = "water-affairs-bureau";  // 20 bytes: on the heap, as std::string keeps it
  EXPECT_EQ(department.str(), "water-affairs-bureau");
  EXPECT_TRUE(department == std::string_view("water-affairs-bureau"));
  EXPECT_FALSE(department == "water");
}

TEST(CompactText, OrdersAndComparesAsStdString) {
  const auto texts = sample_texts();
  for (const auto& a : texts) {
    for (const auto& b : texts) {
      const CompactText ca(a), cb(b);
      EXPECT_EQ(ca == cb, a == b) << a.size() << " " << b.size();
      EXPECT_EQ(ca < cb, a < b) << a.size() << " " << b.size();
      EXPECT_EQ(ca > cb, a > b) << a.size() << " " << b.size();
    }
  }
}

TEST(CompactText, CopiesAndMovesKeepTheTextAndLeaveTheSourceValid) {
  for (const auto& text : sample_texts()) {
    CompactText original(text);
    CompactText copy(original);
    EXPECT_EQ(copy.view(), text);
    EXPECT_EQ(original.view(), text);
    CompactText moved(std::move(copy));
    EXPECT_EQ(moved.view(), text);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract

    // Assignment between every pair of lengths: heap to inline, inline to heap.
    for (const auto& other : sample_texts()) {
      CompactText target(other);
      target = original;
      EXPECT_EQ(target.view(), text);
      CompactText source(other);
      target = std::move(source);
      EXPECT_EQ(target.view(), other);
      EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move)
    }
    CompactText& self = original;
    original = self;
    EXPECT_EQ(original.view(), text);
  }
}

TEST(CompactText, EqualTextsBuiltDifferentlyAreEqualAndHashAlike) {
  // The inline fast path compares all 32 bytes: a text shortened by
  // assignment must not keep stale bytes that make it differ.
  CompactText long_then_short(std::string(31, 'q'));
  long_then_short = CompactText("ab");
  const CaseId a("ab");
  CaseId b(std::string(20, 'r'));
  b = a;
  EXPECT_EQ(long_then_short, CompactText("ab"));
  EXPECT_EQ(b, CaseId("ab"));
  EXPECT_EQ(std::hash<CaseId>{}(b), std::hash<CaseId>{}(CaseId("ab")));

  std::unordered_set<CaseId> ids;
  for (const auto& text : sample_texts()) ids.insert(CaseId(text));
  for (const auto& text : sample_texts()) EXPECT_TRUE(ids.contains(CaseId(std::string_view(text))));
}

TEST(CompactText, IdsSortInByteOrder) {
  auto texts = sample_texts();
  std::vector<CaseId> ids;
  for (const auto& t : texts) ids.emplace_back(t);
  std::sort(texts.begin(), texts.end());
  std::sort(ids.begin(), ids.end());
  ASSERT_EQ(ids.size(), texts.size());
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i].str(), texts[i]);
}

}  // namespace
}  // namespace slawatch
