#include "model/time.h"

#include <gtest/gtest.h>

#include <string>

namespace slawatch {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// 2026-03-02T01:30:00Z
constexpr int64_t kMarch2At0130Utc = 1772415000000;

Instant parsed(std::string_view text) {
  auto r = parse_rfc3339(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : Instant{};
}

std::string rejection(std::string_view text) {
  auto r = parse_rfc3339(text);
  EXPECT_FALSE(r.ok()) << text << " was accepted as " << (r.ok() ? format_rfc3339_utc(*r) : "");
  return r.ok() ? std::string{} : r.error().message;
}

TEST(Rfc3339, UtcDesignatorUpperAndLowerCase) {
  EXPECT_EQ(to_millis(parsed("2026-03-02T01:30:00Z")), kMarch2At0130Utc);
  EXPECT_EQ(to_millis(parsed("2026-03-02t01:30:00z")), kMarch2At0130Utc);
}

TEST(Rfc3339, PositiveOffsetIsSubtracted) {
  EXPECT_EQ(to_millis(parsed("2026-03-02T09:30:00+08:00")), kMarch2At0130Utc);
  EXPECT_EQ(to_millis(parsed("2026-03-02T09:30:00.000+08:00")), kMarch2At0130Utc);
}

TEST(Rfc3339, NegativeOffsetWithHalfHourIsAdded) {
  // 2026-03-01T20:00-05:30 is 2026-03-02T01:30Z.
  EXPECT_EQ(to_millis(parsed("2026-03-01T20:00:00-05:30")), kMarch2At0130Utc);
}

TEST(Rfc3339, MinusZeroOffsetEqualsUtc) {
  EXPECT_EQ(parsed("2026-03-02T01:30:00-00:00"), parsed("2026-03-02T01:30:00Z"));
}

TEST(Rfc3339, FractionIsTruncatedToMilliseconds) {
  EXPECT_EQ(to_millis(parsed("2026-03-02T01:30:00.1Z")), kMarch2At0130Utc + 100);
  EXPECT_EQ(to_millis(parsed("2026-03-02T01:30:00.12Z")), kMarch2At0130Utc + 120);
  EXPECT_EQ(to_millis(parsed("2026-03-02T01:30:00.001Z")), kMarch2At0130Utc + 1);
  EXPECT_EQ(to_millis(parsed("2026-03-02T01:30:00.999999999Z")), kMarch2At0130Utc + 999);
  EXPECT_EQ(to_millis(parsed("2026-03-02T01:30:00.0019Z")), kMarch2At0130Utc + 1);
}

TEST(Rfc3339, FractionOfTenDigitsIsRejected) {
  EXPECT_NE(rejection("2026-03-02T01:30:00.1234567890Z").find("more than 9 fractional digits"),
            std::string::npos);
}

TEST(Rfc3339, DotWithoutDigitsIsRejected) {
  EXPECT_NE(rejection("2026-03-02T01:30:00.Z").find("expected digits after '.'"),
            std::string::npos);
}

TEST(Rfc3339, LeapDayOnLeapYearIsAccepted) {
  EXPECT_EQ(format_rfc3339_utc(parsed("2024-02-29T12:00:00Z")), "2024-02-29T12:00:00.000Z");
  EXPECT_EQ(format_rfc3339_utc(parsed("2000-02-29T00:00:00Z")), "2000-02-29T00:00:00.000Z");
}

TEST(Rfc3339, LeapDayOnCommonYearIsRejected) {
  EXPECT_NE(rejection("2026-02-29T12:00:00Z").find("invalid date 2026-02-29"), std::string::npos);
  // Century years are leap years only when divisible by 400.
  EXPECT_NE(rejection("1900-02-29T12:00:00Z").find("invalid date 1900-02-29"), std::string::npos);
}

TEST(Rfc3339, February30IsRejectedWithTheDate) {
  const std::string message = rejection("2026-02-30T09:00:00+08:00");
  EXPECT_EQ(message, "bad time '2026-02-30T09:00:00+08:00': invalid date 2026-02-30");
}

TEST(Rfc3339, MonthAndDayOutOfRangeAreRejected) {
  EXPECT_NE(rejection("2026-13-01T00:00:00Z").find("invalid date"), std::string::npos);
  EXPECT_NE(rejection("2026-00-10T00:00:00Z").find("invalid date"), std::string::npos);
  EXPECT_NE(rejection("2026-04-31T00:00:00Z").find("invalid date 2026-04-31"), std::string::npos);
  EXPECT_NE(rejection("2026-04-00T00:00:00Z").find("invalid date"), std::string::npos);
}

TEST(Rfc3339, LastValidTimeOfDayIsAccepted) {
  EXPECT_EQ(format_rfc3339_utc(parsed("2026-12-31T23:59:59.999Z")), "2026-12-31T23:59:59.999Z");
}

TEST(Rfc3339, TimeOfDayOutOfRangeIsRejected) {
  EXPECT_NE(rejection("2026-03-02T24:00:00Z").find("invalid time of day 24:00:00"),
            std::string::npos);
  EXPECT_NE(rejection("2026-03-02T23:60:00Z").find("invalid time of day"), std::string::npos);
  EXPECT_NE(rejection("2026-03-02T23:59:61Z").find("invalid time of day"), std::string::npos);
}

TEST(Rfc3339, LeapSecondIsRejectedExplicitly) {
  EXPECT_NE(rejection("2016-12-31T23:59:60Z").find("leap second"), std::string::npos);
}

TEST(Rfc3339, MissingOffsetIsRejected) {
  EXPECT_EQ(rejection("2026-03-02T09:30:00"),
            "bad time '2026-03-02T09:30:00': missing time zone offset");
  EXPECT_NE(rejection("2026-03-02T09:30:00.500").find("missing time zone offset"),
            std::string::npos);
}

TEST(Rfc3339, MalformedOffsetsAreRejected) {
  EXPECT_NE(rejection("2026-03-02T09:30:00+0800").find("+HH:MM"), std::string::npos);
  EXPECT_NE(rejection("2026-03-02T09:30:00+08").find("+HH:MM"), std::string::npos);
  EXPECT_NE(rejection("2026-03-02T09:30:00+24:00").find("invalid time zone offset +24:00"),
            std::string::npos);
  EXPECT_NE(rejection("2026-03-02T09:30:00+08:60").find("invalid time zone offset"),
            std::string::npos);
  EXPECT_NE(rejection("2026-03-02T09:30:00 UTC").find("missing time zone offset"),
            std::string::npos);
}

TEST(Rfc3339, TrailingCharactersAreRejected) {
  EXPECT_NE(rejection("2026-03-02T09:30:00Z ").find("unexpected characters"), std::string::npos);
  EXPECT_NE(rejection("2026-03-02T09:30:00+08:00[Asia/Shanghai]").find("unexpected characters"),
            std::string::npos);
}

TEST(Rfc3339, WrongSeparatorsAndShortFieldsAreRejected) {
  EXPECT_NE(rejection("2026-03-02 09:30:00Z").find("expected 'T'"), std::string::npos);
  EXPECT_NE(rejection("2026-3-02T09:30:00Z").find("expected a date YYYY-MM-DD"), std::string::npos);
  EXPECT_NE(rejection("2026/03/02T09:30:00Z").find("expected a date"), std::string::npos);
  EXPECT_NE(rejection("2026-03-02T9:30:00Z").find("expected a time HH:MM:SS"), std::string::npos);
  EXPECT_NE(rejection("2026-03-02T09:30Z").find("expected a time HH:MM:SS"), std::string::npos);
  EXPECT_NE(rejection("").find("expected a date"), std::string::npos);
  EXPECT_NE(rejection("1772415000000").find("expected a date"), std::string::npos);
}

TEST(Rfc3339, LongGarbageIsQuotedShortened) {
  const std::string garbage(5000, 'x');
  const std::string message = rejection(garbage);
  EXPECT_LT(message.size(), 200u);
  EXPECT_NE(message.find("...'"), std::string::npos);
}

TEST(Rfc3339, OffsetCanCrossTheDateLine) {
  EXPECT_EQ(format_rfc3339_utc(parsed("2026-01-01T07:00:00+08:00")), "2025-12-31T23:00:00.000Z");
  EXPECT_EQ(format_rfc3339_utc(parsed("2025-12-31T20:00:00-05:00")), "2026-01-01T01:00:00.000Z");
}

TEST(FormatRfc3339, EpochAndMillisecondPrecision) {
  EXPECT_EQ(format_rfc3339_utc(from_millis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_utc(from_millis(kMarch2At0130Utc)), "2026-03-02T01:30:00.000Z");
  EXPECT_EQ(format_rfc3339_utc(from_millis(kMarch2At0130Utc + 1)), "2026-03-02T01:30:00.001Z");
}

TEST(FormatRfc3339, OneMillisecondBeforeEpochIsTheLastMillisecondOf1969) {
  EXPECT_EQ(format_rfc3339_utc(from_millis(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_utc(from_millis(-86'400'000)), "1969-12-31T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_utc(from_millis(-86'400'001)), "1969-12-30T23:59:59.999Z");
}

TEST(FormatRfc3339, RoundTripsThroughParse) {
  for (const int64_t ms : {int64_t{0}, int64_t{-1}, kMarch2At0130Utc, int64_t{951782400123},
                           int64_t{253402300799999}, int64_t{-62167219200000}}) {
    const std::string text = format_rfc3339_utc(from_millis(ms));
    EXPECT_EQ(to_millis(parsed(text)), ms) << text;
  }
}

// The digit-by-digit path covers years 0000-9999; one millisecond past it the
// general path writes the fifth digit.
TEST(FormatRfc3339, LastInstantOfYear9999AndFirstOfYear10000) {
  EXPECT_EQ(format_rfc3339_utc(from_millis(253402300799999)), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_utc(from_millis(253402300800000)), "10000-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_utc(from_millis(-62167219200000)), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_utc(from_millis(-62167219200001)), "-0001-12-31T23:59:59.999Z");
}

TEST(FormatRfc3339, ExtremeInstantsDoNotWrap) {
  const std::string max = format_rfc3339_utc(kMaxInstant);
  const std::string min = format_rfc3339_utc(kMinInstant);
  EXPECT_EQ(max.front(), '7');  // year ~73 million, written in full
  EXPECT_EQ(min.front(), '-');
  EXPECT_EQ(max.back(), 'Z');
}

// --- durations ---------------------------------------------------------------

Duration duration(std::string_view text) {
  auto r = parse_duration(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : Duration{-1};
}

std::string duration_rejection(std::string_view text) {
  auto r = parse_duration(text);
  EXPECT_FALSE(r.ok()) << text << " was accepted as " << (r.ok() ? r->count() : 0) << "ms";
  return r.ok() ? std::string{} : r.error().message;
}

TEST(ParseDuration, EachUnit) {
  EXPECT_EQ(duration("250ms"), Duration{250});
  EXPECT_EQ(duration("90s"), seconds{90});
  EXPECT_EQ(duration("30m"), minutes{30});
  EXPECT_EQ(duration("24h"), hours{24});
  EXPECT_EQ(duration("5d"), hours{5 * 24});
  EXPECT_EQ(duration("0s"), Duration{0});
}

TEST(ParseDuration, CompoundLargestUnitFirst) {
  EXPECT_EQ(duration("1h30m"), minutes{90});
  EXPECT_EQ(duration("2d3h"), hours{51});
  EXPECT_EQ(duration("1m30s500ms"), Duration{90'500});
}

TEST(ParseDuration, CompoundOutOfOrderOrRepeatedUnitIsRejected) {
  EXPECT_NE(duration_rejection("30m1h").find("largest to smallest"), std::string::npos);
  EXPECT_NE(duration_rejection("1h1h").find("largest to smallest"), std::string::npos);
}

TEST(ParseDuration, UnknownUnitNamesTheUnitAndTheChoices) {
  EXPECT_EQ(duration_rejection("30x"),
            "bad duration '30x': unknown unit 'x' (use ms, s, m, h or d)");
  EXPECT_NE(duration_rejection("1w").find("unknown unit 'w'"), std::string::npos);
  EXPECT_NE(duration_rejection("30 m").find("unknown unit ' m'"), std::string::npos);
}

TEST(ParseDuration, MissingUnitIsRejected) {
  EXPECT_EQ(duration_rejection("30"), "bad duration '30': missing unit after 30 (use ms, s, m, h or d)");
  EXPECT_NE(duration_rejection("1h30").find("missing unit after 30"), std::string::npos);
}

TEST(ParseDuration, EmptyNegativeAndNumberlessAreRejected) {
  EXPECT_NE(duration_rejection("").find("empty"), std::string::npos);
  EXPECT_NE(duration_rejection("-5m").find("negative"), std::string::npos);
  EXPECT_NE(duration_rejection("m").find("expected a number"), std::string::npos);
  EXPECT_NE(duration_rejection("1.5h").find("unknown unit '.'"), std::string::npos);
}

TEST(ParseDuration, OverflowIsRejected) {
  EXPECT_NE(duration_rejection("99999999999999999999ms").find("too large"), std::string::npos);
  EXPECT_NE(duration_rejection("999999999999d").find("too large"), std::string::npos);
  // The cap is the Instant range, so instant + duration never overflows.
  EXPECT_EQ(duration("2305843009213693951ms"), Duration{to_millis(kMaxInstant)});
  EXPECT_NE(duration_rejection("2305843009213693952ms").find("too large"), std::string::npos);
  EXPECT_NE(duration_rejection("9223372036854775807ms").find("too large"), std::string::npos);
  // 26687997791d fits alone; the hours added to it do not.
  EXPECT_EQ(duration("26687997791d").count(), 26687997791 * 86'400'000);
  EXPECT_NE(duration_rejection("26687997791d20h").find("too large"), std::string::npos);
}

TEST(FormatDuration, CompactForms) {
  EXPECT_EQ(format_duration(Duration{0}), "0s");
  EXPECT_EQ(format_duration(Duration{250}), "250ms");
  EXPECT_EQ(format_duration(seconds{45}), "45s");
  EXPECT_EQ(format_duration(minutes{90}), "1h30m");
  EXPECT_EQ(format_duration(hours{51}), "2d3h");
  EXPECT_EQ(format_duration(Duration{90'500}), "1m30s500ms");
  EXPECT_EQ(format_duration(-minutes{5}), "-5m");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (const int64_t ms : {int64_t{1}, int64_t{999}, int64_t{1000}, int64_t{86'400'001},
                           to_millis(kMaxInstant)}) {
    EXPECT_EQ(duration(format_duration(Duration{ms})).count(), ms);
  }
}

TEST(FormatDuration, MostNegativeValueDoesNotOverflow) {
  const std::string text = format_duration(Duration{INT64_MIN});
  EXPECT_EQ(text.front(), '-');
  EXPECT_EQ(text.substr(text.size() - 2), "ms");
}

}  // namespace
}  // namespace slawatch
