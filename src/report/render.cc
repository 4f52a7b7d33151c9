// The accountability report as Markdown, CSV and HTML. The rows and their
// columns are built once (`Table`) and every format writes the same table.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "model/html.h"
#include "report/accountability.h"

namespace slawatch {
namespace {

struct Row {
  std::string level;  // total, department, person
  std::string department;
  std::string person;
  const Tally* tally;
};

std::string seconds(Duration d) { return std::to_string(d.count() / 1000); }

// "2h05m" style, rounded down to the minute; "0m" for less.
std::string human(Duration d) {
  const int64_t minutes = d.count() / 60000;
  if (minutes < 60) return fmt::format("{}m", minutes);
  if (minutes < 24 * 60) return fmt::format("{}h{:02}m", minutes / 60, minutes % 60);
  return fmt::format("{}d{:02}h{:02}m", minutes / 1440, minutes / 60 % 24, minutes % 60);
}

int64_t stage_count(const Tally& t, const std::string& stage) {
  auto it = t.by_stage.find(stage);
  return it == t.by_stage.end() ? 0 : it->second;
}

// Most breaches first, then most overdue, then by name: who to talk to first.
bool worse(const Tally& a, const Tally& b) {
  if (a.breaches != b.breaches) return a.breaches > b.breaches;
  return a.overdue_total > b.overdue_total;
}

std::vector<Row> department_rows(const AccountabilityReport& r) {
  std::vector<Row> rows;
  for (const auto& [name, tally] : r.departments) rows.push_back(Row{"department", name, "", &tally});
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return worse(*a.tally, *b.tally); });
  return rows;
}

std::vector<Row> person_rows(const AccountabilityReport& r) {
  std::vector<Row> rows;
  for (const auto& p : r.people) rows.push_back(Row{"person", p.department, p.person, &p.tally});
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return worse(*a.tally, *b.tally); });
  return rows;
}

// Column headers after the row's names, and the cells of one tally.
std::vector<std::string> tally_headers(const AccountabilityReport& r, bool machine) {
  std::vector<std::string> h = {"cases", "breaches"};
  for (const auto& s : r.stages) h.push_back(machine ? "stage_" + s : s);
  if (machine) {
    h.insert(h.end(), {"overdue_total_seconds", "overdue_max_seconds", "still_open", "returns", "transfers",
                       "discipline_inspection"});
  } else {
    h.insert(h.end(), {"overdue total", "overdue max", "still open", "returns", "transfers", "discipline inspection"});
  }
  return h;
}

std::vector<std::string> tally_cells(const AccountabilityReport& r, const Tally& t, bool machine) {
  std::vector<std::string> c = {std::to_string(t.cases.size()), std::to_string(t.breaches)};
  for (const auto& s : r.stages) c.push_back(std::to_string(stage_count(t, s)));
  c.push_back(machine ? seconds(t.overdue_total) : human(t.overdue_total));
  c.push_back(machine ? seconds(t.overdue_max) : human(t.overdue_max));
  for (int64_t v : {t.still_open, t.returns, t.transfers, t.discipline}) c.push_back(std::to_string(v));
  return c;
}

std::string headline(const AccountabilityReport& r) {
  return fmt::format("{} cases, {} person-times: {} breached stages ({} escalated to discipline inspection), "
                     "{} returns, {} transfers",
                     r.total.cases.size(), r.person_times, r.total.breaches, r.total.discipline, r.total.returns,
                     r.total.transfers);
}

std::string period(const AccountabilityReport& r) {
  return "due from " + format_rfc3339_utc(r.from) + " to " + format_rfc3339_utc(r.to) +
         "; open breaches measured to " + format_rfc3339_utc(r.end);
}

std::string md_cell(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A horizontal bar chart of breaches, at most `limit` bars, as inline SVG.
std::string svg_bars(const std::string& title, const std::vector<std::pair<std::string, int64_t>>& bars,
                     size_t limit) {
  const size_t n = std::min(bars.size(), limit);
  int64_t max = 1;
  for (size_t i = 0; i < n; ++i) max = std::max(max, bars[i].second);
  constexpr int kLabel = 340, kWidth = 420, kBar = 18, kGap = 6;
  const int height = static_cast<int>(n) * (kBar + kGap) + 30;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\">\n"
      "<text x=\"0\" y=\"16\" font-weight=\"bold\">{}</text>\n",
      kLabel + kWidth + 60, height, html_escape(title), html_escape(title));
  for (size_t i = 0; i < n; ++i) {
    const int y = 26 + static_cast<int>(i) * (kBar + kGap);
    const int w = static_cast<int>(std::lround(static_cast<double>(bars[i].second) * kWidth / static_cast<double>(max)));
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>"
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#c0392b\"/>"
        "<text x=\"{}\" y=\"{}\">{}</text>\n",
        kLabel - 6, y + 14, html_escape(bars[i].first), kLabel, y, w, kBar, kLabel + w + 4, y + 14, bars[i].second);
  }
  return svg + "</svg>\n";
}

}  // namespace

std::string render_markdown(const AccountabilityReport& r) {
  std::string out = "# Accountability report\n\n" + period(r) + ".\n\n**" + headline(r) + ".**\n";
  auto table = [&](const std::string& title, const std::vector<Row>& rows, bool with_person) {
    out += "\n## " + title + "\n\n|";
    std::vector<std::string> headers = {"department"};
    if (with_person) headers.insert(headers.begin(), "person");
    for (const auto& h : tally_headers(r, false)) headers.push_back(h);
    for (const auto& h : headers) out += " " + h + " |";
    out += "\n|";
    for (size_t i = 0; i < headers.size(); ++i) out += i < (with_person ? 2u : 1u) ? "---|" : "---:|";
    out += "\n";
    for (const auto& row : rows) {
      out += "|";
      if (with_person) out += " " + md_cell(row.person) + " |";
      out += " " + md_cell(row.department) + " |";
      for (const auto& c : tally_cells(r, *row.tally, false)) out += " " + c + " |";
      out += "\n";
    }
  };
  table("By department", department_rows(r), false);
  table("By person (duty officer on duty at the due time)", person_rows(r), true);
  return out;
}

std::string render_csv(const AccountabilityReport& r) {
  std::string out = "level,department,person";
  for (const auto& h : tally_headers(r, true)) out += "," + h;
  out += "\n";
  std::vector<Row> rows = {Row{"total", "", "", &r.total}};
  for (auto& row : department_rows(r)) rows.push_back(row);
  for (auto& row : person_rows(r)) rows.push_back(row);
  for (const auto& row : rows) {
    out += row.level + "," + csv_cell(row.department) + "," + csv_cell(row.person);
    for (const auto& c : tally_cells(r, *row.tally, true)) out += "," + c;
    out += "\n";
  }
  return out;
}

std::string render_html(const AccountabilityReport& r) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Accountability report</title>\n"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:2px 8px}td.n{text-align:right}th{background:#eee}</style>\n"
      "</head><body>\n<h1>Accountability report</h1>\n<p>" +
      html_escape(period(r)) + ".</p>\n<p><strong>" + html_escape(headline(r)) + ".</strong></p>\n";
  const auto departments = department_rows(r);
  const auto people = person_rows(r);
  std::vector<std::pair<std::string, int64_t>> bars;
  for (const auto& row : departments) bars.emplace_back(row.department, row.tally->breaches);
  out += svg_bars("Breached stages by department (top 15)", bars, 15);
  bars.clear();
  for (const auto& row : people) bars.emplace_back(row.person + " (" + row.department + ")", row.tally->breaches);
  out += svg_bars("Breached stages by duty officer (top 15)", bars, 15);
  auto table = [&](const std::string& title, const std::vector<Row>& rows, bool with_person) {
    out += "<h2>" + html_escape(title) + "</h2>\n<table>\n<tr>";
    if (with_person) out += "<th>person</th>";
    out += "<th>department</th>";
    for (const auto& h : tally_headers(r, false)) out += "<th>" + html_escape(h) + "</th>";
    out += "</tr>\n";
    for (const auto& row : rows) {
      out += "<tr>";
      if (with_person) out += "<td>" + html_escape(row.person) + "</td>";
      out += "<td>" + html_escape(row.department) + "</td>";
      for (const auto& c : tally_cells(r, *row.tally, false)) out += "<td class=\"n\">" + c + "</td>";
      out += "</tr>\n";
    }
    out += "</table>\n";
  };
  table("By department", departments, false);
  table("By person (duty officer on duty at the due time)", people, true);
  return out + "</body></html>\n";
}

}  // namespace slawatch
