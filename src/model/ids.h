#pragma once
// Strong types for identifiers so a case id can never be passed where an event
// id or a rule id is expected.
#include <compare>
#include <functional>
#include <string>
#include <string_view>

namespace slawatch {

template <class Tag>
struct StrongId {
  std::string value;

  StrongId() = default;
  explicit StrongId(std::string v) : value(std::move(v)) {}
  explicit StrongId(std::string_view v) : value(v) {}
  explicit StrongId(const char* v) : value(v) {}
  const std::string& str() const { return value; }
  bool empty() const { return value.empty(); }
  auto operator<=>(const StrongId&) const = default;
  bool operator==(const StrongId&) const = default;
};

using CaseId = StrongId<struct CaseIdTag>;
using EventId = StrongId<struct EventIdTag>;
using RuleId = StrongId<struct RuleIdTag>;

}  // namespace slawatch

template <class Tag>
struct std::hash<slawatch::StrongId<Tag>> {
  size_t operator()(const slawatch::StrongId<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.value);
  }
};
