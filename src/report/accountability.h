#pragma once
// The accountability ledger (docs/escalation.md, "Accountability report"):
// every breached stage (fired, not retracted) with due time in [from, to) is
// attributed to the case's department at due time and to that department's
// duty officer on duty then; returns and transfers in [from, to) likewise at
// their event time. Tallied per department and per person, and rendered as
// Markdown, CSV or HTML (inline SVG bar charts, no scripts).
// Single-threaded; the roster is shared read-only.
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "io/io.h"
#include "model/alert.h"
#include "model/event.h"
#include "roster/roster.h"
#include "rules/rules.h"
#include "state/store.h"

namespace slawatch {

inline constexpr std::string_view kNobodyOnDuty = "(nobody on duty)";
inline constexpr std::string_view kDisciplineRole = "city.discipline_inspection";

struct Tally {
  int64_t breaches = 0;
  std::map<std::string, int64_t> by_stage;  // stage name -> breaches
  Duration overdue_total{0};
  Duration overdue_max{0};
  int64_t still_open = 0;  // breaches whose cycle had not closed by the end of the input
  int64_t returns = 0;     // cases this unit sent back
  int64_t transfers = 0;   // cases dispatched away from this unit to another
  int64_t discipline = 0;  // breaches escalated to city.discipline_inspection
  std::set<std::string> cases;  // distinct cases with a breach
};

struct PersonTally {
  std::string department;
  std::string person;  // kNobodyOnDuty when the roster names nobody
  Tally tally;
};

struct AccountabilityReport {
  Instant from, to;
  Instant end;                      // the clock at the end of the input (>= to)
  std::vector<std::string> stages;  // breach stage names in rule order (early warnings left out)
  Tally total;
  int64_t person_times = 0;  // distinct (case, person) attributions, nobody excluded
  std::map<std::string, Tally> departments;
  std::vector<PersonTally> people;  // by department, then person
};

// Collects alerts and applied events as a replay produces them. Early
// warnings (deadline stages due before the target, e.g. `at: 80%`) are not
// breaches of anything and are left out.
class AccountabilityLedger {
 public:
  AccountabilityLedger(std::shared_ptr<const RuleSet> rules, std::shared_ptr<const Roster> roster, Instant from,
                       Instant to);
  void on_alert(const Alert& alert);
  void on_event(const CaseEvent& event);
  // `end`: the clock when the input ended; open breaches are overdue until then.
  AccountabilityReport build(Instant end) const;

 private:
  struct Breach {
    std::string case_id, stage, department, person;
    Instant due_at;
    std::optional<Instant> closed_at;
    bool discipline = false;
  };
  struct Move {  // a return or a transfer
    std::string case_id, department, person;
    bool is_return = false;
  };
  std::string duty_officer(const std::string& department, Instant t) const;
  bool is_early_warning(const RuleId& rule, const std::string& stage) const;
  bool in_window(Instant t) const { return t >= from_ && t < to_; }

  std::shared_ptr<const RuleSet> rules_;
  std::shared_ptr<const Roster> roster_;
  Instant from_, to_;
  std::map<std::string, Breach> breaches_;  // by alert id
  std::vector<Move> moves_;
};

// Replays `events` (JSON Lines) through the engine with the roster, up to
// `to` (further if the input goes on), and builds the report.
Result<AccountabilityReport> replay_accountability(std::shared_ptr<const RuleSet> rules,
                                                   std::shared_ptr<const Roster> roster, RecordSource& events,
                                                   Instant from, Instant to);

// The same report from a durable replay's state directory (`replay --state`):
// every case's stored event log is evaluated again (the engine's pure
// evaluator), up to the state's clock; no events file is needed.
Result<AccountabilityReport> state_accountability(std::shared_ptr<const RuleSet> rules,
                                                  std::shared_ptr<const Roster> roster, StateStore& store,
                                                  Instant from, Instant to);
// The same over several partitions' stores of one state (the live monitor on
// Kafka): each case as of its own partition's clock.
Result<AccountabilityReport> state_accountability(std::shared_ptr<const RuleSet> rules,
                                                  std::shared_ptr<const Roster> roster,
                                                  std::span<StateStore* const> stores, Instant from, Instant to);

std::string render_markdown(const AccountabilityReport& report);
std::string render_csv(const AccountabilityReport& report);
std::string render_html(const AccountabilityReport& report);

struct AccountabilityArgs {
  std::string events, state;  // exactly one: an events file or a state directory
  std::string rules, roster, from, to;
  std::string format = "md";  // md, csv or html
  std::string out = "-";
};
// `slawatch report accountability`: exit 0, 1 bad input, 2 usage.
int accountability_command(const AccountabilityArgs& args);

}  // namespace slawatch
