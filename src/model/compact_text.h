#pragma once
// The bytes of an identifier, inline up to 31 characters and on the heap
// beyond. Value type, no shared state: safe wherever a std::string is.
//
// Why not std::string: libstdc++ keeps 15 characters inline, and a case id
// such as "HK-20260302-000001" has 18. Every case id then lived in a heap
// block of its own, so each hash-table probe, each tie between timers due at
// one instant and each copy of an id cost one more cache miss or allocation.
// Replay of the same events with ids cut to 11 characters ran 11 % faster.
// The contract allows case ids of up to 64 characters; those longer than 31
// still work, at std::string's cost.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace slawatch {

class CompactText {
 public:
  static constexpr size_t kInlineChars = 31;

  CompactText() noexcept { set_inline_empty(); }
  explicit CompactText(std::string_view text) { assign_new(text); }
  CompactText(const CompactText& other) {
    if (other.on_heap()) {
      assign_new(other.view());
    } else {
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    }
  }
  CompactText(CompactText&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.set_inline_empty();
  }
  CompactText& operator=(const CompactText& other) {
    // Copied first: if the allocation throws, this text is left as it was.
    if (this != &other) *this = CompactText(other);
    return *this;
  }
  CompactText& operator=(CompactText&& other) noexcept {
    if (this != &other) {
      release();
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
      other.set_inline_empty();
    }
    return *this;
  }
  ~CompactText() { release(); }

  std::string_view view() const noexcept {
    if (on_heap()) return {heap_data(), heap_size()};
    return {bytes_, static_cast<uint8_t>(bytes_[kTagByte])};
  }
  size_t size() const noexcept { return view().size(); }
  bool empty() const noexcept { return size() == 0; }
  bool on_heap() const noexcept { return static_cast<uint8_t>(bytes_[kTagByte]) == kHeapTag; }

  friend bool operator==(const CompactText& a, const CompactText& b) noexcept {
    // Unused inline bytes are zero, so two inline texts are equal exactly when
    // their 32 bytes (size included) are: four word compares, no length walk.
    if (!a.on_heap() && !b.on_heap()) return std::memcmp(a.bytes_, b.bytes_, sizeof a.bytes_) == 0;
    return a.view() == b.view();
  }
  friend std::strong_ordering operator<=>(const CompactText& a, const CompactText& b) noexcept {
    return a.view() <=> b.view();  // bytewise, as std::string orders
  }

 private:
  static constexpr size_t kTagByte = kInlineChars;  // inline: the size; heap: kHeapTag
  static constexpr uint8_t kHeapTag = 0xff;

  void set_inline_empty() noexcept { std::memset(bytes_, 0, sizeof bytes_); }
  void assign_new(std::string_view text) {
    std::memset(bytes_, 0, sizeof bytes_);
    if (text.size() <= kInlineChars) {
      if (!text.empty()) std::memcpy(bytes_, text.data(), text.size());
      bytes_[kTagByte] = static_cast<char>(text.size());
      return;
    }
    char* data = new char[text.size()];
    std::memcpy(data, text.data(), text.size());
    const size_t size = text.size();
    std::memcpy(bytes_, &data, sizeof data);
    std::memcpy(bytes_ + sizeof data, &size, sizeof size);
    bytes_[kTagByte] = static_cast<char>(kHeapTag);
  }
  void release() noexcept {
    if (on_heap()) delete[] heap_data();
  }
  char* heap_data() const noexcept {
    char* data;
    std::memcpy(&data, bytes_, sizeof data);
    return data;
  }
  size_t heap_size() const noexcept {
    size_t size;
    std::memcpy(&size, bytes_ + sizeof(char*), sizeof size);
    return size;
  }

  alignas(8) char bytes_[kInlineChars + 1];
};

static_assert(sizeof(CompactText) == 32, "as small as a std::string");

}  // namespace slawatch
