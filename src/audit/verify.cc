#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "audit/entry.h"

namespace slawatch::audit {
namespace {

// What a first look at each line keeps (a few words per line, so a large log
// is verified without holding its entries): where it is and the seq it claims.
struct Line {
  uint64_t offset = 0;
  uint64_t size = 0;     // without '\n'
  bool complete = true;  // ended by '\n'
  uint64_t seq = 0;      // as peeked; 0 when the line does not start like an entry
};

std::string seq_text(uint64_t seq) { return "seq " + std::to_string(seq); }

std::string line_text(uint64_t line, std::optional<uint64_t> seq) {
  return "line " + std::to_string(line) + (seq ? " (" + seq_text(*seq) + ")" : "");
}

// The first 16 hex digits of a hash as a number: the key of the index of
// hashes seen (hits are confirmed against the full hash).
uint64_t hash_key(std::string_view hex) { return std::stoull(std::string(hex.substr(0, 16)), nullptr, 16); }

}  // namespace

std::string Problem::to_string() const {
  return (line == 0 ? std::string("empty log") : line_text(line, seq)) + ": " + what;
}

VerifyReport verify_chain(std::string_view content, const std::optional<Anchor>& anchor) {
  std::vector<Line> lines;
  std::unordered_map<uint64_t, size_t> line_of_seq;  // first line claiming each seq
  for (size_t pos = 0; pos < content.size();) {
    const size_t end = content.find('\n', pos);
    Line line;
    line.offset = pos;
    line.complete = end != std::string_view::npos;
    line.size = (line.complete ? end : content.size()) - pos;
    line.seq = detail::peek_seq(content.substr(pos, line.size));
    if (line.seq != 0) line_of_seq.emplace(line.seq, lines.size());
    pos = line.complete ? end + 1 : content.size();
    lines.push_back(line);
  }
  const auto text_of = [&](size_t i) { return content.substr(lines[i].offset, lines[i].size); };
  std::unordered_multimap<uint64_t, size_t> line_of_hash;  // valid entries so far
  const auto find_hash = [&](std::string_view hash) -> std::optional<size_t> {
    auto [first, last] = line_of_hash.equal_range(hash_key(hash));
    for (auto it = first; it != last; ++it) {
      if (detail::stored_hash_of(text_of(it->second)) == hash) return it->second;
    }
    return std::nullopt;
  };

  VerifyReport report;
  std::unordered_map<std::string, size_t> last_line_of_kind;
  // The genesis (seq 0) is the head of an empty log: found before any entry.
  bool anchor_found = anchor && anchor->seq == 0u && anchor->hash == kGenesisHash;
  uint64_t anchored_seq = 0;
  size_t anchored_line = 0;  // 1-based; 0: the genesis
  std::optional<Problem> anchor_problem;
  auto fail = [&](size_t index, std::optional<uint64_t> seq, std::string what, bool torn = false) {
    report.problem = Problem{index + 1, seq, std::move(what), torn};
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].complete) {
      fail(i, std::nullopt,
           "torn entry: the last line is incomplete (" + std::to_string(lines[i].size) +
               " bytes, no line end): a write was cut off; reopening the log for append cuts it off",
           true);
      break;
    }
    auto parsed = detail::parse_entry(text_of(i));
    if (!parsed.ok()) {
      fail(i, std::nullopt, parsed.error().message);
      break;
    }
    const detail::ParsedEntry& e = *parsed;
    const uint64_t expected = report.last_seq + 1;
    if (e.computed_hash != e.stored_hash) {
      fail(i, e.seq, "altered: its content does not match its hash");
      break;
    }
    if (auto copy = find_hash(e.stored_hash)) {
      fail(i, e.seq, "inserted: a copy of line " + std::to_string(*copy + 1));
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
      auto chained = find_hash(e.prev);
      if (chained && *chained + 1 < i) {
        fail(*chained + 1, lines[*chained + 1].seq,
             "inserted: line " + std::to_string(i + 1) + " (" + seq_text(e.seq) + ") chains to line " +
                 std::to_string(*chained + 1) + ", skipping this entry");
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
    line_of_hash.emplace(hash_key(e.stored_hash), i);
    report.entries += 1;
    report.last_seq = e.seq;
    report.head_hash = std::string(e.stored_hash);
    report.good_bytes = lines[i].offset + lines[i].size + 1;
    last_line_of_kind[std::string(e.kind)] = i;
    if (anchor && !anchor_found && (anchor->seq ? e.seq == *anchor->seq : e.stored_hash == anchor->hash)) {
      anchor_found = true;
      anchored_seq = e.seq;
      anchored_line = i + 1;
      report.anchored_bytes = report.good_bytes;
      if (e.stored_hash != anchor->hash) {
        anchor_problem = Problem{i + 1, e.seq,
                                 "altered: hash " + report.head_hash + " is not the anchored head " + anchor->hash +
                                     ": the log was rewritten from here or earlier"};
      }
    }
  }
  for (const auto& [kind, i] : last_line_of_kind) {
    const auto e = detail::parse_entry(text_of(i));
    report.last_by_kind[kind] = EntrySummary{e->seq, detail::normalized_payload(e->payload)};
  }
  if (anchor && !anchor_found) {
    const std::string named = anchor->seq ? "the anchored head (" + seq_text(*anchor->seq) + ", " + anchor->hash + ")"
                                          : "the expected head " + anchor->hash;
    anchor_problem = Problem{report.entries, report.entries ? std::optional(report.last_seq) : std::nullopt,
                             "removed: the log ends here but " + named +
                                 " is not in it: entries after this one were removed, or the log was rewritten"};
  }
  if (anchor && anchor_found && !anchor_problem && report.last_seq > anchored_seq) {
    const uint64_t after = report.last_seq - anchored_seq;
    if (anchor->writing && report.last_seq <= *anchor->writing) {
      report.being_written = after;
    } else {
      anchor_problem = Problem{anchored_line + 1, anchored_seq + 1,
                               "appended after the anchored head (" + seq_text(anchored_seq) + "): " +
                                   std::to_string(after) + (after == 1 ? " entry" : " entries") +
                                   " that the writer never anchored (forged, or written by another program)"};
    }
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
  const auto bad = [&] { return make_error("head file '" + path + "' is not {\"seq\":N,\"hash\":\"<64 hex>\"}"); };
  if (json.is_discarded() || !json.is_object() || !json.contains("seq") || !json["seq"].is_number_unsigned() ||
      !json.contains("hash") || !json["hash"].is_string() || !detail::is_hex_hash(json["hash"].get<std::string>())) {
    return bad();
  }
  Anchor anchor{json["seq"].get<uint64_t>(), json["hash"].get<std::string>(), std::nullopt};
  if (json.contains("writing")) {
    if (!json["writing"].is_number_unsigned() || json["writing"].get<uint64_t>() <= *anchor.seq) return bad();
    anchor.writing = json["writing"].get<uint64_t>();
  }
  return anchor;
}

}  // namespace slawatch::audit
