#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "audit/entry.h"

namespace slawatch::audit {
namespace {

struct Line {
  uint64_t offset = 0;
  std::string_view text;  // without '\n'
  bool complete = true;   // ended by '\n'
  Result<detail::ParsedEntry> entry = make_error("unread");
};

std::string seq_text(uint64_t seq) { return "seq " + std::to_string(seq); }

std::string line_text(uint64_t line, std::optional<uint64_t> seq) {
  return "line " + std::to_string(line) + (seq ? " (" + seq_text(*seq) + ")" : "");
}

}  // namespace

std::string Problem::to_string() const { return line_text(line, seq) + ": " + what; }

VerifyReport verify_chain(std::string_view content, const std::optional<Anchor>& anchor) {
  std::vector<Line> lines;
  for (size_t pos = 0; pos < content.size();) {
    const size_t end = content.find('\n', pos);
    Line line;
    line.offset = pos;
    line.complete = end != std::string_view::npos;
    line.text = content.substr(pos, (line.complete ? end : content.size()) - pos);
    if (line.complete) line.entry = detail::parse_entry(line.text);
    pos = line.complete ? end + 1 : content.size();
    lines.push_back(std::move(line));
  }
  // Where each seq first occurs (for telling a reorder from a removal) and
  // each hash (for naming inserted entries).
  std::unordered_map<uint64_t, size_t> line_of_seq;
  for (size_t i = lines.size(); i-- > 0;) {
    if (lines[i].entry.ok()) line_of_seq[lines[i].entry->seq] = i;
  }
  std::unordered_map<std::string, size_t> line_of_hash;  // valid entries seen so far

  VerifyReport report;
  bool anchor_found = false;
  std::optional<Problem> anchor_problem;
  auto fail = [&](size_t index, std::optional<uint64_t> seq, std::string what, bool torn = false) {
    report.problem = Problem{index + 1, seq, std::move(what), torn};
  };
  for (size_t i = 0; i < lines.size() && !report.problem; ++i) {
    const Line& line = lines[i];
    if (!line.complete) {
      fail(i, std::nullopt,
           "torn entry: the last line is incomplete (" + std::to_string(line.text.size()) +
               " bytes, no line end): a write was cut off; reopening the log for append cuts it off",
           true);
      break;
    }
    if (!line.entry.ok()) {
      fail(i, std::nullopt, line.entry.error().message);
      break;
    }
    const detail::ParsedEntry& e = *line.entry;
    const uint64_t expected = report.last_seq + 1;
    if (e.computed_hash != e.stored_hash) {
      fail(i, e.seq, "altered: its content does not match its hash");
      break;
    }
    if (auto copy = line_of_hash.find(e.stored_hash); copy != line_of_hash.end()) {
      fail(i, e.seq, "inserted: a copy of line " + std::to_string(copy->second + 1));
      break;
    }
    if (e.seq > expected) {
      auto later = line_of_seq.find(expected);
      if (later != line_of_seq.end() && later->second > i) {
        fail(i, e.seq, "reordered: comes before line " + std::to_string(later->second + 1) + " (" +
                           seq_text(expected) + ")");
      } else {
        fail(i, e.seq, "removed: " +
                           (e.seq == expected + 1 ? seq_text(expected)
                                                  : "seq " + std::to_string(expected) + " to " +
                                                        std::to_string(e.seq - 1)) +
                           " missing before it");
      }
      break;
    }
    if (e.seq < expected) {
      auto chained = line_of_hash.find(e.prev);
      if (chained != line_of_hash.end() && chained->second + 1 < i) {
        fail(chained->second + 1, lines[chained->second + 1].entry->seq,
             "inserted: line " + std::to_string(i + 1) + " (" + seq_text(e.seq) + ") chains to line " +
                 std::to_string(chained->second + 1) + ", skipping this entry");
      } else {
        fail(i, e.seq, "inserted or reordered: expected " + seq_text(expected) + ", " + seq_text(e.seq) +
                           " is already at line " + std::to_string(line_of_seq[e.seq] + 1));
      }
      break;
    }
    if (e.prev != report.head_hash) {
      if (i == 0) {
        fail(i, e.seq, "altered: the first entry's prev is not the genesis hash");
      } else {
        fail(i - 1, report.last_seq,
             "altered or replaced: its hash is not the prev of line " + std::to_string(i + 1) + " (" +
                 seq_text(e.seq) + ")");
      }
      break;
    }
    line_of_hash.emplace(e.stored_hash, i);
    report.entries += 1;
    report.last_seq = e.seq;
    report.head_hash = e.stored_hash;
    report.good_bytes = line.offset + line.text.size() + 1;
    report.last_by_kind[e.kind] = EntrySummary{e.seq, e.payload};
    if (anchor && !anchor_found) {
      if (anchor->seq ? e.seq == *anchor->seq : e.stored_hash == anchor->hash) {
        anchor_found = true;
        if (e.stored_hash != anchor->hash) {
          anchor_problem = Problem{i + 1, e.seq,
                                   "altered: hash " + e.stored_hash + " is not the anchored head " +
                                       anchor->hash + ": the log was rewritten from here or earlier"};
        }
      }
    }
  }
  if (anchor && !anchor_found) {
    const std::string named = anchor->seq ? "the anchored head (" + seq_text(*anchor->seq) + ", " + anchor->hash + ")"
                                          : "the expected head " + anchor->hash;
    anchor_problem = Problem{report.entries, report.entries ? std::optional(report.last_seq) : std::nullopt,
                             "removed: the log ends here but " + named +
                                 " is not in it: entries after this one were removed, or the log was rewritten"};
  }
  report.anchor_problem = std::move(anchor_problem);
  return report;
}

Result<Anchor> read_head_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read head file '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("seq") || !json["seq"].is_number_unsigned() ||
      !json.contains("hash") || !json["hash"].is_string() || !detail::is_hex_hash(json["hash"].get<std::string>())) {
    return make_error("head file '" + path + "' is not {\"seq\":N,\"hash\":\"<64 hex>\"}");
  }
  return Anchor{json["seq"].get<uint64_t>(), json["hash"].get<std::string>()};
}

}  // namespace slawatch::audit
