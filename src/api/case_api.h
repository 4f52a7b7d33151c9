#pragma once
// The case API (read-only JSON over the operational HTTP server):
//   GET /api/v1/cases/{id}  one case: events, each rule's cycles and stages
//                           as of the state's clock, and its alerts
//   GET /api/v1/alerts      the latest state of every alert, filtered and paged
// It reads what the last commit wrote (StateReader) and evaluates cases under
// the rules in force (RulesInForce). Thread-safe: handlers keep no state of
// their own, so any number of HTTP threads may call them at once.
#include <string_view>

#include "api/rules_in_force.h"
#include "http/http_server.h"
#include "state/state_reader.h"

namespace slawatch {

inline constexpr size_t kDefaultAlertPage = 100;
inline constexpr size_t kMaxAlertPage = 1000;

class CaseApi {
 public:
  // Both must outlive the HTTP server the routes are added to.
  CaseApi(const StateReader& reader, const RulesInForce& rules) : reader_(reader), rules_(rules) {}

  void add_routes(HttpRoutes& routes) const;

  // The handlers, callable without a server (tests).
  HttpResponse get_case(const HttpRequest& request) const;
  HttpResponse list_alerts(const HttpRequest& request) const;

 private:
  const StateReader& reader_;
  const RulesInForce& rules_;
};

}  // namespace slawatch
