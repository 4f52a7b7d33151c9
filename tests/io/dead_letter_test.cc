#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "io/alert_json.h"

namespace slawatch {
namespace {

TEST(DeadLetterTest, NulBytesTravelExactlyAsEscapedJson) {
  // A whole line of NUL bytes: each becomes \u0000 (6 bytes). RapidJSON sized
  // this as 2 + length * 6 in 32 bits and overflowed above ~716 MB.
  const std::string nuls(1 << 20, '\0');
  const auto envelope = nlohmann::json::parse(encode_dead_letter(nuls, "bad", "events.jsonl:1"));
  EXPECT_EQ(envelope["original"].get<std::string>(), nuls);
  EXPECT_EQ(envelope["reason"], "bad");
  EXPECT_EQ(envelope["origin"], "events.jsonl:1");
  EXPECT_FALSE(envelope.contains("original_size"));
}

TEST(DeadLetterTest, EscapesLikeRapidJson) {
  EXPECT_EQ(encode_dead_letter(std::string("\"\\\b\f\n\r\t\x01\x1f/\x7f", 11), "r", "o"),
            "{\"reason\":\"r\",\"origin\":\"o\",\"original\":\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001F/\x7f\"}");
}

TEST(DeadLetterTest, OversizeRecordsSayHowBigTheyWere) {
  const auto envelope = nlohmann::json::parse(encode_dead_letter("{\"id\":", "too large", "o", 123456789));
  EXPECT_EQ(envelope["original_size"], 123456789);
  EXPECT_EQ(envelope["original"], "{\"id\":");
}

TEST(DeadLetterTest, InvalidUtf8IsKeptAsBase64AndAnInvalidOriginIsMadeReadable) {
  const auto envelope =
      nlohmann::json::parse(encode_dead_letter(std::string("\xff\xfe", 2), "bad", std::string("f\xff.jsonl:1")));
  EXPECT_EQ(envelope["original_base64"], "//4=");
  EXPECT_FALSE(envelope.contains("original"));
  EXPECT_EQ(envelope["origin"], "f?.jsonl:1");
}

}  // namespace
}  // namespace slawatch
