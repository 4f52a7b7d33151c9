#pragma once
// Text inline up to N characters and on the heap beyond, in N + 1 bytes.
// Value type, no shared state: safe wherever a std::string is.
// CompactText (32 bytes, 31 inline) holds identifiers; EventText (16 bytes, 15
// inline) an event's data fields.
//
// Why not std::string: libstdc++ keeps 15 characters inline, and a case id
// such as "HK-20260302-000001" has 18. Every case id then lived in a heap
// block of its own, so each hash-table probe, each tie between timers due at
// one instant and each copy of an id cost one more cache miss or allocation.
// Replay of the same events with ids cut to 11 characters ran 11 % faster.
// The contract allows case ids of up to 64 characters; those longer than 31
// still work, at std::string's cost.
//
// Why EventText: a case event has eight data fields, and as std::strings they
// were 256 of its 352 bytes, most of them unused (a priority is "normal").
// Every event of a case is walked per evaluation, moved when its log grows
// and copied out of the cache at eviction, so the unused bytes cost cache
// lines on each; at 16 bytes a field, the same ones inline (libstdc++ keeps
// 15 characters inline too) and the same ones go to the heap.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace slawatch {

template <size_t N>
class BasicCompactText {
  static_assert(N >= 15 && N < 255 && (N + 1) % 8 == 0, "room for a heap pointer and size, whole words");

 public:
  static constexpr size_t kInlineChars = N;

  BasicCompactText() noexcept { set_inline_empty(); }
  explicit BasicCompactText(std::string_view text) { assign_new(text); }
  BasicCompactText(const BasicCompactText& other) {
    if (other.on_heap()) {
      assign_new(other.view());
    } else {
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    }
  }
  BasicCompactText(BasicCompactText&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.set_inline_empty();
  }
  BasicCompactText& operator=(const BasicCompactText& other) {
    // Copied first: if the allocation throws, this text is left as it was.
    if (this != &other) *this = BasicCompactText(other);
    return *this;
  }
  BasicCompactText& operator=(BasicCompactText&& other) noexcept {
    if (this != &other) {
      release();
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
      other.set_inline_empty();
    }
    return *this;
  }
  BasicCompactText& operator=(std::string_view text) {
    // Built first: the text may be a view of this one's own bytes.
    return *this = BasicCompactText(text);
  }
  BasicCompactText& operator=(const std::string& text) { return *this = std::string_view(text); }
  BasicCompactText& operator=(const char* text) { return *this = std::string_view(text); }
  ~BasicCompactText() { release(); }

  std::string_view view() const noexcept {
    if (on_heap()) return {heap_data(), heap_size()};
    return {bytes_, static_cast<uint8_t>(bytes_[kTagByte])};
  }
  operator std::string_view() const noexcept { return view(); }
  std::string str() const { return std::string(view()); }
  const char* data() const noexcept { return view().data(); }
  size_t size() const noexcept { return view().size(); }
  bool empty() const noexcept { return size() == 0; }
  void clear() noexcept {
    release();
    set_inline_empty();
  }
  bool on_heap() const noexcept { return static_cast<uint8_t>(bytes_[kTagByte]) == kHeapTag; }

  friend bool operator==(const BasicCompactText& a, const BasicCompactText& b) noexcept {
    // Unused inline bytes are zero, so two inline texts are equal exactly when
    // their bytes (size included) are: a few word compares, no length walk.
    if (!a.on_heap() && !b.on_heap()) return std::memcmp(a.bytes_, b.bytes_, sizeof a.bytes_) == 0;
    return a.view() == b.view();
  }
  friend std::strong_ordering operator<=>(const BasicCompactText& a, const BasicCompactText& b) noexcept {
    return a.view() <=> b.view();  // bytewise, as std::string orders
  }
  friend bool operator==(const BasicCompactText& a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator==(const BasicCompactText& a, const char* b) noexcept { return a.view() == b; }
  friend bool operator==(const BasicCompactText& a, const std::string& b) noexcept { return a.view() == b; }

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
    const uint32_t size = static_cast<uint32_t>(text.size());  // ids and fields have limits of kilobytes
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
    uint32_t size;
    std::memcpy(&size, bytes_ + sizeof(char*), sizeof size);
    return size;
  }

  alignas(8) char bytes_[kInlineChars + 1];
};

using CompactText = BasicCompactText<31>;
using EventText = BasicCompactText<15>;

static_assert(sizeof(CompactText) == 32, "as small as a std::string");
static_assert(sizeof(EventText) == 16, "half a std::string");

}  // namespace slawatch
