#include "api/case_api.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/evaluator.h"
#include "report/accountability.h"
#include "state/case_record.h"

namespace slawatch {
namespace {

using nlohmann::json;

constexpr std::string_view kCasesPrefix = "/api/v1/cases/";
constexpr std::string_view kAlertsPath = "/api/v1/alerts";
constexpr std::string_view kLedgerPath = "/api/v1/ledger";
constexpr std::string_view kInfoPath = "/api/v1/info";

using Params = std::map<std::string, std::string, std::less<>>;

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
Result<Params> parse_query(std::string_view query) {
  Params out;
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

std::string department_name(const std::string& department) {
  return department.empty() ? std::string(kUnassignedDepartment) : department;
}

// An RFC 3339 parameter; the error names it.
Result<Instant> time_param(std::string_view name, const std::string& value) {
  auto parsed = parse_rfc3339(value);
  if (!parsed.ok()) {
    return make_error("parameter '" + std::string(name) + "': '" + value + "' is not an RFC 3339 time (" +
                      parsed.error().message + ")");
  }
  return *parsed;
}

json event_json(const CaseEvent& e) {
  json data = json::object();
  auto put = [&](const char* name, const EventText& value) {
    if (!value.empty()) data[name] = value.str();
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

// The cycle's clock up to `as_of`: an open cycle still running keeps counting
// (on its rule's calendar) from its last resume to as_of.
Duration elapsed_as_of(const CycleResult& c, Instant as_of) {
  Duration elapsed = c.elapsed;
  if (!c.closed_at && !c.running.empty() && !c.running.back().end && c.deadline != nullptr &&
      c.running.back().begin < as_of) {
    elapsed += c.deadline->calendar->counted(c.running.back().begin, as_of);
  }
  return elapsed;
}

// The gaps between the running stretches, up to the close (or as_of while paused).
json pauses_json(const CycleResult& c) {
  json out = json::array();
  if (c.deadline == nullptr) return out;  // a count rule's window has no clock to pause
  std::optional<Instant> stopped = c.started_at;  // where the clock last stopped (a cycle may open paused)
  for (const auto& iv : c.running) {
    if (stopped && *stopped < iv.begin) {
      out.push_back(json{{"from", format_rfc3339_utc(*stopped)}, {"to", format_rfc3339_utc(iv.begin)}});
    }
    stopped = iv.end;
  }
  if (stopped && (!c.closed_at || *stopped < *c.closed_at)) {
    out.push_back(json{{"from", format_rfc3339_utc(*stopped)}, {"to", time_or_null(c.closed_at)}});
  }
  return out;
}

// What became of a stage as of `as_of`: breached (due and reached), pending
// (due later), met (closed in time) or paused (no due time yet).
std::string_view outcome_of(const StageResult& s, Instant as_of) {
  if (s.status == StageStatus::met) return "met";
  if (s.status == StageStatus::paused) return "paused";
  return s.due_at <= as_of ? "breached" : "pending";
}

// Each rule (in the order its first cycle appears) with its cycles, each with
// its pauses and its stages, and for each due stage the department and the
// people holding its notify roles at the due time.
json rules_json(const CaseEvaluation& evaluation, std::span<const CaseEvent> log, const Roster* roster,
                Instant as_of) {
  std::vector<json> cycles;
  cycles.reserve(evaluation.cycles.size());
  for (const auto& c : evaluation.cycles) {
    const Duration elapsed = elapsed_as_of(c, as_of);
    cycles.push_back(json{{"cycle", c.cycle},
                          {"started_at", format_rfc3339_utc(c.started_at)},
                          {"closed_at", time_or_null(c.closed_at)},
                          {"closed_by", c.closed_at ? json(c.closed_by.str()) : json(nullptr)},
                          {"paused_total", format_duration(c.paused)},
                          {"paused_total_ms", c.paused.count()},
                          {"paused_now", c.paused_at_end},
                          {"pauses", pauses_json(c)},
                          {"elapsed", format_duration(elapsed)},
                          {"elapsed_ms", elapsed.count()},
                          {"stages", json::array()}});
  }
  for (const auto& s : evaluation.stages) {
    const bool has_due = s.status == StageStatus::due;
    const CycleResult& cycle = evaluation.cycle_of(s);
    json stage{{"stage", std::string(s.stage)},
               {"severity", std::string(s.severity)},
               {"status", std::string(to_string(s.status))},
               {"outcome", std::string(outcome_of(s, as_of))},
               {"due_at", has_due ? json(format_rfc3339_utc(s.due_at)) : json(nullptr)},
               {"breached", has_due && s.due_at <= as_of}};
    if (s.notify != nullptr) stage["notify"] = *s.notify;
    if (has_due) {
      const std::string department = attributes_at(log, s.due_at).department;
      stage["department"] = department_name(department);
      json on_duty = json::array();
      if (s.notify != nullptr) {
        for (const auto& role : *s.notify) {
          const std::string_view person = roster ? roster->resolve(role, department, s.due_at) : std::string_view{};
          on_duty.push_back(json{{"role", role}, {"person", person.empty() ? json(nullptr) : json(person)}});
        }
      }
      stage["on_duty"] = std::move(on_duty);
      if (s.due_at <= as_of) {
        const Instant until = cycle.closed_at && *cycle.closed_at < as_of ? *cycle.closed_at : as_of;
        stage["overdue_ms"] = (until - s.due_at).count();
      }
    }
    cycles[s.cycle_index]["stages"].push_back(std::move(stage));
  }
  json rules = json::array();
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < evaluation.cycles.size(); ++i) {
    const CycleResult& c = evaluation.cycles[i];
    const std::string rule = std::string(c.rule.str());
    auto [it, added] = index_of.emplace(rule, rules.size());
    if (added) {
      const std::string& title = c.deadline ? c.deadline->title : c.count ? c.count->title : std::string();
      rules.push_back(json{{"rule", rule}, {"title", title}, {"cycles", json::array()}});
    }
    rules[it->second]["cycles"].push_back(std::move(cycles[i]));
  }
  return rules;
}

Result<json> alert_json(const AlertIndexEntry& entry) {
  json event = json::parse(entry.event, nullptr, false);
  if (event.is_discarded()) return make_error("stored alert '" + entry.alert_id + "' is not JSON");
  return json{{"alert_id", entry.alert_id},
              {"state", std::string(to_string(entry.state))},
              {"department", department_name(entry.department)},
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

// The filters on an alert's own fields (its CloudEvent's data), beyond the
// state and department the index keeps beside it.
struct AlertFields {
  std::string rule, stage, severity, person;
  std::optional<Instant> due_from, due_to;  // [from, to) on data.due_at

  bool any() const {
    return !rule.empty() || !stage.empty() || !severity.empty() || !person.empty() || due_from || due_to;
  }
  bool matches(const AlertIndexEntry& entry) const {
    const json event = json::parse(entry.event, nullptr, false);
    if (event.is_discarded() || !event.contains("data")) return false;
    const json& data = event["data"];
    auto text = [&](const char* key) { return data.contains(key) && data[key].is_string() ? data[key].get<std::string>() : std::string(); };
    if (!rule.empty() && text("rule") != rule) return false;
    if (!stage.empty() && text("stage") != stage) return false;
    if (!severity.empty() && text("severity") != severity) return false;
    if (!person.empty()) {
      bool named = false;
      if (data.contains("notify") && data["notify"].is_array()) {
        for (const auto& n : data["notify"]) named = named || (n.contains("person") && n["person"] == person);
      }
      if (!named) return false;
    }
    if (due_from || due_to) {
      auto due = parse_rfc3339(text("due_at"));
      if (!due.ok()) return false;
      if (due_from && *due < *due_from) return false;
      if (due_to && *due >= *due_to) return false;
    }
    return true;
  }
};

// One CSV cell (RFC 4180: quoted when it holds a comma, quote or line break).
std::string csv_cell(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// The columns of GET /api/v1/alerts?format=csv, also what the workbench's
// export writes (ui/app.js, alertCsvRow): keep the two in step.
constexpr std::string_view kAlertCsvHeader =
    "alert_id,state,case_id,rule,cycle,stage,severity,department,due_at,fired_at,closed_at,people\n";

std::string alert_csv_row(const json& alert) {
  const json& data = alert["event"].contains("data") ? alert["event"]["data"] : json::object();
  auto text = [&](const char* key) {
    return data.contains(key) && data[key].is_string() ? data[key].get<std::string>() : std::string();
  };
  std::string people;
  if (data.contains("notify") && data["notify"].is_array()) {
    for (const auto& n : data["notify"]) {
      if (!people.empty()) people += "; ";
      people += n.value("role", "") + "=" + (n.contains("person") && n["person"].is_string()
                                                 ? n["person"].get<std::string>()
                                                 : std::string("-"));
    }
  }
  const std::string cycle = data.contains("cycle") && data["cycle"].is_number() ? data["cycle"].dump() : "";
  std::string row;
  for (const std::string& cell :
       {alert["alert_id"].get<std::string>(), alert["state"].get<std::string>(), text("case_id"), text("rule"), cycle,
        text("stage"), text("severity"), alert["department"].get<std::string>(), text("due_at"), text("fired_at"),
        text("closed_at"), people}) {
    if (!row.empty()) row += ",";
    row += csv_cell(cell);
  }
  return row + "\n";
}

json tally_json(const AccountabilityReport& r, const Tally& t) {
  json by_stage = json::object();
  for (const auto& stage : r.stages) {
    auto it = t.by_stage.find(stage);
    by_stage[stage] = it == t.by_stage.end() ? 0 : it->second;
  }
  return json{{"cases", t.cases.size()},
              {"breaches", t.breaches},
              {"by_stage", std::move(by_stage)},
              {"overdue_total_seconds", t.overdue_total.count() / 1000},
              {"overdue_max_seconds", t.overdue_max.count() / 1000},
              {"still_open", t.still_open},
              {"returns", t.returns},
              {"transfers", t.transfers},
              {"discipline_inspection", t.discipline}};
}

json report_json(const AccountabilityReport& r) {
  json departments = json::array();
  for (const auto& [name, tally] : r.departments) {
    json row = tally_json(r, tally);
    row["department"] = name;
    departments.push_back(std::move(row));
  }
  json people = json::array();
  for (const auto& p : r.people) {
    json row = tally_json(r, p.tally);
    row["department"] = p.department;
    row["person"] = p.person;
    people.push_back(std::move(row));
  }
  return json{{"from", format_rfc3339_utc(r.from)},
              {"to", format_rfc3339_utc(r.to)},
              {"end", format_rfc3339_utc(r.end)},
              {"stages", r.stages},
              {"person_times", r.person_times},
              {"total", tally_json(r, r.total)},
              {"departments", std::move(departments)},
              {"people", std::move(people)}};
}

}  // namespace

void CaseApi::add_routes(HttpRoutes& routes) const {
  auto guarded = [this](HttpResponse (CaseApi::*handler)(const HttpRequest&) const) {
    return require_bearer(options_.read_token, [this, handler](const HttpRequest& r) { return (this->*handler)(r); });
  };
  routes.get(std::string(kInfoPath), guarded(&CaseApi::info));
  routes.get_prefix(std::string(kCasesPrefix), guarded(&CaseApi::get_case));
  routes.get(std::string(kAlertsPath), guarded(&CaseApi::list_alerts));
  routes.get(std::string(kLedgerPath), guarded(&CaseApi::ledger));
}

HttpResponse CaseApi::info(const HttpRequest& request) const {
  if (!request.query.empty()) return error_response(400, "unknown query parameter: /api/v1/info takes none");
  const std::shared_ptr<const RuleSet> rules = rules_.get();
  json rule_list = json::array();
  for (const auto& d : rules->deadlines) {
    json stages = json::array();
    for (const auto& s : d.stages) stages.push_back(json{{"stage", s.name}, {"severity", s.severity}});
    rule_list.push_back(json{{"rule", d.id.str()}, {"title", d.title}, {"stages", std::move(stages)}});
  }
  for (const auto& c : rules->counts) {
    rule_list.push_back(json{{"rule", c.id.str()},
                             {"title", c.title},
                             {"stages", json::array({json{{"stage", kCountStageName}, {"severity", c.severity}}})}});
  }
  json departments = json::array();
  if (const std::shared_ptr<const Roster> roster = roster_.get()) {
    for (const auto& [id, department] : roster->departments()) {
      departments.push_back(json{{"id", id}, {"name", department.name}});
    }
  }
  departments.push_back(json{{"id", kUnassignedDepartment}, {"name", ""}});
  auto parts = current_partitions();
  if (!parts.ok()) return error_response(500, parts.error().message);
  json partitions = json::array();
  for (const uint16_t partition : *parts) {
    auto checkpoint = reader_.checkpoint(partition);
    if (!checkpoint.ok()) return error_response(500, checkpoint.error().message);
    partitions.push_back(json{{"partition", partition}, {"as_of", format_rfc3339_utc(checkpoint->clock)}});
  }
  return json_response(200, json{{"time_zone", options_.time_zone},
                                 {"rules_version", rules->version},
                                 {"rules", std::move(rule_list)},
                                 {"departments", std::move(departments)},
                                 {"partitions", std::move(partitions)}});
}

Result<std::vector<uint16_t>> CaseApi::current_partitions() const {
  auto stored = reader_.partitions();
  if (!stored.ok() || options_.owned == nullptr) return stored;
  std::erase_if(*stored, [this](uint16_t partition) { return !options_.owned->owns(partition); });
  return stored;
}

HttpResponse CaseApi::unknown_case(const CaseId& id) const {
  if (options_.owned == nullptr || options_.owned->owns_everything()) {
    return error_response(404, "unknown case '" + std::string(id.str()) + "'");
  }
  // A case never stored here may live in a partition another instance owns.
  std::string owned;
  for (const uint16_t partition : options_.owned->list()) owned += (owned.empty() ? "" : ", ") + std::to_string(partition);
  return error_response(404, "unknown case '" + std::string(id.str()) + "' here (this instance owns partition(s) " +
                                 (owned.empty() ? std::string("none") : owned) +
                                 "; another instance may own the case's partition)");
}

HttpResponse CaseApi::get_case(const HttpRequest& request) const {
  if (!request.path.starts_with(kCasesPrefix)) return error_response(404, "not found");
  const std::string_view id_text = request.path.substr(kCasesPrefix.size());
  if (id_text.empty() || id_text.find('/') != std::string_view::npos) {
    return error_response(404, "no case id in '" + std::string(request.path) + "'");
  }
  auto params = parse_query(request.query);
  if (!params.ok()) return error_response(400, params.error().message);
  std::optional<Instant> wanted_as_of;
  for (const auto& [name, value] : *params) {
    if (name != "as_of") return error_response(400, "unknown query parameter '" + name + "' (known: as_of)");
    auto t = time_param(name, value);
    if (!t.ok()) return error_response(400, t.error().message);
    wanted_as_of = *t;
  }
  const CaseId id{std::string(id_text)};
  auto found = reader_.find_case(id);
  if (!found.ok()) return error_response(500, found.error().message);
  if (!*found) return unknown_case(id);
  const auto& stored = **found;
  if (options_.owned != nullptr && !options_.owned->owns(stored.partition)) {
    const auto owner = options_.owned->last_known_owner(stored.partition);
    const std::string where = owner ? "which is owned by instance " + *owner + " as of its last commit: ask it"
                                    : "which is not owned here: ask the instance that owns it";
    return json_response(kNotOwnedStatus, json{{"error", "case '" + std::string(id.str()) + "' is in partition " +
                                                             std::to_string(stored.partition) + ", " + where},
                                               {"case_id", std::string(id.str())},
                                               {"partition", stored.partition},
                                               {"owner", owner.value_or("not owned here")}});
  }
  auto record = decode_case_record(stored.encoded, id);
  if (!record.ok()) return error_response(500, record.error().message);
  auto checkpoint = reader_.checkpoint(stored.partition);
  if (!checkpoint.ok()) return error_response(500, checkpoint.error().message);
  if (wanted_as_of && *wanted_as_of > checkpoint->clock) {
    return error_response(400, "parameter 'as_of': " + format_rfc3339_utc(*wanted_as_of) +
                                   " is after the state's clock " + format_rfc3339_utc(checkpoint->clock));
  }
  const Instant as_of = wanted_as_of.value_or(checkpoint->clock);
  auto alerts = reader_.alerts_of_case(stored.partition, id);
  if (!alerts.ok()) return error_response(500, alerts.error().message);
  auto alerts_out = alerts_json(*alerts);
  if (!alerts_out.ok()) return error_response(500, alerts_out.error().message);

  // The case as it stood at as_of: only the events up to then (the log is in time order).
  std::span<const CaseEvent> log = record->events;
  const auto past = std::find_if(log.begin(), log.end(), [&](const CaseEvent& e) { return e.time > as_of; });
  log = log.first(static_cast<size_t>(past - log.begin()));
  // The snapshots keep the rule set (which the evaluation points into) and
  // the roster alive even if a reload replaces them meanwhile.
  const std::shared_ptr<const RuleSet> rules = rules_.get();
  const std::shared_ptr<const Roster> roster = roster_.get();
  const CaseEvaluation evaluation = evaluate_case(log, *rules);
  json events = json::array();
  for (const auto& e : log) events.push_back(event_json(e));
  return json_response(200, json{{"case_id", std::string(id.str())},
                                 {"partition", stored.partition},
                                 {"as_of", format_rfc3339_utc(as_of)},
                                 {"clock", format_rfc3339_utc(checkpoint->clock)},
                                 {"rules_version", rules->version},
                                 {"events", std::move(events)},
                                 {"rules", rules_json(evaluation, log, roster.get(), as_of)},
                                 {"alerts", std::move(alerts_out).value()}});
}

HttpResponse CaseApi::list_alerts(const HttpRequest& request) const {
  auto params = parse_query(request.query);
  if (!params.ok()) return error_response(400, params.error().message);
  StateReader::AlertFilter filter;
  AlertFields fields;
  size_t limit = kDefaultAlertPage;
  std::string cursor;
  bool csv = false;
  for (const auto& [name, value] : *params) {
    if (name == "state") {
      filter.state = state_from_name(value);
      if (!filter.state) {
        return error_response(400, "parameter 'state': '" + value + "' is not firing, resolved or retracted");
      }
    } else if (name == "department") {
      if (value.empty()) return error_response(400, "parameter 'department' is empty (no department is 'unassigned')");
      filter.department = value == kUnassignedDepartment ? std::string() : value;
    } else if (name == "rule" || name == "stage" || name == "severity" || name == "person") {
      if (value.empty()) return error_response(400, "parameter '" + name + "' is empty");
      (name == "rule" ? fields.rule : name == "stage" ? fields.stage : name == "severity" ? fields.severity
                                                                                           : fields.person) = value;
    } else if (name == "from" || name == "to") {
      auto t = time_param(name, value);
      if (!t.ok()) return error_response(400, t.error().message);
      (name == "from" ? fields.due_from : fields.due_to) = *t;
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
    } else if (name == "format") {
      if (value != "json" && value != "csv") {
        return error_response(400, "parameter 'format': '" + value + "' is not json or csv");
      }
      csv = value == "csv";
    } else {
      return error_response(400, "unknown query parameter '" + name +
                                     "' (known: state, department, rule, stage, severity, person, from, to, "
                                     "limit, cursor, format)");
    }
  }
  if (fields.due_from && fields.due_to && *fields.due_to <= *fields.due_from) {
    return error_response(400, "parameter 'to' must be after 'from'");
  }
  if (fields.any()) filter.accept = [&fields](const AlertIndexEntry& e) { return fields.matches(e); };
  if (options_.owned != nullptr) {
    filter.partition = [owned = options_.owned](uint16_t partition) { return owned->owns(partition); };
  }
  if (!csv) {
    auto page = reader_.list_alerts(filter, cursor, limit);
    if (!page.ok()) return error_response(500, page.error().message);
    auto alerts = alerts_json(page->alerts);
    if (!alerts.ok()) return error_response(500, alerts.error().message);
    return json_response(200, json{{"alerts", std::move(alerts).value()},
                                   {"next_cursor", page->next_cursor.empty() ? json(nullptr)
                                                                             : json(page->next_cursor)}});
  }
  // CSV: every matching alert in one answer (a spreadsheet has no cursor), in API order.
  if (params->contains("limit") || params->contains("cursor")) {
    return error_response(400, "parameters 'limit' and 'cursor' page JSON; format=csv answers every match");
  }
  std::string out(kAlertCsvHeader);
  size_t rows = 0;
  do {
    auto page = reader_.list_alerts(filter, cursor, kMaxAlertPage);
    if (!page.ok()) return error_response(500, page.error().message);
    rows += page->alerts.size();
    if (rows > kMaxCsvAlerts) {
      return error_response(400, "more than " + std::to_string(kMaxCsvAlerts) +
                                     " alerts match: narrow the filter for a CSV export");
    }
    for (const auto& entry : page->alerts) {
      auto one = alert_json(entry);
      if (!one.ok()) return error_response(500, one.error().message);
      out += alert_csv_row(*one);
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return HttpResponse{200, "text/csv; charset=utf-8", std::move(out)};
}

HttpResponse CaseApi::ledger(const HttpRequest& request) const {
  auto params = parse_query(request.query);
  if (!params.ok()) return error_response(400, params.error().message);
  std::optional<Instant> from, to;
  std::string format = "json";
  for (const auto& [name, value] : *params) {
    if (name == "from" || name == "to") {
      auto t = time_param(name, value);
      if (!t.ok()) return error_response(400, t.error().message);
      (name == "from" ? from : to) = *t;
    } else if (name == "format") {
      if (value != "json" && value != "csv") {
        return error_response(400, "parameter 'format': '" + value + "' is not json or csv");
      }
      format = value;
    } else {
      return error_response(400, "unknown query parameter '" + name + "' (known: from, to, format)");
    }
  }
  if (!from || !to) return error_response(400, "parameters 'from' and 'to' (RFC 3339) are required");
  if (*to <= *from) return error_response(400, "parameter 'to' must be after 'from'");
  auto parts = current_partitions();
  if (!parts.ok()) return error_response(500, parts.error().message);
  std::vector<std::unique_ptr<StateStore>> owned;
  std::vector<StateStore*> stores;
  for (const uint16_t partition : *parts) {
    owned.push_back(reader_.store_of(partition));
    stores.push_back(owned.back().get());
  }
  // The same computation as `slawatch report accountability --state` (src/report).
  auto report = state_accountability(rules_.get(), roster_.get(), stores, *from, *to);
  if (!report.ok()) return error_response(500, report.error().message);
  if (format == "csv") return HttpResponse{200, "text/csv; charset=utf-8", render_csv(*report)};
  return json_response(200, report_json(*report));
}

}  // namespace slawatch
