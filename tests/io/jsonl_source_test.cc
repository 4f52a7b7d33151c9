#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "io/io.h"

namespace slawatch {
namespace {

constexpr size_t kLimit = 1024;

class JsonLinesSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("jsonl_source_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static std::unique_ptr<JsonLinesSource> open(const std::string& path, size_t limit = kLimit) {
    auto source = JsonLinesSource::open(path, limit);
    EXPECT_TRUE(source.ok());
    return std::move(source).value();
  }

  static RawRecord next(JsonLinesSource& source) {
    RawRecord record;
    auto more = source.next(record);
    EXPECT_TRUE(more.ok() && *more);
    return record;
  }

  static bool at_end(JsonLinesSource& source) {
    RawRecord record;
    auto more = source.next(record);
    return more.ok() && !*more;
  }

  std::filesystem::path dir_;
};

TEST_F(JsonLinesSourceTest, LineExactlyAtTheLimitIsKeptWhole) {
  const std::string line(kLimit, 'a');
  auto source = open(write("events", line + "\r\n"));
  const RawRecord record = next(*source);
  EXPECT_EQ(record.bytes, line);
  EXPECT_EQ(record.oversize_bytes, 0u);
  EXPECT_TRUE(at_end(*source));
}

TEST_F(JsonLinesSourceTest, LineOneByteOverTheLimitIsOversizeAndReadingGoesOn) {
  const std::string line(kLimit + 1, 'b');
  auto source = open(write("events", line + "\n{\"next\":1}\n"));
  const RawRecord big = next(*source);
  EXPECT_EQ(big.oversize_bytes, kLimit + 1);
  EXPECT_EQ(big.bytes, std::string(kLimit, 'b'));  // kept: the first min(4096, limit) bytes
  EXPECT_EQ(big.origin.substr(big.origin.size() - 2), ":1");
  const RawRecord after = next(*source);
  EXPECT_EQ(after.bytes, "{\"next\":1}");
  EXPECT_EQ(after.oversize_bytes, 0u);
  EXPECT_EQ(after.origin.substr(after.origin.size() - 2), ":2");
}

// The 800 MB line of NUL bytes that crashed the monitor, at the real size: a
// sparse file costs no disk, and the reader must never hold more than the limit.
TEST_F(JsonLinesSourceTest, HugeNulLineIsReadInBoundedMemory) {
  const auto path = (dir_ / "huge").string();
  constexpr off_t kHuge = 800ll << 20;
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(::ftruncate(fileno(f), kHuge), 0);
    ASSERT_EQ(std::fseek(f, 0, SEEK_END), 0);
    std::fputs("\n{\"good\":true}\n", f);
    std::fclose(f);
  }
  auto source = open(path, kDefaultMaxRecordBytes);
  const RawRecord big = next(*source);
  EXPECT_EQ(big.oversize_bytes, static_cast<uint64_t>(kHuge));
  EXPECT_EQ(big.bytes, std::string(kOversizeKeptBytes, '\0'));
  EXPECT_LE(big.bytes.capacity(), kDefaultMaxRecordBytes + 64);
  EXPECT_EQ(next(*source).bytes, "{\"good\":true}");
}

TEST_F(JsonLinesSourceTest, BlankLinesAreSkippedAndALastLineNeedsNoNewline) {
  auto source = open(write("events", "\n\r\n{\"a\":1}\n\n{\"b\":2}"));
  EXPECT_EQ(next(*source).bytes, "{\"a\":1}");
  const RawRecord last = next(*source);
  EXPECT_EQ(last.bytes, "{\"b\":2}");
  EXPECT_EQ(last.origin.substr(last.origin.size() - 2), ":5");
  EXPECT_TRUE(at_end(*source));
}

TEST_F(JsonLinesSourceTest, ResumesTheSameInputAfterItsPosition) {
  const auto path = write("events", "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
  std::string position;
  {
    auto source = open(path);
    next(*source);
    position = source->position();
  }
  auto source = open(path);
  ASSERT_TRUE(source->seek(position).ok());
  const RawRecord record = next(*source);
  EXPECT_EQ(record.bytes, "{\"b\":2}");
  EXPECT_EQ(record.origin.substr(record.origin.size() - 2), ":2");
  EXPECT_EQ(source->position().substr(0, 4), "16:2");
}

// offset:line:w<digest of the bytes before, 16 lower-case hex digits>:path
TEST_F(JsonLinesSourceTest, PositionNamesOffsetLineAndTheDigestInSixteenHexDigits) {
  const auto path = write("events", "{\"a\":1}\n");
  auto source = open(path);
  const std::string empty = source->position();
  EXPECT_EQ(empty.substr(0, 5), "0:0:w");
  next(*source);
  const std::string position = source->position();
  ASSERT_GE(position.size(), 22u);
  const std::string hash = position.substr(5, 16);
  EXPECT_EQ(position.substr(0, 5), "8:1:w");
  EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos) << position;
  EXPECT_NE(hash, empty.substr(5, 16));
  EXPECT_EQ(position.substr(21), ":" + path);
}

// FNV-1a of `bytes`, as positions of earlier releases carry it.
std::string legacy_position(uint64_t offset, uint64_t line, std::string_view bytes, const std::string& path) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::to_string(offset) + ":" + std::to_string(line) + ":" + hex + ":" + path;
}

TEST_F(JsonLinesSourceTest, PositionsOfTheEarlierFnvFormatStillResumeAndStillCheck) {
  const std::string content = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";
  const auto path = write("events", content);
  auto source = open(path);
  ASSERT_TRUE(source->seek(legacy_position(8, 1, content.substr(0, 8), path)).ok());
  EXPECT_EQ(next(*source).bytes, "{\"b\":2}");
  // From there on the position carries the digest, and resumes.
  const std::string position = source->position();
  EXPECT_EQ(position.substr(0, 6), "16:2:w");
  auto again = open(path);
  ASSERT_TRUE(again->seek(position).ok());
  EXPECT_EQ(next(*again).bytes, "{\"c\":3}");

  auto other = open(write("other", "{\"x\":1}\n{\"b\":2}\n"));
  const auto refused = other->seek(legacy_position(8, 1, content.substr(0, 8), path));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("is not the input the state was built from"), std::string::npos);
}

TEST_F(JsonLinesSourceTest, TheDigestDoesNotDependOnHowTheInputWasCut) {
  // Lines of every length mod 8 across several 64 KiB reads: next() hashes a
  // line at a time, seek() whole buffers, and both must agree at every line.
  std::string content;
  for (int n = 0; content.size() < 300'000; ++n) {
    content += "{\"n\":" + std::to_string(n) + ",\"pad\":\"" + std::string(static_cast<size_t>(n % 97), 'x') + "\"}\n";
  }
  const auto path = write("long", content);
  auto source = open(path);
  std::vector<std::string> positions;  // after every 211th line
  RawRecord record;
  for (size_t lines = 1;; ++lines) {
    auto more = source->next(record);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    if (lines % 211 == 0) positions.push_back(source->position());
  }
  ASSERT_GT(positions.size(), 10u);
  for (const auto& position : positions) {
    auto resumed = open(path);
    ASSERT_TRUE(resumed->seek(position).ok()) << position;
    EXPECT_EQ(resumed->position(), position);
  }
  // One byte changed before a position is found.
  std::string changed = content;
  changed[content.size() / 2] = 'y';
  auto other = open(write("changed", changed));
  EXPECT_FALSE(other->seek(source->position()).ok());
}

TEST_F(JsonLinesSourceTest, RefusesAnInputWhoseBytesBeforeThePositionDiffer) {
  std::string position;
  {
    auto source = open(write("first", "{\"a\":1}\n{\"b\":2}\n"));
    next(*source);
    position = source->position();
  }
  auto other = open(write("second", "{\"x\":1}\n{\"y\":2}\n"));  // same length, other bytes
  const auto refused = other->seek(position);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("is not the input the state was built from"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("--restart-input"), std::string::npos);
}

TEST_F(JsonLinesSourceTest, RefusesAnInputShorterThanThePosition) {
  std::string position;
  {
    auto source = open(write("first", "{\"a\":1}\n{\"b\":2}\n"));
    next(*source);
    next(*source);
    position = source->position();
  }
  auto shorter = open(write("second", "{\"a\":1}\n"));
  const auto refused = shorter->seek(position);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("is shorter (8 bytes) than the checkpoint position (16 bytes"),
            std::string::npos)
      << refused.error().message;
}

TEST_F(JsonLinesSourceTest, ARenamedCopyOfTheInputResumes) {
  const std::string content = "{\"a\":1}\n{\"b\":2}\n";
  std::string position;
  {
    auto source = open(write("first", content));
    next(*source);
    position = source->position();
  }
  auto copy = open(write("copy", content));
  ASSERT_TRUE(copy->seek(position).ok());
  EXPECT_EQ(next(*copy).bytes, "{\"b\":2}");
}

TEST_F(JsonLinesSourceTest, OldPositionsWithoutAnIdentityAreStillAccepted) {
  auto source = open(write("events", "{\"a\":1}\n{\"b\":2}\n"));
  ASSERT_TRUE(source->seek("8:1").ok());
  EXPECT_EQ(next(*source).bytes, "{\"b\":2}");
  // The new position identifies the input from its real bytes.
  auto again = open(write("events2", "{\"a\":1}\n{\"b\":2}\n"));
  ASSERT_TRUE(again->seek(source->position()).ok());
  EXPECT_TRUE(at_end(*again));
}

TEST_F(JsonLinesSourceTest, MalformedPositionsAreRefused) {
  auto source = open(write("events", "{}\n"));
  for (const char* bad : {"", "x:1", "8", "8:1:zz:path", "8:x"}) {
    EXPECT_FALSE(source->seek(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace slawatch
