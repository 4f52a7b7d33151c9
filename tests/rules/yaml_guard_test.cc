// The guard in front of yaml-cpp 0.7.0, which allocates without bound on a
// line starting with ',' outside a flow collection (a fuzzing finding).
#include "rules/yaml_guard.h"

#include <gtest/gtest.h>

namespace slawatch {
namespace {

TEST(YamlGuard, ACommaStartingALineOutsideAFlowCollectionIsFoundWithItsPlace) {
  auto mark = find_comma_line_outside_flow("- a\n  , b\n");
  ASSERT_TRUE(mark.has_value());
  EXPECT_EQ(mark->line, 2);
  EXPECT_EQ(mark->column, 3);
  EXPECT_TRUE(find_comma_line_outside_flow(", a: b\n").has_value());
  EXPECT_TRUE(find_comma_line_outside_flow("# c\n, notify: [d]}\n").has_value());
}

TEST(YamlGuard, ACommaStartingAValueAfterAPropertyOrIndicatorIsFound) {
  // The fuzzing finding: an anchor, then a ','.
  auto mark = find_comma_line_outside_flow("&h%, s\xf1\xf1 ");
  ASSERT_TRUE(mark.has_value());
  EXPECT_EQ(mark->line, 1);
  EXPECT_EQ(mark->column, 4);
  EXPECT_TRUE(find_comma_line_outside_flow("a: *x, b\n").has_value());
  EXPECT_TRUE(find_comma_line_outside_flow("a: !t ,b\n").has_value());
  EXPECT_TRUE(find_comma_line_outside_flow("- ,a\n").has_value());
  EXPECT_TRUE(find_comma_line_outside_flow("? , a\n").has_value());
  const auto control = find_comma_line_outside_flow(std::string_view("a: 1\n&h\0e,", 11));  // fuzzing findings
  ASSERT_TRUE(control.has_value());
  EXPECT_EQ(control->line, 2);
  EXPECT_EQ(control->column, 3);
  EXPECT_EQ(control->what, "a control character (not allowed in YAML)");
  EXPECT_TRUE(find_comma_line_outside_flow("a: b\r, c\n").has_value());
  mark = find_comma_line_outside_flow("x: 1\nkey: , v\n");
  ASSERT_TRUE(mark.has_value());
  EXPECT_EQ(mark->line, 2);
  EXPECT_EQ(mark->column, 6);
}

TEST(YamlGuard, CommasInsidePlainScalarsPass) {
  EXPECT_FALSE(find_comma_line_outside_flow("title: a, b , c\n- x,y\n- -1 ,2\n").has_value());
  EXPECT_FALSE(find_comma_line_outside_flow("a: &x v, w\nb: 'q' , r\n").has_value());
}

TEST(YamlGuard, ValidYamlPassesUntouched) {
  EXPECT_FALSE(find_comma_line_outside_flow("a: [x, y]\nb: {c: 1, d: 2}\n").has_value());
  // A multi-line flow list may put its commas first.
  EXPECT_FALSE(find_comma_line_outside_flow("notify: [a\n  , b]\n").has_value());
  // Commas in quoted strings and comments do not count.
  EXPECT_FALSE(find_comma_line_outside_flow("title: 'a [b'\n# , c\nx: \"[\"\n").has_value());
  EXPECT_FALSE(find_comma_line_outside_flow("").has_value());
}

}  // namespace
}  // namespace slawatch
