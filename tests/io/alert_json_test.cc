// The alert and case-event encoders write JSON by hand. Earlier releases wrote
// the same objects with RapidJSON's streaming writer, and consumers (and the
// delivered events already in topics) expect the same bytes: every shape is
// compared with what that writer produces, kept here as the reference.
#include <gtest/gtest.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <vector>

#include "io/alert_json.h"

namespace slawatch {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                 rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>;

void put(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
void put_null(Writer& w, std::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Null();
}
void put_time(Writer& w, std::string_view key, Instant t) { put(w, key, format_rfc3339_utc(t)); }

std::string reference_alert(const Alert& alert, std::string_view source) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  put(w, "specversion", "1.0");
  put(w, "id", alert.alert_id + "/" + std::string(to_string(alert.kind)) + "/" +
                   std::to_string(to_millis(alert.due_at)));
  put(w, "source", source);
  put(w, "type", "slawatch.alert." + std::string(to_string(alert.kind)));
  put(w, "subject", alert.case_id.str());
  put_time(w, "time", alert.emitted_at);
  put(w, "datacontenttype", "application/json");
  w.Key("data");
  w.StartObject();
  put(w, "alert_id", alert.alert_id);
  put(w, "case_id", alert.case_id.str());
  put(w, "rule", alert.rule.str());
  w.Key("cycle");
  w.Int(alert.cycle);
  put(w, "stage", alert.stage);
  put(w, "severity", alert.severity);
  put(w, "department", alert.department.empty() ? std::string("unassigned") : alert.department);
  put_time(w, "due_at", alert.due_at);
  put(w, "rule_version", alert.rule_version);
  switch (alert.kind) {
    case AlertKind::fired:
      put_time(w, "fired_at", alert.fired_at);
      put_time(w, "started_at", alert.started_at);
      w.Key("notify");
      w.StartArray();
      for (const auto& target : alert.notify) {
        w.StartObject();
        put(w, "role", target.role);
        if (target.person.empty()) {
          put_null(w, "person");
        } else {
          put(w, "person", target.person);
        }
        w.EndObject();
      }
      w.EndArray();
      break;
    case AlertKind::resolved:
      put_time(w, "closed_at", *alert.closed_at);
      w.Key("overdue_seconds");
      w.Double(static_cast<double>((*alert.closed_at - alert.due_at).count()) / 1000.0);
      break;
    case AlertKind::retracted:
      if (alert.closed_at) {
        put_time(w, "closed_at", *alert.closed_at);
      } else {
        put_null(w, "closed_at");
      }
      put(w, "reason", alert.reason);
      if (alert.event_id.empty()) {
        put_null(w, "event_id");
      } else {
        put(w, "event_id", alert.event_id.str());
      }
      break;
  }
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string reference_case_event(const CaseEvent& event) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  put(w, "specversion", "1.0");
  put(w, "id", event.id.str());
  put(w, "source", "/slawatch/case-log (original source not kept)");
  put(w, "type", std::string(kEventTypePrefix) + std::string(to_string(event.type)));
  put(w, "subject", event.case_id.str());
  put_time(w, "time", event.time);
  w.Key("data");
  w.StartObject();
  const std::pair<std::string_view, const EventText*> texts[] = {
      {"category", &event.category}, {"priority", &event.priority},   {"channel", &event.channel},
      {"district", &event.district},  {"department", &event.department}, {"from_department", &event.from_department},
      {"actor", &event.actor},        {"reason", &event.reason},
  };
  for (const auto& [name, value] : texts) {
    if (!value->empty()) put(w, name, *value);
  }
  if (event.satisfied) {
    w.Key("satisfied");
    w.Bool(*event.satisfied);
  }
  if (event.score) {
    w.Key("score");
    w.Int(*event.score);
  }
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Texts a field may hold: plain, every character JSON escapes, multi-byte UTF-8.
const std::vector<std::string> kTexts = {
    "",
    "water",
    "say \"no\"",
    "back\\slash and /slash",
    std::string("controls \b\f\n\r\t \x01\x1f \x7f"),
    "市水务局 / 供水科",
    "emoji \xF0\x9F\x98\x80 and \xC3\xA9",
};

Alert base(AlertKind kind) {
  Alert a;
  a.kind = kind;
  a.case_id = CaseId{"HK-20261206-000042"};
  a.rule = RuleId{"first-response"};
  a.cycle = 3;
  a.stage = "warn";
  a.alert_id = make_alert_id(a.case_id, a.rule, a.cycle, a.stage);
  a.severity = "major";
  a.department = "water";
  a.due_at = from_millis(1'772'382'763'972);
  a.emitted_at = a.due_at + Duration{4'000};
  a.fired_at = a.emitted_at;
  a.started_at = a.due_at - Duration{1'800'000};
  a.rule_version = "d31222ec1b3b";
  return a;
}

TEST(AlertJson, EveryKindMatchesTheStreamingWriterByteForByte) {
  size_t compared = 0;
  for (const auto& text : kTexts) {
    Alert fired = base(AlertKind::fired);
    fired.department = text;
    fired.stage = text.empty() ? "warn" : text;
    fired.severity = text;
    fired.notify = {NotifyTarget{"department.duty_officer", ""}, NotifyTarget{text, text},
                    NotifyTarget{"discipline.inspector", "王五"}};
    EXPECT_EQ(encode_alert_cloudevent(fired, "/slawatch"), reference_alert(fired, "/slawatch"));
    fired.notify.clear();
    EXPECT_EQ(encode_alert_cloudevent(fired, text), reference_alert(fired, text));

    Alert retracted = base(AlertKind::retracted);
    retracted.reason = text;
    retracted.event_id = EventId{text};
    EXPECT_EQ(encode_alert_cloudevent(retracted, "/s"), reference_alert(retracted, "/s"));
    retracted.closed_at = retracted.due_at - Duration{1};
    EXPECT_EQ(encode_alert_cloudevent(retracted, "/s"), reference_alert(retracted, "/s"));
    compared += 4;
  }
  EXPECT_EQ(compared, 4 * kTexts.size());
}

// Texts are scanned eight bytes at a time: each byte that needs escaping (and
// a multi-byte character) at every offset around the word boundaries, in texts
// of every length up to three words, against the reference writer.
TEST(AlertJson, EveryEscapeAtEveryOffsetMatchesTheStreamingWriter) {
  std::vector<std::string> specials;
  for (int byte = 0; byte < 0x20; ++byte) specials.emplace_back(1, static_cast<char>(byte));
  for (const char* s : {"\"", "\\", "/", "\x7F", "\xE6\xB5\xB7", "\xC3\xA9", "\xF0\x9F\x9A\x92"}) specials.emplace_back(s);
  size_t compared = 0;
  for (size_t length = 0; length <= 24; ++length) {
    for (size_t offset = 0; offset <= length; ++offset) {
      for (const auto& special : specials) {
        std::string text(length, 'a');
        text.insert(offset, special);
        Alert fired = base(AlertKind::fired);
        fired.department = text;
        ASSERT_EQ(encode_alert_cloudevent(fired, "/s"), reference_alert(fired, "/s"))
            << "length " << length << ", offset " << offset << ", byte " << static_cast<int>(special[0]);
        ++compared;
      }
    }
  }
  for (size_t length = 0; length <= 24; ++length) {  // clean texts of every length, too
    Alert fired = base(AlertKind::fired);
    fired.department = std::string(length, 'z');
    ASSERT_EQ(encode_alert_cloudevent(fired, "/s"), reference_alert(fired, "/s")) << length;
  }
  EXPECT_EQ(compared, 325u * 39u);
}

// The writer sizes its buffer ahead and grows it when a field needs more
// room: fields far longer than an alert usually is, written at every point
// of the object, clean and to be escaped (a control byte takes six).
TEST(AlertJson, FieldsLongerThanTheBufferGrowItAndMatchTheStreamingWriter) {
  for (const size_t length : {100u, 511u, 512u, 513u, 1000u, 5000u}) {
    for (const std::string& unit : {std::string("x"), std::string("\x01"), std::string("\xE6\xB5\xB7")}) {
      std::string text;
      while (text.size() < length) text += unit;
      Alert fired = base(AlertKind::fired);
      fired.alert_id = text;
      fired.department = text;
      for (int i = 0; i < 40; ++i) fired.notify.push_back(NotifyTarget{text.substr(0, 15), i % 2 ? text : ""});
      ASSERT_EQ(encode_alert_cloudevent(fired, text), reference_alert(fired, text)) << length;
      Alert retracted = base(AlertKind::retracted);
      retracted.reason = text;
      retracted.event_id = EventId{text};
      ASSERT_EQ(encode_alert_cloudevent(retracted, "/s"), reference_alert(retracted, "/s")) << length;
    }
  }
}

TEST(AlertJson, OverdueSecondsAreWrittenAsTheStreamingWriterWroteThem) {
  // Whole seconds keep ".0"; milliseconds are the shortest decimal that reads back.
  for (const int64_t overdue_ms : {0LL, 1LL, 7LL, 10LL, 100LL, 999LL, 1000LL, 1001LL, 59'999LL, 86'400'000LL,
                                   123'456'789LL, 31'536'000'123LL, -1LL, -1500LL}) {
    Alert resolved = base(AlertKind::resolved);
    resolved.closed_at = resolved.due_at + Duration{overdue_ms};
    EXPECT_EQ(encode_alert_cloudevent(resolved, "/s"), reference_alert(resolved, "/s")) << overdue_ms;
  }
}

TEST(AlertJson, TimesOutsideTheUsualYearsAndLargeCyclesMatch) {
  for (const int64_t ms : {0LL, -1LL, -86'400'001LL, 253'402'300'799'999LL, 253'402'300'800'000LL}) {
    Alert fired = base(AlertKind::fired);
    fired.due_at = from_millis(ms);
    fired.emitted_at = from_millis(ms);
    fired.cycle = 2'147'483'647;
    EXPECT_EQ(encode_alert_cloudevent(fired, "/s"), reference_alert(fired, "/s")) << ms;
  }
}

TEST(AlertJson, TextThatIsNotUtf8StillMakesValidJson) {
  // Rule and roster texts are what YAML gave. The streaming writer stopped in
  // the middle of such a text (invalid JSON); now its non-ASCII bytes go as '?'.
  Alert fired = base(AlertKind::fired);
  fired.severity = "bad \xC3 byte \xFF";
  fired.notify = {NotifyTarget{"role", "\xE4\xB8"}};
  const std::string json = encode_alert_cloudevent(fired, "/s");
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  ASSERT_FALSE(document.HasParseError()) << json;
  EXPECT_STREQ(document["data"]["severity"].GetString(), "bad ? byte ?");
  EXPECT_STREQ(document["data"]["notify"][0]["person"].GetString(), "??");
  auto decoded = decode_alert_cloudevent(json);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->alert_id, fired.alert_id);
}

TEST(AlertJson, CaseEventsMatchTheStreamingWriterByteForByte) {
  for (const auto& text : kTexts) {
    CaseEvent event;
    event.id = EventId{text.empty() ? "e-1" : text};
    event.case_id = CaseId{"HK-1"};
    event.type = EventType::dispatched;
    event.time = from_millis(1'772'382'763'972);
    event.category = text;
    event.department = text;
    event.from_department = "roads";
    event.reason = text;
    EXPECT_EQ(encode_case_event(event), reference_case_event(event));
    event.satisfied = true;
    event.score = -3;
    EXPECT_EQ(encode_case_event(event), reference_case_event(event));
    event.satisfied = false;
    event.score = 5;
    EXPECT_EQ(encode_case_event(event), reference_case_event(event));
  }
}

}  // namespace
}  // namespace slawatch
