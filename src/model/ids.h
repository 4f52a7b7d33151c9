#pragma once
// Strong types for identifiers so a case id can never be passed where an event
// id or a rule id is expected.
#include <compare>
#include <functional>
#include <string>
#include <string_view>

#include "model/compact_text.h"
#include "model/hash.h"

namespace slawatch {

// Ids are kept as CompactText: a typical case id fits inline (see there).
template <class Tag>
struct StrongId {
  CompactText value;

  StrongId() = default;
  explicit StrongId(std::string_view v) : value(v) {}
  explicit StrongId(const std::string& v) : value(std::string_view(v)) {}
  explicit StrongId(const char* v) : value(std::string_view(v)) {}
  std::string_view str() const { return value.view(); }
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
    return slawatch::hash_id_bytes(id.value.view());
  }
};

#ifdef __GLIBCXX__
// libstdc++ keeps each node's hash in its unordered containers only for hashes
// it does not consider fast, as it does for std::string: without it every
// bucket walk rehashes the ids it passes (Engine's case cache showed it in
// replay's profile). An id hashes its string, so it is as slow as one.
template <class Tag>
struct std::__is_fast_hash<std::hash<slawatch::StrongId<Tag>>> : std::false_type {};
#endif
