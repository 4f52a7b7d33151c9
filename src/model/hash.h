#pragma once
// Non-cryptographic hashing of byte strings. FNV-1a is the stable one: case
// partitioning, the choice between conflicting duplicates and JSON Lines
// positions of earlier releases depend on its values. The others are fast
// and for in-memory tables and the input digest (io/jsonl.cc, whose positions
// name their scheme).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace slawatch {

inline constexpr uint64_t kFnv1aOffsetBasis = 0xcbf29ce484222325ULL;

// FNV-1a 64 of `bytes`, continuing from `hash` (the offset basis to start).
inline uint64_t fnv1a64(std::string_view bytes, uint64_t hash = kFnv1aOffsetBasis) {
  for (const char c : bytes) hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  return hash;
}

// The high and low halves of a 64x64 -> 128-bit product, xored: one multiply
// mixes every bit of both inputs (wyhash's mixing step).
inline uint64_t fold_multiply(uint64_t a, uint64_t b) {
  __extension__ using U128 = unsigned __int128;
  const U128 product = static_cast<U128>(a) * b;
  return static_cast<uint64_t>(product >> 64) ^ static_cast<uint64_t>(product);
}

inline constexpr uint64_t kHashOdd1 = 0xa0761d6478bd642fULL;
inline constexpr uint64_t kHashOdd2 = 0xe7037ed1a0b428dbULL;

// Ids are short (a case id is ~18 bytes) and are hashed on every event by the
// engine's case cache, its timer overlay and the in-memory store: eight bytes
// at a time, each folded in with one multiply, costs a fraction of the
// byte-oriented hash std::hash<std::string> uses.
inline size_t hash_id_bytes(std::string_view bytes) noexcept {
  uint64_t h = kHashOdd1 ^ bytes.size();
  const char* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = fold_multiply(h ^ word, kHashOdd2);
  }
  if (n > 0) {
    uint64_t word = 0;
    std::memcpy(&word, p, n);
    h = fold_multiply(h ^ word, kHashOdd1);
  }
  return static_cast<size_t>(fold_multiply(h, kHashOdd2));
}

}  // namespace slawatch
