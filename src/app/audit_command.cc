// `slawatch audit verify`: checks an audit log's whole hash chain.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "audit/audit.h"

namespace slawatch {

int run_audit_verify(const AuditVerifyArgs& args, std::ostream& out, std::ostream& err) {
  std::optional<audit::Anchor> anchor;
  if (args.expect_head) {
    std::string hash = *args.expect_head;
    std::transform(hash.begin(), hash.end(), hash.begin(), [](unsigned char c) { return std::tolower(c); });
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
      err << "slawatch: --expect-head must be a SHA-256 hash (64 hex digits)\n";
      return 2;
    }
    anchor = audit::Anchor{std::nullopt, hash};
  } else if (args.head_file) {
    auto read = audit::read_head_file(*args.head_file);
    if (!read.ok()) {
      err << "slawatch: " << read.error().message << "\n";
      return 1;
    }
    anchor = *read;
  }
  std::ifstream in(args.log_path, std::ios::binary);
  if (!in) {
    err << "slawatch: cannot read audit log '" << args.log_path << "'\n";
    return 1;
  }
  std::stringstream content;
  content << in.rdbuf();
  const audit::VerifyReport report = audit::verify_chain(content.str(), anchor);
  if (const auto& problem = report.problem ? report.problem : report.anchor_problem) {
    out << "audit FAILED: " << args.log_path << ": " << problem->to_string() << "\n";
    return 1;
  }
  out << "audit OK: " << report.entries << " entries, head " << report.head_hash << " (seq " << report.last_seq
      << ")" << (anchor ? ", anchored head found" : "");
  if (report.being_written > 0) {
    out << "; the last " << report.being_written << " are being written (not yet anchored)";
  }
  out << "\n";
  return 0;
}

}  // namespace slawatch
