#include "api/case_api.h"

#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/evaluator.h"
#include "state/case_record.h"

namespace slawatch {
namespace {

using nlohmann::json;

constexpr std::string_view kCasesPrefix = "/api/v1/cases/";
constexpr std::string_view kAlertsPath = "/api/v1/alerts";

HttpResponse json_response(int status, const json& body) {
  return HttpResponse{status, "application/json", body.dump() + "\n"};
}
HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, json{{"error", message}});
}

// Percent-decoding of one query component ('+' is a space, as browsers send forms).
std::optional<std::string> url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// name -> value; an error names the parameter that could not be decoded.
Result<std::map<std::string, std::string, std::less<>>> parse_query(std::string_view query) {
  std::map<std::string, std::string, std::less<>> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto name = url_decode(pair.substr(0, eq));
    auto value = url_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) return make_error("bad percent-encoding in query parameter '" + std::string(pair) + "'");
    out[*name] = *value;
  }
  return out;
}

std::optional<AlertIndexEntry::State> state_from_name(std::string_view name) {
  for (auto state : {AlertIndexEntry::State::firing, AlertIndexEntry::State::resolved,
                     AlertIndexEntry::State::retracted}) {
    if (to_string(state) == name) return state;
  }
  return std::nullopt;
}

std::string_view to_string(StageStatus status) {
  switch (status) {
    case StageStatus::due: return "due";
    case StageStatus::met: return "met";
    case StageStatus::paused: return "paused";
  }
  return "paused";
}

json event_json(const CaseEvent& e) {
  json data = json::object();
  auto put = [&](const char* name, const std::string& value) {
    if (!value.empty()) data[name] = value;
  };
  put("category", e.category);
  put("priority", e.priority);
  put("channel", e.channel);
  put("district", e.district);
  put("department", e.department);
  put("from_department", e.from_department);
  put("actor", e.actor);
  put("reason", e.reason);
  if (e.satisfied) data["satisfied"] = *e.satisfied;
  if (e.score) data["score"] = *e.score;
  return json{{"id", e.id.str()},
              {"type", std::string(kEventTypePrefix) + std::string(to_string(e.type))},
              {"time", format_rfc3339_utc(e.time)},
              {"data", std::move(data)}};
}

json time_or_null(const std::optional<Instant>& t) { return t ? json(format_rfc3339_utc(*t)) : json(nullptr); }

// Each rule (in the order its first cycle appears) with its cycles, each with its stages.
json rules_json(const CaseEvaluation& evaluation, Instant as_of) {
  std::vector<json> cycles;
  cycles.reserve(evaluation.cycles.size());
  for (const auto& c : evaluation.cycles) {
    cycles.push_back(json{{"cycle", c.cycle},
                          {"started_at", format_rfc3339_utc(c.started_at)},
                          {"closed_at", time_or_null(c.closed_at)},
                          {"closed_by", c.closed_at ? json(c.closed_by.str()) : json(nullptr)},
                          {"paused_total", format_duration(c.paused)},
                          {"paused_total_ms", c.paused.count()},
                          {"paused_now", c.paused_at_end},
                          {"elapsed", format_duration(c.elapsed)},
                          {"stages", json::array()}});
  }
  for (const auto& s : evaluation.stages) {
    const bool has_due = s.status == StageStatus::due;
    json stage{{"stage", std::string(s.stage)},
               {"severity", std::string(s.severity)},
               {"status", std::string(to_string(s.status))},
               {"due_at", has_due ? json(format_rfc3339_utc(s.due_at)) : json(nullptr)},
               {"breached", has_due && s.due_at <= as_of}};
    if (s.notify != nullptr) stage["notify"] = *s.notify;
    cycles[s.cycle_index]["stages"].push_back(std::move(stage));
  }
  json rules = json::array();
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < evaluation.cycles.size(); ++i) {
    const std::string rule = evaluation.cycles[i].rule.str();
    auto [it, added] = index_of.emplace(rule, rules.size());
    if (added) rules.push_back(json{{"rule", rule}, {"cycles", json::array()}});
    rules[it->second]["cycles"].push_back(std::move(cycles[i]));
  }
  return rules;
}

Result<json> alert_json(const AlertIndexEntry& entry) {
  json event = json::parse(entry.event, nullptr, false);
  if (event.is_discarded()) return make_error("stored alert '" + entry.alert_id + "' is not JSON");
  return json{{"alert_id", entry.alert_id},
              {"state", std::string(to_string(entry.state))},
              {"department", entry.department},
              {"event", std::move(event)}};
}

Result<json> alerts_json(const std::vector<AlertIndexEntry>& entries) {
  json out = json::array();
  for (const auto& entry : entries) {
    auto one = alert_json(entry);
    if (!one.ok()) return one.error();
    out.push_back(std::move(one).value());
  }
  return out;
}

}  // namespace

void CaseApi::add_routes(HttpRoutes& routes) const {
  routes.get_prefix(std::string(kCasesPrefix), [this](const HttpRequest& r) { return get_case(r); });
  routes.get(std::string(kAlertsPath), [this](const HttpRequest& r) { return list_alerts(r); });
}

HttpResponse CaseApi::get_case(const HttpRequest& request) const {
  if (!request.path.starts_with(kCasesPrefix)) return error_response(404, "not found");
  const std::string_view id_text = request.path.substr(kCasesPrefix.size());
  if (id_text.empty() || id_text.find('/') != std::string_view::npos) {
    return error_response(404, "no case id in '" + std::string(request.path) + "'");
  }
  if (!request.query.empty()) return error_response(400, "unknown query parameter: the case API takes none");
  const CaseId id{std::string(id_text)};
  auto found = reader_.find_case(id);
  if (!found.ok()) return error_response(500, found.error().message);
  if (!*found) return error_response(404, "unknown case '" + id.str() + "'");
  const auto& stored = **found;
  auto record = decode_case_record(stored.encoded, id);
  if (!record.ok()) return error_response(500, record.error().message);
  auto checkpoint = reader_.checkpoint(stored.partition);
  if (!checkpoint.ok()) return error_response(500, checkpoint.error().message);
  auto alerts = reader_.alerts_of_case(stored.partition, id);
  if (!alerts.ok()) return error_response(500, alerts.error().message);
  auto alerts_out = alerts_json(*alerts);
  if (!alerts_out.ok()) return error_response(500, alerts_out.error().message);

  // The snapshot keeps the rule set (which the evaluation points into) alive
  // even if a reload replaces it meanwhile.
  const std::shared_ptr<const RuleSet> rules = rules_.get();
  const CaseEvaluation evaluation = evaluate_case(record->events, *rules);
  json events = json::array();
  for (const auto& e : record->events) events.push_back(event_json(e));
  return json_response(200, json{{"case_id", id.str()},
                                 {"as_of", format_rfc3339_utc(checkpoint->clock)},
                                 {"rules_version", rules->version},
                                 {"events", std::move(events)},
                                 {"rules", rules_json(evaluation, checkpoint->clock)},
                                 {"alerts", std::move(alerts_out).value()}});
}

HttpResponse CaseApi::list_alerts(const HttpRequest& request) const {
  auto params = parse_query(request.query);
  if (!params.ok()) return error_response(400, params.error().message);
  StateReader::AlertFilter filter;
  size_t limit = kDefaultAlertPage;
  std::string cursor;
  for (const auto& [name, value] : *params) {
    if (name == "state") {
      filter.state = state_from_name(value);
      if (!filter.state) {
        return error_response(400, "parameter 'state': '" + value + "' is not firing, resolved or retracted");
      }
    } else if (name == "department") {
      filter.department = value;
    } else if (name == "limit") {
      size_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || end != value.data() + value.size() || n == 0 || n > kMaxAlertPage) {
        return error_response(400, "parameter 'limit': '" + value + "' is not an integer from 1 to " +
                                       std::to_string(kMaxAlertPage));
      }
      limit = n;
    } else if (name == "cursor") {
      if (!StateReader::valid_cursor(value)) {
        return error_response(400, "parameter 'cursor': '" + value + "' is not a cursor from an earlier page");
      }
      cursor = value;
    } else {
      return error_response(400, "unknown query parameter '" + name +
                                     "' (known: state, department, limit, cursor)");
    }
  }
  auto page = reader_.list_alerts(filter, cursor, limit);
  if (!page.ok()) return error_response(500, page.error().message);
  auto alerts = alerts_json(page->alerts);
  if (!alerts.ok()) return error_response(500, alerts.error().message);
  return json_response(200, json{{"alerts", std::move(alerts).value()},
                                 {"next_cursor", page->next_cursor.empty() ? json(nullptr)
                                                                           : json(page->next_cursor)}});
}

}  // namespace slawatch
