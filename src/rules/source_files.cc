#include "rules/source_files.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace slawatch::rules_detail {
namespace {

namespace fs = std::filesystem;

struct FoundFile {
  fs::path path;
  std::string relative_name;
};

// Why a path's status could not be read, in an operator's words.
std::string unreadable(const std::error_code& error) {
  if (error == std::errc::too_many_symbolic_link_levels) return "symlink loop (too many levels of symbolic links)";
  if (!error || error == std::errc::no_such_file_or_directory) return "broken link: its target does not exist";
  return "unreadable: " + error.message();
}

bool is_yaml_name(const fs::path& path) {
  const std::string extension = path.extension().string();
  return extension == ".yaml" || extension == ".yml";
}

// Dot names are editor back-ups, VCS folders and the `..data` links of a
// Kubernetes ConfigMap mount, whose real files are also reachable by name.
bool is_hidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name.front() == '.';
}

class FolderWalker {
 public:
  explicit FolderWalker(std::vector<Diagnostic>& diagnostics) : diagnostics_(diagnostics) {}

  void walk(const fs::path& folder, const fs::path& relative) {
    std::error_code error;
    const fs::path canonical = fs::canonical(folder, error);
    if (error) {
      report(folder, error.message());
      return;
    }
    // A symlink pointing back up the tree would otherwise recurse forever.
    if (!visited_folders_.insert(canonical.string()).second) return;

    std::vector<fs::path> entries;
    for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
      entries.push_back(it->path());
    }
    if (error) {
      report(folder, "cannot list folder: " + error.message());
      return;
    }
    std::sort(entries.begin(), entries.end());
    for (const fs::path& entry : entries) {
      if (is_hidden(entry)) continue;
      const fs::file_status status = fs::status(entry, error);  // follows symlinks
      if (error || !fs::exists(status)) {
        if (is_yaml_name(entry)) report(entry, unreadable(error));
        error.clear();
        continue;
      }
      if (fs::is_directory(status)) {
        walk(entry, relative / entry.filename());
      } else if (fs::is_regular_file(status) && is_yaml_name(entry)) {
        found.push_back(FoundFile{entry, (relative / entry.filename()).generic_string()});
      }
    }
  }

  std::vector<FoundFile> found;

 private:
  void report(const fs::path& path, std::string message) {
    diagnostics_.push_back(Diagnostic{path.generic_string(), 0, 0, std::move(message)});
  }

  std::vector<Diagnostic>& diagnostics_;
  std::set<std::string> visited_folders_;
};

std::optional<std::string> read_whole_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(content).str();
}

}  // namespace

size_t SourceCollector::add(const std::string& root, bool calendars_only) {
  const fs::path root_path(root);
  std::error_code error;
  const fs::file_status status = fs::status(root_path, error);
  if (error == std::errc::too_many_symbolic_link_levels) {
    diagnostics_.push_back(Diagnostic{root, 0, 0, unreadable(error)});
    return 0;
  }
  if (error || !fs::exists(status)) {
    diagnostics_.push_back(Diagnostic{root, 0, 0, "no such file or folder"});
    return 0;
  }

  std::vector<FoundFile> found;
  if (fs::is_directory(status)) {
    FolderWalker walker(diagnostics_);
    walker.walk(root_path, fs::path());
    found = std::move(walker.found);
    std::sort(found.begin(), found.end(), [](const FoundFile& a, const FoundFile& b) {
      return a.relative_name < b.relative_name;
    });
  } else {
    // A file named explicitly is read whatever its extension.
    found.push_back(FoundFile{root_path, root_path.filename().generic_string()});
  }

  for (const FoundFile& file : found) {
    const fs::path canonical = fs::canonical(file.path, error);
    const std::string key = error ? file.path.string() : canonical.string();
    error.clear();
    if (std::find(canonical_paths_.begin(), canonical_paths_.end(), key) != canonical_paths_.end()) {
      continue;
    }
    const std::string display_name =
        fs::is_directory(status) ? (root_path / file.relative_name).generic_string() : root;
    std::error_code size_error;
    const uintmax_t size = fs::file_size(file.path, size_error);
    if (!size_error && size > kMaxRuleFileBytes) {
      diagnostics_.push_back(Diagnostic{display_name, 0, 0,
                                        "file too large (" + std::to_string(size) + " bytes, limit " +
                                            std::to_string(kMaxRuleFileBytes) + ")"});
      continue;
    }
    std::optional<std::string> content = read_whole_file(file.path);
    if (!content) {
      diagnostics_.push_back(Diagnostic{display_name, 0, 0, "cannot read file"});
      continue;
    }
    canonical_paths_.push_back(key);
    files_.push_back(SourceFile{display_name, file.relative_name, std::move(*content), calendars_only});
  }
  return found.size();
}

std::string content_version(const std::vector<SourceFile>& files) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr);
  auto update = [&](std::string_view bytes) {
    EVP_DigestUpdate(context.get(), bytes.data(), bytes.size());
  };
  for (const SourceFile& file : files) {
    // Lengths make the encoding unambiguous: no two file sets hash the same input.
    update(file.calendars_only ? "calendar " : "rules ");
    update(file.relative_name);
    update("\n" + std::to_string(file.content.size()) + "\n");
    update(file.content);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_DigestFinal_ex(context.get(), digest, &digest_size);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < digest_size && hex.size() < 12; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

}  // namespace slawatch::rules_detail
