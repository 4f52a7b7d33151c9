// Renders a BacktestReport as Markdown, JSON or a self-contained HTML page
// (inline SVG, no scripts). Pure functions of the report.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/html.h"
#include "backtest/backtest.h"

namespace slawatch {
namespace {

std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string signed_grouped(int64_t n) {
  if (n == 0) return "0";
  return (n > 0 ? "+" : "-") + grouped(static_cast<uint64_t>(n > 0 ? n : -n));
}

std::string percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "-";
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << 100.0 * static_cast<double>(part) / static_cast<double>(whole) << "%";
  return out.str();
}

std::string opt_duration(const std::optional<Duration>& d) { return d ? format_duration(*d) : "-"; }

// Response times for reading: whole seconds from a minute up (json keeps milliseconds).
std::string readable(Duration d) {
  if (d >= std::chrono::minutes(1)) d = std::chrono::floor<std::chrono::seconds>(d);
  return format_duration(d);
}

std::string department_name(const std::string& d) { return d.empty() ? "unassigned" : d; }

// The stage a rule's headline is about: the one at the baseline target (the
// breach proper), else the first stage whose outcome changes, else the first.
const StageComparison* main_stage(const RuleComparison& rule) {
  if (rule.stages.empty()) return nullptr;
  const auto target = rule.baseline_target ? rule.baseline_target : rule.candidate_target;
  for (const auto& s : rule.stages) {
    if (target && (s.baseline_offset == target || (!s.baseline_offset && s.candidate_offset == target))) return &s;
  }
  for (const auto& s : rule.stages) {
    if (s.total.gone > 0 || s.total.added > 0) return &s;
  }
  return &rule.stages.front();
}

// Departments by how much the change moves them (largest first), ties by name.
std::vector<std::pair<std::string, BreachCounts>> departments_by_change(const StageComparison& stage) {
  std::vector<std::pair<std::string, BreachCounts>> out(stage.departments.begin(), stage.departments.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::llabs(a.second.difference()) > std::llabs(b.second.difference());
  });
  return out;
}

bool changes(const RuleComparison& rule) {
  if (rule.baseline_target != rule.candidate_target || rule.in_baseline != rule.in_candidate) return true;
  for (const auto& s : rule.stages) {
    if (s.total.gone > 0 || s.total.added > 0 || s.baseline_offset != s.candidate_offset) return true;
  }
  return false;
}

nlohmann::json duration_json(const std::optional<Duration>& d) {
  if (!d) return nullptr;
  return {{"ms", d->count()}, {"text", format_duration(*d)}};
}

nlohmann::json counts_json(const BreachCounts& c) {
  return {{"baseline", c.baseline}, {"candidate", c.candidate}, {"difference", c.difference()},
          {"gone", c.gone}, {"added", c.added}};
}

nlohmann::json times_json(const std::optional<ResponseTimes>& t) {
  if (!t) return nullptr;
  return {{"closed_cycles", t->closed},
          {"open_cycles", t->still_open},
          {"p50_ms", t->p50.count()},
          {"p90_ms", t->p90.count()},
          {"p99_ms", t->p99.count()},
          {"max_ms", t->max.count()},
          {"within_baseline_target", t->within_baseline},
          {"within_candidate_target", t->within_candidate},
          {"share_within_baseline_target", t->closed ? double(t->within_baseline) / double(t->closed) : 0.0},
          {"share_within_candidate_target", t->closed ? double(t->within_candidate) / double(t->closed) : 0.0},
          {"buckets", t->buckets}};
}

// Histogram bucket label: "[30m, 35m)"; the last is "35m+".
std::string bucket_label(const RuleComparison& rule, size_t i, size_t count) {
  const Duration lo = rule.bucket_width * static_cast<int64_t>(i);
  if (i + 1 == count) return format_duration(lo) + "+";
  return "[" + format_duration(lo) + ", " + format_duration(lo + rule.bucket_width) + ")";
}

const ResponseTimes* shown_times(const RuleComparison& rule) {
  if (rule.baseline_times) return &*rule.baseline_times;
  if (rule.candidate_times) return &*rule.candidate_times;
  return nullptr;
}

// --- SVG -------------------------------------------------------------------

// Histogram of the baseline's response times (bars; the candidate's as an
// outline when its cycles differ) with a line at each target.
std::string histogram_svg(const RuleComparison& rule) {
  const ResponseTimes* base = shown_times(rule);
  if (base == nullptr || base->buckets.empty()) return "";
  const ResponseTimes* cand = rule.candidate_times && rule.baseline_times &&
                                      rule.candidate_times->buckets != rule.baseline_times->buckets
                                  ? &*rule.candidate_times
                                  : nullptr;
  const size_t n = base->buckets.size();
  const double W = 720, H = 260, left = 60, right = 20, top = 30, bottom = 50;
  const double plot_w = W - left - right, plot_h = H - top - bottom;
  uint64_t peak = 1;
  for (auto v : base->buckets) peak = std::max(peak, v);
  if (cand) {
    for (auto v : cand->buckets) peak = std::max(peak, v);
  }
  const double bar_w = plot_w / static_cast<double>(n);
  auto x_of = [&](Duration d) {
    const double buckets = static_cast<double>(d.count()) / static_cast<double>(rule.bucket_width.count());
    return left + std::min(buckets, static_cast<double>(n)) * bar_w;
  };
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(1);
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" role=\"img\" aria-label=\"response times of " << html_escape(rule.id) << "\">\n";
  s << "<text x=\"" << left << "\" y=\"18\" font-size=\"13\">" << html_escape(rule.id)
    << ": response time (closed cycles, " << grouped(base->closed) << ")</text>\n";
  s << "<line x1=\"" << left << "\" y1=\"" << top + plot_h << "\" x2=\"" << left + plot_w << "\" y2=\"" << top + plot_h
    << "\" stroke=\"#333\"/>\n";
  s << "<text x=\"" << left - 6 << "\" y=\"" << top + 4 << "\" font-size=\"10\" text-anchor=\"end\">" << grouped(peak)
    << "</text>\n";
  for (size_t i = 0; i < n; ++i) {
    const double h = plot_h * static_cast<double>(base->buckets[i]) / static_cast<double>(peak);
    s << "<rect x=\"" << left + bar_w * static_cast<double>(i) + 0.5 << "\" y=\"" << top + plot_h - h << "\" width=\""
      << std::max(bar_w - 1, 0.5) << "\" height=\"" << h << "\" fill=\"#7a9cc6\"><title>"
      << html_escape(bucket_label(rule, i, n)) << ": " << grouped(base->buckets[i]) << "</title></rect>\n";
    if (cand) {
      const double ch = plot_h * static_cast<double>(cand->buckets[i]) / static_cast<double>(peak);
      s << "<rect x=\"" << left + bar_w * static_cast<double>(i) + 0.5 << "\" y=\"" << top + plot_h - ch
        << "\" width=\"" << std::max(bar_w - 1, 0.5) << "\" height=\"" << ch
        << "\" fill=\"none\" stroke=\"#2a7\" stroke-width=\"1\"/>\n";
    }
    if (i % std::max<size_t>(n / 6, 1) == 0) {
      s << "<text x=\"" << left + bar_w * static_cast<double>(i) << "\" y=\"" << top + plot_h + 14
        << "\" font-size=\"10\">" << format_duration(rule.bucket_width * static_cast<int64_t>(i)) << "</text>\n";
    }
  }
  auto threshold = [&](const std::optional<Duration>& d, const char* color, const char* name, double dy,
                       uint64_t within) {
    if (!d) return;
    const double x = x_of(*d);
    s << "<line x1=\"" << x << "\" y1=\"" << top << "\" x2=\"" << x << "\" y2=\"" << top + plot_h << "\" stroke=\""
      << color << "\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n";
    s << "<text x=\"" << x + 4 << "\" y=\"" << top + dy << "\" font-size=\"11\" fill=\"" << color << "\">" << name << " "
      << format_duration(*d) << ": " << percent(within, base->closed) << " within</text>\n";
  };
  threshold(rule.baseline_target, "#c33", "baseline", 12, base->within_baseline);
  threshold(rule.candidate_target, "#2a7", "candidate", 28, base->within_candidate);
  s << "<text x=\"" << left << "\" y=\"" << H - 10 << "\" font-size=\"10\">p50 " << readable(base->p50)
    << ", p90 " << readable(base->p90) << ", p99 " << readable(base->p99) << "; bucket "
    << format_duration(rule.bucket_width) << ", last bucket is everything beyond"
    << (cand ? "; green outline: candidate's cycles" : "") << "</text>\n";
  s << "</svg>\n";
  return s.str();
}

// Per-department change of one stage's breaches: a bar left (fewer) or right
// (more) of the zero line, the largest changes first.
std::string departments_svg(const StageComparison& stage, size_t limit) {
  auto departments = departments_by_change(stage);
  departments.erase(std::remove_if(departments.begin(), departments.end(),
                                   [](const auto& d) { return d.second.difference() == 0; }),
                    departments.end());
  if (departments.empty()) return "";
  const size_t shown = std::min(limit, departments.size());
  int64_t peak = 1;
  for (size_t i = 0; i < shown; ++i) peak = std::max<int64_t>(peak, std::llabs(departments[i].second.difference()));
  const double row = 18, W = 720, label_w = 160, top = 24;
  const double half = (W - label_w - 80) / 2, zero = label_w + half;
  const double H = top + row * static_cast<double>(shown) + 10;
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(1);
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" role=\"img\" aria-label=\"breach change by department\">\n";
  s << "<text x=\"0\" y=\"14\" font-size=\"13\">Standing '" << html_escape(stage.name)
    << "' alerts by department, candidate - baseline (green: fewer), " << shown << " of " << departments.size()
    << " departments that change</text>\n";
  s << "<line x1=\"" << zero << "\" y1=\"" << top - 4 << "\" x2=\"" << zero << "\" y2=\"" << H - 6
    << "\" stroke=\"#333\"/>\n";
  for (size_t i = 0; i < shown; ++i) {
    const auto& [name, c] = departments[i];
    const double y = top + row * static_cast<double>(i);
    const int64_t diff = c.difference();
    const double w = half * static_cast<double>(std::llabs(diff)) / static_cast<double>(peak);
    const double x = diff < 0 ? zero - w : zero;
    s << "<text x=\"" << label_w - 6 << "\" y=\"" << y + 12 << "\" font-size=\"11\" text-anchor=\"end\">"
      << html_escape(department_name(name)) << "</text>\n";
    s << "<rect x=\"" << x << "\" y=\"" << y + 2 << "\" width=\"" << std::max(w, 1.0) << "\" height=\"" << row - 5
      << "\" fill=\"" << (diff < 0 ? "#2a7" : "#c33") << "\"><title>" << html_escape(department_name(name)) << ": "
      << grouped(c.baseline) << " -> " << grouped(c.candidate) << "</title></rect>\n";
    // The number sits on the other side of the zero line, clear of the bar and the names.
    s << "<text x=\"" << (diff < 0 ? zero + 4 : zero - 4) << "\" y=\"" << y + 12 << "\" font-size=\"11\" text-anchor=\""
      << (diff < 0 ? "start" : "end") << "\">" << signed_grouped(diff) << " (" << grouped(c.baseline) << " -> "
      << grouped(c.candidate) << ")</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

std::string ids_text(const std::vector<std::string>& ids, uint64_t total) {
  if (ids.empty()) return "-";
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  if (total > ids.size()) out += " (first " + std::to_string(ids.size()) + " of " + grouped(total) + ")";
  return out;
}

}  // namespace

std::string headline(const RuleComparison& rule) {
  const StageComparison* stage = main_stage(rule);
  std::string out = rule.id;
  if (stage != nullptr) out += "/" + stage->name;
  out += ": ";
  if (!rule.in_baseline) out += "new in the candidate; ";
  if (!rule.in_candidate) out += "removed in the candidate; ";
  if (rule.baseline_target || rule.candidate_target) {
    out += rule.baseline_target == rule.candidate_target
               ? "target " + opt_duration(rule.baseline_target) + " (unchanged), "
               : opt_duration(rule.baseline_target) + " -> " + opt_duration(rule.candidate_target) + ", ";
  }
  if (stage == nullptr) return out + "no stages.";
  const BreachCounts& c = stage->total;
  if (c.gone == 0 && c.added == 0) return out + "no change (" + grouped(c.baseline) + " breaches).";
  out += grouped(c.gone) + " of " + grouped(c.baseline) + " breaches disappear";
  if (c.added > 0) out += ", " + grouped(c.added) + " new";
  out += " (" + grouped(c.baseline) + " -> " + grouped(c.candidate) + ", " + signed_grouped(c.difference());
  if (c.baseline > 0) {
    std::ostringstream pct;
    pct.setf(std::ios::fixed);
    pct.precision(1);
    pct << 100.0 * static_cast<double>(c.difference()) / static_cast<double>(c.baseline);
    out += ", " + std::string(c.difference() > 0 ? "+" : "") + pct.str() + "%";
  }
  out += ")";
  auto departments = departments_by_change(*stage);
  std::string where;
  for (size_t i = 0; i < departments.size() && i < 3; ++i) {
    if (departments[i].second.difference() == 0) break;
    where += (where.empty() ? "" : ", ") + department_name(departments[i].first) + " (" +
             signed_grouped(departments[i].second.difference()) + ")";
  }
  if (!where.empty()) out += "; most in " + where;
  return out + ".";
}

std::string render_markdown(const BacktestReport& r) {
  std::ostringstream s;
  s << "# Backtest: " << r.baseline.rules_path << " vs " << r.candidate.rules_path << "\n\n";
  bool any = false;
  for (const auto& rule : r.rules) {
    if (!changes(rule)) continue;
    s << "- **" << headline(rule) << "**\n";
    any = true;
  }
  if (!any) s << "- No rule changes its outcome.\n";
  s << "\nEvents `" << r.events_path << "`, final clock " << format_rfc3339_utc(r.final_clock) << ", state "
    << r.store << ", " << std::fixed;
  s.precision(1);
  s << r.seconds << " s.\n\n";
  s << "| side | rules | version | records | applied | dead letters | fired | retracted | seconds |\n"
       "|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const SideSummary* side : {&r.baseline, &r.candidate}) {
    s << "| " << (side == &r.baseline ? "baseline" : "candidate") << " | `" << side->rules_path << "` | "
      << side->version << " | " << grouped(side->records) << " | " << grouped(side->applied) << " | "
      << grouped(side->dead_letters) << " | " << grouped(side->fired) << " | " << grouped(side->retracted) << " | "
      << side->seconds << " |\n";
  }
  for (const auto& rule : r.rules) {
    s << "\n## " << rule.id << " (" << rule.kind << ")\n\n";
    if (!rule.title.empty()) s << rule.title << ".";
    if (rule.kind == "deadline") {
      s << " Target " << opt_duration(rule.baseline_target) << " -> " << opt_duration(rule.candidate_target)
        << ", calendar " << (rule.baseline_calendar.empty() ? "-" : rule.baseline_calendar);
      if (rule.candidate_calendar != rule.baseline_calendar) s << " -> " << rule.candidate_calendar;
      s << ".";
    }
    s << "\n\n| stage | offset (baseline -> candidate) | breaches baseline | candidate | difference | gone | new |\n"
         "|---|---|---:|---:|---:|---:|---:|\n";
    for (const auto& st : rule.stages) {
      s << "| " << st.name << " | " << opt_duration(st.baseline_offset) << " -> " << opt_duration(st.candidate_offset)
        << " | " << grouped(st.total.baseline) << " | " << grouped(st.total.candidate) << " | "
        << signed_grouped(st.total.difference()) << " | " << grouped(st.total.gone) << " | " << grouped(st.total.added)
        << " |\n";
    }
    for (const auto& st : rule.stages) {
      if (st.total.gone == 0 && st.total.added == 0) continue;
      s << "\n**" << st.name << "**: cases that stop breaching: " << ids_text(st.gone_cases, st.total.gone)
        << "; cases that start breaching: " << ids_text(st.added_cases, st.total.added) << ".\n\n";
      auto departments = departments_by_change(st);
      s << "| department | baseline | candidate | difference |\n|---|---:|---:|---:|\n";
      size_t shown = 0;
      for (const auto& [name, c] : departments) {
        if (c.difference() == 0 || shown == 15) break;
        ++shown;
        s << "| " << department_name(name) << " | " << grouped(c.baseline) << " | " << grouped(c.candidate) << " | "
          << signed_grouped(c.difference()) << " |\n";
      }
      if (departments.size() > shown) s << "\n(" << departments.size() << " departments in all; json has every one.)\n";
    }
    if (rule.kind != "deadline") continue;
    s << "\nResponse times (cycle start to stop, as the rule counts time):\n\n"
         "| side | closed cycles | open at end | p50 | p90 | p99 | within baseline target ("
      << opt_duration(rule.baseline_target) << ") | within candidate target (" << opt_duration(rule.candidate_target)
      << ") |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto* t : {&rule.baseline_times, &rule.candidate_times}) {
      if (!*t) continue;
      const ResponseTimes& x = **t;
      s << "| " << (t == &rule.baseline_times ? "baseline" : "candidate") << " | " << grouped(x.closed) << " | "
        << grouped(x.still_open) << " | " << readable(x.p50) << " | " << readable(x.p90) << " | "
        << readable(x.p99) << " | " << percent(x.within_baseline, x.closed) << " | "
        << percent(x.within_candidate, x.closed) << " |\n";
    }
    if (const ResponseTimes* t = shown_times(rule)) {
      s << "\n| response time | cycles |\n|---|---:|\n";
      for (size_t i = 0; i < t->buckets.size(); ++i) {
        s << "| " << bucket_label(rule, i, t->buckets.size()) << " | " << grouped(t->buckets[i]) << " |\n";
      }
    }
  }
  return s.str();
}

std::string render_json(const BacktestReport& r) {
  nlohmann::json j;
  j["events"] = r.events_path;
  j["final_clock"] = format_rfc3339_utc(r.final_clock);
  j["store"] = r.store;
  j["seconds"] = r.seconds;
  for (const SideSummary* side : {&r.baseline, &r.candidate}) {
    j[side == &r.baseline ? "baseline" : "candidate"] = {
        {"rules", side->rules_path}, {"version", side->version},       {"records", side->records},
        {"applied", side->applied},  {"duplicates", side->duplicates}, {"dead_letters", side->dead_letters},
        {"fired", side->fired},      {"retracted", side->retracted},   {"seconds", side->seconds}};
  }
  j["summary"] = nlohmann::json::array();
  j["rules"] = nlohmann::json::array();
  for (const auto& rule : r.rules) {
    if (changes(rule)) j["summary"].push_back(headline(rule));
    nlohmann::json jr{{"id", rule.id},
                      {"kind", rule.kind},
                      {"title", rule.title},
                      {"in_baseline", rule.in_baseline},
                      {"in_candidate", rule.in_candidate},
                      {"headline", headline(rule)},
                      {"stages", nlohmann::json::array()}};
    if (rule.kind == "deadline") {
      jr["baseline_target"] = duration_json(rule.baseline_target);
      jr["candidate_target"] = duration_json(rule.candidate_target);
      jr["baseline_calendar"] = rule.baseline_calendar;
      jr["candidate_calendar"] = rule.candidate_calendar;
      jr["response_times"] = {{"bucket_width_ms", rule.bucket_width.count()},
                              {"baseline", times_json(rule.baseline_times)},
                              {"candidate", times_json(rule.candidate_times)}};
    }
    for (const auto& st : rule.stages) {
      nlohmann::json js = counts_json(st.total);
      js["name"] = st.name;
      js["baseline_offset"] = duration_json(st.baseline_offset);
      js["candidate_offset"] = duration_json(st.candidate_offset);
      js["gone_cases_sample"] = st.gone_cases;
      js["added_cases_sample"] = st.added_cases;
      js["departments"] = nlohmann::json::object();
      for (const auto& [name, c] : st.departments) js["departments"][name] = counts_json(c);
      jr["stages"].push_back(std::move(js));
    }
    j["rules"].push_back(std::move(jr));
  }
  return j.dump(2) + "\n";
}

std::string render_html(const BacktestReport& r) {
  std::ostringstream s;
  std::vector<std::string> headlines;
  for (const auto& rule : r.rules) {
    if (changes(rule)) headlines.push_back(headline(rule));
  }
  s << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Backtest: "
    << html_escape(headlines.empty() ? "no rule changes its outcome" : headlines.front()) << "</title>\n"
    << "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
       "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
       "td:first-child,th:first-child{text-align:left}.summary{font-size:1.15em}code{background:#f4f4f4}</style>\n"
    << "</head><body>\n<h1>Backtest: " << html_escape(r.baseline.rules_path) << " &rarr; "
    << html_escape(r.candidate.rules_path) << "</h1>\n<ul class=\"summary\">\n";
  if (headlines.empty()) s << "<li>No rule changes its outcome.</li>\n";
  for (const auto& h : headlines) s << "<li><strong>" << html_escape(h) << "</strong></li>\n";
  s << "</ul>\n<p>Events <code>" << html_escape(r.events_path) << "</code>, " << grouped(r.baseline.records)
    << " records, final clock " << format_rfc3339_utc(r.final_clock) << "; baseline rules version "
    << html_escape(r.baseline.version) << ", candidate " << html_escape(r.candidate.version) << ".</p>\n";
  for (const auto& rule : r.rules) {
    s << "<h2>" << html_escape(rule.id) << " <small>(" << rule.kind << ")</small></h2>\n<p>"
      << html_escape(headline(rule)) << "</p>\n";
    s << "<table><tr><th>stage</th><th>offset</th><th>baseline</th><th>candidate</th><th>difference</th>"
         "<th>gone</th><th>new</th></tr>\n";
    for (const auto& st : rule.stages) {
      s << "<tr><td>" << html_escape(st.name) << "</td><td>" << opt_duration(st.baseline_offset) << " &rarr; "
        << opt_duration(st.candidate_offset) << "</td><td>" << grouped(st.total.baseline) << "</td><td>"
        << grouped(st.total.candidate) << "</td><td>" << signed_grouped(st.total.difference()) << "</td><td>"
        << grouped(st.total.gone) << "</td><td>" << grouped(st.total.added) << "</td></tr>\n";
    }
    s << "</table>\n";
    if (rule.kind == "deadline") s << histogram_svg(rule);
    if (const StageComparison* stage = main_stage(rule)) {
      s << departments_svg(*stage, 25);
      if (!stage->gone_cases.empty()) {
        s << "<p>Cases that stop breaching (" << html_escape(stage->name)
          << "): " << html_escape(ids_text(stage->gone_cases, stage->total.gone)) << "</p>\n";
      }
      if (!stage->added_cases.empty()) {
        s << "<p>Cases that start breaching (" << html_escape(stage->name)
          << "): " << html_escape(ids_text(stage->added_cases, stage->total.added)) << "</p>\n";
      }
    }
  }
  s << "</body></html>\n";
  return s.str();
}

}  // namespace slawatch
