#pragma once
// Helpers shared by the fuzz targets: the loaders under test read files, so
// an input is written to a scratch file of its own (one per process and
// target; libFuzzer runs one input at a time per process).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace slawatch::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A directory of this process's own under the temporary directory, made once.
inline const std::filesystem::path& scratch_dir(std::string_view target) {
  static const std::filesystem::path dir = [&] {
    auto path = std::filesystem::temp_directory_path() /
                ("slawatch-fuzz-" + std::string(target) + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return dir;
}

// Writes `bytes` to `name` in the scratch directory and returns its path.
inline std::string write_scratch(std::string_view target, const std::string& name, std::string_view bytes) {
  const auto path = scratch_dir(target) / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path.string();
}

}  // namespace slawatch::fuzz
