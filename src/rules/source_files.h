#pragma once
// Finding and reading the YAML files a rule set is loaded from, and the
// content hash that versions the set. Internal to the rules component.
#include <cstdint>
#include <string>
#include <vector>

#include "rules/rules.h"

namespace slawatch::rules_detail {

// A rule or calendar file larger than this is refused unread: real rule sets
// are kilobytes, and YAML parsing holds several times the file in memory.
inline constexpr uint64_t kMaxRuleFileBytes = 4u << 20;

struct SourceFile {
  std::string display_name;   // as the user will recognise it: "rules/first-response.yaml"
  std::string relative_name;  // relative to the folder given; stable across machines
  std::string content;
  bool calendars_only = false;  // found through an extra calendar path
};

// Reads `root` (a file, or a folder searched recursively following symlinks,
// taking *.yaml and *.yml and skipping names that start with '.'), in sorted
// order of relative name. A file reached twice (e.g. through a symlink) is
// read once. Problems are appended to `diagnostics`.
class SourceCollector {
 public:
  explicit SourceCollector(std::vector<Diagnostic>& diagnostics) : diagnostics_(diagnostics) {}

  // Returns the number of YAML files found under `root`, including ones
  // already read through another path.
  size_t add(const std::string& root, bool calendars_only);
  const std::vector<SourceFile>& files() const { return files_; }

 private:
  std::vector<Diagnostic>& diagnostics_;
  std::vector<SourceFile> files_;
  std::vector<std::string> canonical_paths_;  // of files_, to read each file once
};

// First 12 hex digits of SHA-256 over every file's relative name and content.
std::string content_version(const std::vector<SourceFile>& files);

}  // namespace slawatch::rules_detail
