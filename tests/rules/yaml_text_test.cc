// Parsing YAML texts in front of yaml-cpp 0.7.0, whose LoadAll loops forever
// (allocating a document per turn) on a token its parser cannot consume.
#include "rules/yaml_text.h"

#include <gtest/gtest.h>

namespace slawatch {
namespace {

TEST(YamlText, DocumentsComeBackInOrder) {
  const ParsedYaml parsed = parse_yaml_documents("a: 1\n---\nb: [x, y]\n---\n");
  ASSERT_FALSE(parsed.mistake.has_value()) << parsed.mistake->what;
  ASSERT_EQ(parsed.documents.size(), 3u);
  EXPECT_EQ(parsed.documents[0]["a"].as<int>(), 1);
  EXPECT_EQ(parsed.documents[1]["b"].size(), 2u);
  EXPECT_TRUE(parsed.documents[2].IsNull());
  EXPECT_TRUE(parse_yaml_documents("").documents.empty());
}

TEST(YamlText, ACommaAfterAQuotedScalarIsAMistakeNotAnEndlessLoop) {
  // The CI fuzzing finding of 2026-12-06 (fuzz/corpus/rules/yaml-cpp-comma-after-quote.yaml):
  // the text check let it through, and LoadAll allocated until the process was killed.
  const ParsedYaml parsed = parse_yaml_documents(" \",hsta\",hstart");
  ASSERT_TRUE(parsed.mistake.has_value());
  EXPECT_TRUE(parsed.documents.empty());
  EXPECT_EQ(parsed.mistake->line, 1);
  EXPECT_EQ(parsed.mistake->column, 9);
  EXPECT_EQ(parsed.mistake->what, "unexpected ',' (not a valid start of a value here)");
  const ParsedYaml later = parse_yaml_documents("title: x\nstart: 'a', b\n");
  ASSERT_TRUE(later.mistake.has_value());
  EXPECT_EQ(later.mistake->line, 2);
}

TEST(YamlText, EarlierFindingsStillGetTheirPlainerMessages) {
  const ParsedYaml parsed = parse_yaml_documents("- a\n, b\n");
  ASSERT_TRUE(parsed.mistake.has_value());
  EXPECT_EQ(parsed.mistake->line, 2);
  EXPECT_EQ(parsed.mistake->column, 1);
  EXPECT_EQ(parsed.mistake->what, "',' starts a value outside a [...] or {...} list");
}

TEST(YamlText, ASyntaxErrorHasItsPlace) {
  const ParsedYaml parsed = parse_yaml_documents("a: [1, 2\nb: 3\n");
  ASSERT_TRUE(parsed.mistake.has_value());
  EXPECT_GT(parsed.mistake->line, 0);
  EXPECT_GT(parsed.mistake->column, 0);
  EXPECT_FALSE(parsed.mistake->what.empty());
}

TEST(YamlText, ASingleDocumentFileRefusesASecondDocumentWithContent) {
  const ParsedYaml one = parse_single_yaml_document("---\na: 1\n---\n");
  ASSERT_FALSE(one.mistake.has_value());
  ASSERT_EQ(one.documents.size(), 1u);
  EXPECT_EQ(one.documents[0]["a"].as<int>(), 1);

  const ParsedYaml empty = parse_single_yaml_document("# nothing\n");
  ASSERT_FALSE(empty.mistake.has_value());
  ASSERT_EQ(empty.documents.size(), 1u);
  EXPECT_TRUE(empty.documents[0].IsNull());

  const ParsedYaml two = parse_single_yaml_document("a: 1\n---\nb: 2\n");
  ASSERT_TRUE(two.mistake.has_value());
  EXPECT_EQ(two.mistake->line, 3);
  EXPECT_EQ(two.mistake->what, "a second YAML document ('---'): this file holds one");
}

}  // namespace
}  // namespace slawatch
