#pragma once
// The case API (read-only JSON over the operational HTTP server), which the
// workbench page (/ui/) is built on:
//   GET /api/v1/info        what the page needs first: time zone, rules, departments, clocks
//   GET /api/v1/cases/{id}  one case: events, each rule's cycles (with pauses) and
//                           stages as of the state's clock (or an earlier as_of),
//                           the department and people on duty at each due time, its alerts;
//                           421 when its partition is not owned by this instance
//   GET /api/v1/alerts      the latest state of every alert, filtered and paged; CSV
//   GET /api/v1/ledger      the accountability report for a period (src/report)
// It reads what the last commits wrote (StateReader) and evaluates cases under
// the rules and roster in force. Thread-safe: handlers keep no state of their
// own, so any number of HTTP threads may call them at once.
#include <string>
#include <string_view>

#include "api/rules_in_force.h"
#include "http/http_server.h"
#include "state/owned_partitions.h"
#include "state/state_reader.h"

namespace slawatch {

inline constexpr size_t kDefaultAlertPage = 100;
inline constexpr size_t kMaxAlertPage = 1000;
// A CSV export walks every page itself; beyond this many rows it asks for a narrower filter.
inline constexpr size_t kMaxCsvAlerts = 100000;
// The word for "no department", in filters and answers (as in the alerts' data.department).
inline constexpr std::string_view kUnassignedDepartment = "unassigned";

struct CaseApiOptions {
  std::string read_token;         // non-empty: every route wants "Authorization: Bearer <read_token>"
  std::string time_zone = "UTC";  // the city's IANA zone, handed to the page by /api/v1/info
  // The partitions whose stored cases are current here (must outlive the API);
  // null: every partition (one instance reading a file).
  const OwnedPartitions* owned = nullptr;
};

// A case of a partition this instance does not own (any more): its stored
// copy is stale, so GET /api/v1/cases/{id} answers 421 Misdirected Request
// ("ask another instance") with {"error", "case_id", "partition", "owner"}:
// owner is the instance that made the partition's latest changelog commit when
// known (OwnedPartitions::last_known_owner), else "not owned here".
inline constexpr int kNotOwnedStatus = 421;

class CaseApi {
 public:
  // All three must outlive the HTTP server the routes are added to.
  CaseApi(const StateReader& reader, const RulesInForce& rules, const RosterInForce& roster,
          CaseApiOptions options = {})
      : reader_(reader), rules_(rules), roster_(roster), options_(std::move(options)) {}

  void add_routes(HttpRoutes& routes) const;

  // The handlers, callable without a server (tests); the token is checked by
  // the routes add_routes registers.
  HttpResponse info(const HttpRequest& request) const;
  HttpResponse get_case(const HttpRequest& request) const;
  HttpResponse list_alerts(const HttpRequest& request) const;
  HttpResponse ledger(const HttpRequest& request) const;

 private:
  HttpResponse unknown_case(const CaseId& id) const;
  // The stored partitions this instance owns (/api/v1/info and the ledger read only those).
  Result<std::vector<uint16_t>> current_partitions() const;

  const StateReader& reader_;
  const RulesInForce& rules_;
  const RosterInForce& roster_;
  CaseApiOptions options_;
};

}  // namespace slawatch
