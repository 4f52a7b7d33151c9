#include "intake/cloudevent.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace slawatch {
namespace {

// Builds a structured-mode event; `data` and `extra` are raw JSON.
std::string event_json(std::string_view type, std::string_view data,
                       std::string_view time = "2026-03-02T09:00:00.000+08:00",
                       std::string_view extra = "") {
  std::string s = R"({"specversion":"1.0","id":"ev-1","source":"/haikou/12345/callcenter",)";
  s += R"("type":"hotline.case.)";
  s += type;
  s += R"(","subject":"HK-1","time":")";
  s += time;
  s += R"(","data":)";
  s += data;
  s += extra;
  s += "}";
  return s;
}

class CloudEventParserTest : public ::testing::Test {
 protected:
  CaseEvent accepted(std::string_view json) {
    auto r = parser_.parse(json);
    EXPECT_TRUE(r.ok()) << json << "\n -> " << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : CaseEvent{};
  }

  std::string rejected(std::string_view json) {
    auto r = parser_.parse(json);
    EXPECT_FALSE(r.ok()) << json << " was accepted";
    return r.ok() ? std::string{} : r.error().message;
  }

  CloudEventParser parser_;
};

// 2026-03-02T01:00:00Z
constexpr int64_t kNineOClockShanghai = 1772413200000;

// --- one valid event of every type ----------------------------------------------

TEST_F(CloudEventParserTest, Created) {
  const CaseEvent e = accepted(event_json(
      "created",
      R"({"category":"water-leak","priority":"urgent","channel":"app","district":"meilan","summary":"pipe burst"})"));
  EXPECT_EQ(e.id, EventId{"ev-1"});
  EXPECT_EQ(e.case_id, CaseId{"HK-1"});
  EXPECT_EQ(e.type, EventType::created);
  EXPECT_EQ(to_millis(e.time), kNineOClockShanghai);
  EXPECT_EQ(e.category, "water-leak");
  EXPECT_EQ(e.priority, "urgent");
  EXPECT_EQ(e.channel, "app");
  EXPECT_EQ(e.district, "meilan");
}

TEST_F(CloudEventParserTest, CreatedWithoutOptionalFields) {
  const CaseEvent e = accepted(
      event_json("created", R"({"category":"noise","priority":"emergency","channel":"phone"})"));
  EXPECT_EQ(e.priority, "emergency");
  EXPECT_EQ(e.district, "");
}

TEST_F(CloudEventParserTest, Dispatched) {
  const CaseEvent e = accepted(event_json(
      "dispatched", R"({"department":"traffic","from_department":"roads","actor":"op-7"})"));
  EXPECT_EQ(e.type, EventType::dispatched);
  EXPECT_EQ(e.department, "traffic");
  EXPECT_EQ(e.from_department, "roads");
  EXPECT_EQ(e.actor, "op-7");
}

TEST_F(CloudEventParserTest, Acknowledged) {
  const CaseEvent e = accepted(event_json("acknowledged", R"({"department":"water","actor":"li"})"));
  EXPECT_EQ(e.type, EventType::acknowledged);
  EXPECT_EQ(e.department, "water");
  EXPECT_EQ(e.actor, "li");
}

TEST_F(CloudEventParserTest, Returned) {
  const CaseEvent e =
      accepted(event_json("returned", R"({"department":"market","reason":"not ours"})"));
  EXPECT_EQ(e.type, EventType::returned);
  EXPECT_EQ(e.department, "market");
  EXPECT_EQ(e.reason, "not ours");
}

TEST_F(CloudEventParserTest, SuspendedResumedReopened) {
  const CaseEvent suspended =
      accepted(event_json("suspended", R"({"reason":"awaiting citizen"})"));
  EXPECT_EQ(suspended.type, EventType::suspended);
  EXPECT_EQ(suspended.reason, "awaiting citizen");

  const CaseEvent resumed = accepted(event_json("resumed", "{}"));
  EXPECT_EQ(resumed.type, EventType::resumed);
  EXPECT_EQ(resumed.reason, "");

  const CaseEvent reopened = accepted(event_json("reopened", R"({"reason":"still leaking"})"));
  EXPECT_EQ(reopened.type, EventType::reopened);
  EXPECT_EQ(reopened.reason, "still leaking");
}

TEST_F(CloudEventParserTest, UpdatedCarriesOnlyWhatChanged) {
  const CaseEvent e = accepted(event_json("updated", R"({"priority":"urgent"})"));
  EXPECT_EQ(e.type, EventType::updated);
  EXPECT_EQ(e.priority, "urgent");
  EXPECT_EQ(e.category, "");
  EXPECT_EQ(e.district, "");

  const CaseEvent all = accepted(
      event_json("updated", R"({"category":"roads","priority":"normal","district":"xiuying"})"));
  EXPECT_EQ(all.category, "roads");
  EXPECT_EQ(all.district, "xiuying");
}

TEST_F(CloudEventParserTest, ResolvedWithAndWithoutDepartment) {
  const CaseEvent with = accepted(event_json("resolved", R"({"department":"power","actor":"wu"})"));
  EXPECT_EQ(with.type, EventType::resolved);
  EXPECT_EQ(with.department, "power");
  EXPECT_EQ(with.actor, "wu");
  const CaseEvent without = accepted(event_json("resolved", "{}"));
  EXPECT_EQ(without.department, "");
}

TEST_F(CloudEventParserTest, Closed) {
  const CaseEvent e = accepted(event_json("closed", "{}"));
  EXPECT_EQ(e.type, EventType::closed);
}

TEST_F(CloudEventParserTest, Feedback) {
  const CaseEvent e = accepted(event_json("feedback", R"({"satisfied":false,"score":1})"));
  EXPECT_EQ(e.type, EventType::feedback);
  EXPECT_EQ(e.satisfied, false);
  EXPECT_EQ(e.score, 1);

  const CaseEvent top = accepted(event_json("feedback", R"({"satisfied":true,"score":5})"));
  EXPECT_EQ(top.satisfied, true);
  EXPECT_EQ(top.score, 5);

  const CaseEvent no_score = accepted(event_json("feedback", R"({"satisfied":true})"));
  EXPECT_EQ(no_score.score, std::nullopt);
}

// --- extras and nulls --------------------------------------------------------------

TEST_F(CloudEventParserTest, UnknownExtraFieldsAreIgnored) {
  const CaseEvent e = accepted(event_json(
      "dispatched", R"({"department":"water","sla_hint":{"x":[1,2,3]},"category":17})",
      "2026-03-02T09:00:00+08:00",
      R"(,"datacontenttype":"application/json","traceparent":"00-abc","hotlineregion":42)"));
  EXPECT_EQ(e.department, "water");
  // category means nothing to a dispatch, so its wrong type is not an error either.
  EXPECT_EQ(e.category, "");
}

TEST_F(CloudEventParserTest, NullOptionalFieldIsAbsent) {
  const CaseEvent e =
      accepted(event_json("dispatched", R"({"department":"water","from_department":null})"));
  EXPECT_EQ(e.from_department, "");
}

TEST_F(CloudEventParserTest, NullRequiredFieldIsMissing) {
  EXPECT_EQ(rejected(event_json("dispatched", R"({"department":null})")),
            "field 'data.department': required string is missing");
}

// --- rejections, one per class, each naming the field ------------------------------

TEST_F(CloudEventParserTest, InvalidJson) {
  const std::string message = rejected("this is not json");
  EXPECT_EQ(message.rfind("invalid JSON: ", 0), 0u) << message;
  EXPECT_GT(message.size(), std::string("invalid JSON: ").size());
  EXPECT_EQ(rejected(R"({"specversion":"1.0",)").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(rejected("").rfind("invalid JSON: ", 0), 0u);
}

TEST_F(CloudEventParserTest, NotAnObject) {
  EXPECT_EQ(rejected("[1,2,3]"), "record is not a JSON object (got array)");
  EXPECT_EQ(rejected(R"("hello")"), "record is not a JSON object (got string)");
}

TEST_F(CloudEventParserTest, OversizedRecord) {
  std::string big = event_json("resumed", "{}", "2026-03-02T09:00:00Z",
                               R"(,"padding":")" + std::string(kDefaultMaxRecordBytes, 'x') + "\"");
  EXPECT_EQ(rejected(big),
            "record too large (" + std::to_string(big.size()) + " bytes, limit 1048576)");
}

TEST_F(CloudEventParserTest, RecordExactlyAtTheLimitIsAccepted) {
  std::string head = event_json("resumed", "{}", "2026-03-02T09:00:00Z");
  head.pop_back();  // reopen the object to pad it
  head += R"(,"padding":")";
  std::string exact = head + std::string(kDefaultMaxRecordBytes - head.size() - 2, 'x') + "\"}";
  ASSERT_EQ(exact.size(), kDefaultMaxRecordBytes);
  accepted(exact);
  exact.insert(head.size(), "x");
  EXPECT_EQ(rejected(exact).rfind("record too large (1048577 bytes", 0), 0u);
}

TEST(CloudEventParserLimitTest, TheLimitIsTheConfiguredOne) {
  CloudEventParser parser(2048);
  std::string padded = R"({"specversion":"1.0","padding":")" + std::string(2049, 'x') + "\"}";
  auto parsed = parser.parse(padded);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message, "record too large (" + std::to_string(padded.size()) + " bytes, limit 2048)");
}

TEST(OversizeReasonTest, SaysHowMuchTheDeadLetterKeeps) {
  EXPECT_EQ(oversize_reason(838860800, 1048576, 4096),
            "record too large (838860800 bytes, limit 1048576); the dead letter keeps its first 4096 bytes");
}

// Calendars count 1900-2399; an event dated in year 1 had its due times clamped to 1900.
TEST_F(CloudEventParserTest, TimesOutsideTheSupportedYearsAreRejected) {
  const std::string dispatched = R"({"department":"water"})";
  accepted(event_json("dispatched", dispatched, "1900-01-01T00:00:00Z"));
  accepted(event_json("dispatched", dispatched, "2399-12-31T23:59:59.999Z"));
  EXPECT_EQ(rejected(event_json("dispatched", dispatched, "0001-03-02T08:00:00Z")),
            "field 'time': '0001-03-02T08:00:00Z' is outside the supported range (years 1900 to 2399)");
  EXPECT_NE(rejected(event_json("dispatched", dispatched, "1899-12-31T23:59:59.999Z")).find("outside the supported"),
            std::string::npos);
  EXPECT_NE(rejected(event_json("dispatched", dispatched, "2400-01-01T00:00:00Z")).find("outside the supported"),
            std::string::npos);
  // An offset can move an instant across the edge.
  EXPECT_NE(rejected(event_json("dispatched", dispatched, "1900-01-01T07:59:59+08:00")).find("outside the supported"),
            std::string::npos);
}

TEST_F(CloudEventParserTest, NamesAndFreeTextHaveLengthLimits) {
  accepted(event_json("dispatched", R"({"department":")" + std::string(128, 'd') + "\"}"));
  EXPECT_EQ(rejected(event_json("dispatched", R"({"department":")" + std::string(129, 'd') + "\"}")),
            "field 'data.department': longer than 128 bytes (129)");
  EXPECT_EQ(rejected(event_json("dispatched", R"({"department":"d","actor":")" + std::string(2048, 'a') + "\"}")),
            "field 'data.actor': longer than 128 bytes (2048)");
  accepted(event_json("suspended", R"({"reason":")" + std::string(2048, 'r') + "\"}"));
  EXPECT_EQ(rejected(event_json("suspended", R"({"reason":")" + std::string(2049, 'r') + "\"}")),
            "field 'data.reason': longer than 2048 bytes (2049)");
  std::string long_source = event_json("closed", "{}");
  long_source.replace(long_source.find("/haikou/12345/callcenter"), 24, std::string(1025, 's'));
  EXPECT_EQ(rejected(long_source), "field 'source': longer than 1024 bytes (1025)");
}

TEST_F(CloudEventParserTest, SpecVersion) {
  std::string json = event_json("closed", "{}");
  json.replace(json.find("\"1.0\""), 5, "\"0.3\"");
  EXPECT_EQ(rejected(json), "field 'specversion': expected '1.0', got '0.3'");

  json = event_json("closed", "{}");
  json.replace(json.find("\"specversion\":\"1.0\","), 20, "");
  EXPECT_EQ(rejected(json), "field 'specversion': required string is missing");

  json = event_json("closed", "{}");
  json.replace(json.find("\"1.0\""), 5, "1.0");
  EXPECT_EQ(rejected(json), "field 'specversion': expected string, got number");
}

TEST_F(CloudEventParserTest, EventId) {
  std::string json = event_json("closed", "{}");
  json.replace(json.find("\"ev-1\""), 6, "\"\"");
  EXPECT_EQ(rejected(json), "field 'id': required string is empty");

  json = event_json("closed", "{}");
  json.replace(json.find("\"ev-1\""), 6, "123");
  EXPECT_EQ(rejected(json), "field 'id': expected string, got number");

  json = event_json("closed", "{}");
  json.replace(json.find("\"id\":\"ev-1\","), 12, "");
  EXPECT_EQ(rejected(json), "field 'id': required string is missing");
}

TEST_F(CloudEventParserTest, EventIdLengthLimit) {
  std::string json = event_json("closed", "{}");
  const size_t at = json.find("ev-1");
  json.replace(at, 4, std::string(256, 'a'));
  EXPECT_EQ(accepted(json).id.str().size(), 256u);
  json.insert(at, "a");
  EXPECT_EQ(rejected(json), "field 'id': longer than 256 characters (257)");
}

TEST_F(CloudEventParserTest, Source) {
  std::string json = event_json("closed", "{}");
  json.replace(json.find("\"/haikou/12345/callcenter\""), 26, "\"\"");
  EXPECT_EQ(rejected(json), "field 'source': required string is empty");

  json = event_json("closed", "{}");
  json.replace(json.find("\"source\":\"/haikou/12345/callcenter\","), 36, "");
  EXPECT_EQ(rejected(json), "field 'source': required string is missing");
}

TEST_F(CloudEventParserTest, UnknownTypeNamesTheValue) {
  const std::string message = rejected(event_json("escalated", "{}"));
  EXPECT_EQ(message.rfind("field 'type': unknown event type 'hotline.case.escalated'", 0), 0u)
      << message;
  EXPECT_NE(message.find("created"), std::string::npos);
  EXPECT_NE(message.find("feedback"), std::string::npos);

  std::string json = event_json("closed", "{}");
  json.replace(json.find("hotline.case.closed"), 19, "closed");
  EXPECT_EQ(rejected(json).rfind("field 'type': unknown event type 'closed'", 0), 0u);
}

TEST_F(CloudEventParserTest, BadCaseId) {
  std::string json = event_json("closed", "{}");
  json.replace(json.find("HK-1"), 4, "HK 1");
  EXPECT_EQ(rejected(json).rfind("field 'subject': invalid case id 'HK 1'", 0), 0u);

  json = event_json("closed", "{}");
  json.replace(json.find("HK-1"), 4, std::string(65, 'K'));
  EXPECT_EQ(rejected(json).rfind("field 'subject': invalid case id", 0), 0u);

  json = event_json("closed", "{}");
  json.replace(json.find("\"subject\":\"HK-1\","), 17, "");
  EXPECT_EQ(rejected(json), "field 'subject': required string is missing");
}

TEST_F(CloudEventParserTest, BadTime) {
  EXPECT_EQ(rejected(event_json("closed", "{}", "2026-02-30T09:00:00+08:00")),
            "field 'time': bad time '2026-02-30T09:00:00+08:00': invalid date 2026-02-30");
  EXPECT_EQ(rejected(event_json("closed", "{}", "2026-03-02T09:00:00")),
            "field 'time': bad time '2026-03-02T09:00:00': missing time zone offset");

  std::string json = event_json("closed", "{}");
  json.replace(json.find("\"2026-03-02T09:00:00.000+08:00\""), 31, "1772413200000");
  EXPECT_EQ(rejected(json), "field 'time': expected string, got number");
}

TEST_F(CloudEventParserTest, DataMissingOrNotAnObject) {
  std::string json = event_json("closed", "{}");
  json.replace(json.find(",\"data\":{}"), 10, "");
  EXPECT_EQ(rejected(json), "field 'data': required object is missing");
  EXPECT_EQ(rejected(event_json("closed", "[]")), "field 'data': expected object, got array");
  EXPECT_EQ(rejected(event_json("closed", R"("text")")),
            "field 'data': expected object, got string");
}

TEST_F(CloudEventParserTest, MissingRequiredDataField) {
  EXPECT_EQ(rejected(event_json("dispatched", "{}")),
            "field 'data.department': required string is missing");
  EXPECT_EQ(rejected(event_json("acknowledged", R"({"actor":"li"})")),
            "field 'data.department': required string is missing");
  EXPECT_EQ(rejected(event_json("returned", R"({"reason":"x"})")),
            "field 'data.department': required string is missing");
  EXPECT_EQ(rejected(event_json("created", R"({"priority":"normal","channel":"phone"})")),
            "field 'data.category': required string is missing");
  EXPECT_EQ(rejected(event_json("created", R"({"category":"noise","channel":"phone"})")),
            "field 'data.priority': required string is missing");
  EXPECT_EQ(rejected(event_json("created", R"({"category":"noise","priority":"normal"})")),
            "field 'data.channel': required string is missing");
  EXPECT_EQ(rejected(event_json("feedback", R"({"score":3})")),
            "field 'data.satisfied': required boolean is missing");
}

TEST_F(CloudEventParserTest, EmptyRequiredDepartment) {
  EXPECT_EQ(rejected(event_json("dispatched", R"({"department":""})")),
            "field 'data.department': required string is empty");
}

TEST_F(CloudEventParserTest, WrongTypedRequiredField) {
  EXPECT_EQ(rejected(event_json("dispatched", R"({"department":42})")),
            "field 'data.department': expected string, got number");
  EXPECT_EQ(rejected(event_json("feedback", R"({"satisfied":"yes"})")),
            "field 'data.satisfied': expected boolean, got string");
}

TEST_F(CloudEventParserTest, WrongTypedOptionalField) {
  EXPECT_EQ(rejected(event_json("dispatched", R"({"department":"water","actor":["a"]})")),
            "field 'data.actor': expected string, got array");
  EXPECT_EQ(rejected(event_json("created",
                                R"({"category":"a","priority":"normal","channel":"phone","district":{}})")),
            "field 'data.district': expected string, got object");
  EXPECT_EQ(rejected(event_json("suspended", R"({"reason":true})")),
            "field 'data.reason': expected string, got boolean");
}

TEST_F(CloudEventParserTest, PriorityOutsideTheList) {
  EXPECT_EQ(
      rejected(event_json("created", R"({"category":"a","priority":"high","channel":"phone"})")),
      "field 'data.priority': expected one of normal, urgent, emergency, got 'high'");
  EXPECT_EQ(rejected(event_json("updated", R"({"priority":"Urgent"})")),
            "field 'data.priority': expected one of normal, urgent, emergency, got 'Urgent'");
}

TEST_F(CloudEventParserTest, ScoreOutsideOneToFive) {
  EXPECT_EQ(rejected(event_json("feedback", R"({"satisfied":true,"score":7})")),
            "field 'data.score': expected integer 1-5, got 7");
  EXPECT_EQ(rejected(event_json("feedback", R"({"satisfied":true,"score":0})")),
            "field 'data.score': expected integer 1-5, got 0");
  EXPECT_EQ(rejected(event_json("feedback", R"({"satisfied":true,"score":4.0})")),
            "field 'data.score': expected integer 1-5, got 4.0");
  EXPECT_EQ(rejected(event_json("feedback", R"({"satisfied":true,"score":4.5})")),
            "field 'data.score': expected integer 1-5, got 4.5");
  EXPECT_EQ(rejected(event_json("feedback", R"({"satisfied":true,"score":"5"})")),
            "field 'data.score': expected integer 1-5, got string");
}

TEST_F(CloudEventParserTest, LongBadValueIsQuotedShortenedOnACharacterBoundary) {
  // 200 three-byte characters: a byte-count cut would split one of them.
  std::string subject;
  for (int i = 0; i < 200; ++i) subject += "\u6848";
  std::string json = event_json("closed", "{}");
  json.replace(json.find("HK-1"), 4, subject);
  const std::string message = rejected(json);
  EXPECT_LT(message.size(), 200u);
  EXPECT_NE(message.find("...'"), std::string::npos);
  // "案" is E6 A1 88: the byte before "..." must end a whole character.
  const size_t dots = message.find("...'");
  EXPECT_EQ(static_cast<unsigned char>(message[dots - 1]), 0x88);
}

TEST_F(CloudEventParserTest, DuplicateKeysAreRejectedNotGuessed) {
  std::string json = event_json("closed", "{}", "2026-03-02T09:00:00Z", R"(,"id":"ev-2")");
  EXPECT_EQ(rejected(json), "field 'id': appears more than once");
  EXPECT_EQ(rejected(event_json("dispatched", R"({"department":"a","department":"b"})")),
            "field 'data.department': appears more than once");
}

TEST_F(CloudEventParserTest, ParserIsReusableAfterARejection) {
  rejected("{not json");
  rejected(event_json("dispatched", "{}"));
  const CaseEvent e = accepted(event_json("dispatched", R"({"department":"water"})"));
  EXPECT_EQ(e.department, "water");
}

TEST_F(CloudEventParserTest, LaterEventDoesNotKeepFieldsOfAnEarlierOne) {
  accepted(event_json("dispatched", R"({"department":"water","actor":"li"})"));
  const CaseEvent e = accepted(event_json("dispatched", R"({"department":"roads"})"));
  EXPECT_EQ(e.actor, "");
}

// --- the conformance example file ------------------------------------------------------

TEST(CloudEventExamples, BasicEventsFileHasExactlyThreeBadLines) {
  std::ifstream in(std::string(SLAWATCH_SHARED_DIR) + "/spec/examples/basic/events.jsonl");
  ASSERT_TRUE(in.good()) << "cannot read the basic example under " << SLAWATCH_SHARED_DIR;
  CloudEventParser parser;
  std::vector<std::string> reasons;
  std::vector<int> bad_lines;
  int accepted = 0;
  int line_number = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++line_number;
    auto r = parser.parse(line);
    if (r.ok()) {
      ++accepted;
    } else {
      bad_lines.push_back(line_number);
      reasons.push_back(r.error().message);
    }
  }
  EXPECT_EQ(accepted, 48);
  ASSERT_EQ(bad_lines, (std::vector<int>{11, 21, 31}));
  EXPECT_EQ(reasons[0], "field 'data.department': required string is missing");
  EXPECT_EQ(reasons[1].rfind("field 'time': ", 0), 0u) << reasons[1];
  EXPECT_NE(reasons[1].find("invalid date 2026-02-30"), std::string::npos);
  EXPECT_EQ(reasons[2].rfind("invalid JSON: ", 0), 0u) << reasons[2];
}

// --- binary content mode ------------------------------------------------------------

std::map<std::string, std::string> binary_headers(std::string type = "hotline.case.dispatched") {
  return {{"specversion", "1.0"},         {"id", "ev-9"},
          {"source", "/haikou/12345"},    {"type", std::move(type)},
          {"subject", "HK-9"},            {"time", "2026-03-02T09:00:00+08:00"}};
}

TEST(CloudEventBinaryMode, ValidEvent) {
  CloudEventParser parser;
  auto r = parser.parse_binary(binary_headers(), R"({"department":"water","actor":"li"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, EventId{"ev-9"});
  EXPECT_EQ(r->case_id, CaseId{"HK-9"});
  EXPECT_EQ(r->type, EventType::dispatched);
  EXPECT_EQ(to_millis(r->time), kNineOClockShanghai);
  EXPECT_EQ(r->department, "water");
  EXPECT_EQ(r->actor, "li");
}

TEST(CloudEventBinaryMode, SameRejectionsAsStructuredMode) {
  CloudEventParser parser;
  auto missing = parser.parse_binary(binary_headers(), "{}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "field 'data.department': required string is missing");

  auto headers = binary_headers();
  headers.erase("subject");
  auto no_subject = parser.parse_binary(headers, R"({"department":"water"})");
  ASSERT_FALSE(no_subject.ok());
  EXPECT_EQ(no_subject.error().message, "field 'subject': required string is missing");

  headers = binary_headers();
  headers["time"] = "2026-02-30T09:00:00+08:00";
  auto bad_time = parser.parse_binary(headers, R"({"department":"water"})");
  ASSERT_FALSE(bad_time.ok());
  EXPECT_EQ(bad_time.error().message,
            "field 'time': bad time '2026-02-30T09:00:00+08:00': invalid date 2026-02-30");

  auto bad_type = parser.parse_binary(binary_headers("hotline.case.nope"), "{}");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.error().message.rfind("field 'type': unknown event type 'hotline.case.nope'", 0),
            0u);
}

TEST(CloudEventBinaryMode, DataMustBeAJsonObject) {
  CloudEventParser parser;
  auto empty = parser.parse_binary(binary_headers("hotline.case.closed"), "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "field 'data': required object is missing");

  auto array = parser.parse_binary(binary_headers("hotline.case.closed"), "[1]");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.error().message, "field 'data': expected object, got array");

  auto garbage = parser.parse_binary(binary_headers("hotline.case.closed"), "{oops");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().message.rfind("invalid JSON: ", 0), 0u);
}

TEST(CloudEventBinaryMode, OversizedValue) {
  CloudEventParser parser;
  const std::string big = R"({"department":"water","pad":")" + std::string(kDefaultMaxRecordBytes, 'x') + "\"}";
  auto r = parser.parse_binary(binary_headers(), big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "record too large (" + std::to_string(big.size()) + " bytes, limit 1048576)");
}

TEST(CloudEventBinaryMode, HeaderThatIsNotUtf8IsRejected) {
  CloudEventParser parser;
  auto headers = binary_headers("hotline.case.closed");
  headers["source"] = std::string("/haikou/\xff\xfe", 10);
  auto r = parser.parse_binary(headers, "{}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "field 'source': not valid UTF-8");

  headers["source"] = "/\u6d77\u53e3/12345";  // "/海口/12345": valid, not ASCII
  auto chinese = parser.parse_binary(headers, "{}");
  EXPECT_TRUE(chinese.ok()) << chinese.error().message;
}

TEST(CloudEventBinaryMode, ExtraHeadersAreIgnored) {
  CloudEventParser parser;
  auto headers = binary_headers("hotline.case.closed");
  headers["traceparent"] = "00-abc";
  headers["datacontenttype"] = "application/json";
  auto r = parser.parse_binary(headers, "{}");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type, EventType::closed);
}

// --- case ids ---------------------------------------------------------------------------

TEST(CaseIdValidation, AllowedCharactersAndLengths) {
  EXPECT_TRUE(is_valid_case_id("HK-1"));
  EXPECT_TRUE(is_valid_case_id("a"));
  EXPECT_TRUE(is_valid_case_id("2026.03:HK_9-z"));
  EXPECT_TRUE(is_valid_case_id(std::string(64, 'x')));
  EXPECT_FALSE(is_valid_case_id(std::string(65, 'x')));
  EXPECT_FALSE(is_valid_case_id(""));
  EXPECT_FALSE(is_valid_case_id("HK/1"));
  EXPECT_FALSE(is_valid_case_id("HK 1"));
  EXPECT_FALSE(is_valid_case_id("案件1"));
}

}  // namespace
}  // namespace slawatch
