// The audit log: the hash chain, durable groups, torn-tail recovery, and
// verification naming the first entry altered, removed, inserted or reordered.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "audit/audit.h"

namespace slawatch::audit {
namespace {

namespace fs = std::filesystem;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("slawatch-audit-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "audit.jsonl").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Record record(int i, std::string kind = "alert.fired") {
    return Record{from_millis(1'772'400'000'000 + i * 1000), std::move(kind),
                  R"({"alert_id":"case-)" + std::to_string(i) + R"(/first-response/1/breach","n":)" +
                      std::to_string(i) + "}"};
  }

  // Writes `n` entries in groups of 3, each group synced.
  void write_entries(int n) {
    auto log = AuditLog::open(path_);
    ASSERT_TRUE(log.ok()) << log.error().message;
    std::vector<Record> group;
    for (int i = 1; i <= n; ++i) {
      group.push_back(record(i));
      if (group.size() == 3 || i == n) {
        ASSERT_TRUE((*log)->append_and_sync(group).ok());
        group.clear();
      }
    }
  }

  std::string read() const {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void write(const std::string& content) const { std::ofstream(path_, std::ios::binary | std::ios::trunc) << content; }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(read());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  void write_lines(const std::vector<std::string>& ls) const {
    std::string content;
    for (const auto& l : ls) content += l + "\n";
    write(content);
  }
  // The first problem of the file as it is now, without an anchor.
  Problem problem() const {
    auto report = verify_chain(read());
    EXPECT_TRUE(report.problem.has_value());
    return report.problem.value_or(Problem{});
  }

  void expect_open_refused(const std::string& why) const {
    auto log = AuditLog::open(path_);
    ASSERT_FALSE(log.ok());
    EXPECT_NE(log.error().message.find(why), std::string::npos) << log.error().message;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(AuditLogTest, EntriesFormAHashChainInCanonicalForm) {
  write_entries(4);
  const auto ls = lines();
  ASSERT_EQ(ls.size(), 4u);
  EXPECT_EQ(ls[0].substr(0, 85),
            R"({"seq":1,"time":"2026-03-01T21:20:01.000Z","kind":"alert.fired","payload":{"alert_id")");
  // The hash covers the line up to ',"hash":'; prev is the entry before's hash.
  std::string prev(kGenesisHash);
  for (const auto& line : ls) {
    const auto at = line.find(",\"hash\":\"");
    const std::string hash = line.substr(at + 9, 64);
    EXPECT_EQ(sha256_hex(line.substr(0, at)), hash);
    EXPECT_NE(line.find(",\"prev\":\"" + prev + "\""), std::string::npos);
    prev = hash;
  }
  auto report = verify_chain(read());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.entries, 4u);
  EXPECT_EQ(report.last_seq, 4u);
  EXPECT_EQ(report.head_hash, prev);
}

TEST_F(AuditLogTest, Sha256MatchesAKnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(AuditLogTest, SyncWritesTheHeadFileAndUnsyncedEntriesAreNotAnchored) {
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log.ok());
  const std::vector<Record> group{record(1), record(2)};
  ASSERT_TRUE((*log)->append_batch(group).ok());
  EXPECT_FALSE(fs::exists((*log)->head_path()));  // appended, not yet synced
  ASSERT_TRUE((*log)->sync().ok());
  auto head = read_head_file((*log)->head_path());
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 2u);
  EXPECT_EQ(head->hash, (*log)->head_hash());
}

TEST_F(AuditLogTest, ReopenContinuesTheChain) {
  write_entries(5);
  std::string head_before;
  {
    auto log = AuditLog::open(path_);
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->last_seq(), 5u);
    head_before = (*log)->head_hash();
    const std::vector<Record> group{record(6, "rules.loaded")};
    ASSERT_TRUE((*log)->append_and_sync(group).ok());
  }
  const auto ls = lines();
  ASSERT_EQ(ls.size(), 6u);
  EXPECT_NE(ls[5].find("\"seq\":6,"), std::string::npos);
  EXPECT_NE(ls[5].find("\"prev\":\"" + head_before + "\""), std::string::npos);
  EXPECT_TRUE(verify_chain(read()).ok());
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log.ok());
  ASSERT_NE((*log)->last_of_kind("rules.loaded"), nullptr);
  EXPECT_EQ((*log)->last_of_kind("rules.loaded")->seq, 6u);
  EXPECT_EQ((*log)->last_of_kind("alert.fired")->seq, 5u);
  EXPECT_EQ((*log)->last_of_kind("roster.loaded"), nullptr);
}

TEST_F(AuditLogTest, RejectsBadKindsAndPayloadsWithoutWritingAnything) {
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log.ok());
  for (const Record& bad : {Record{std::nullopt, "Alert Fired", "{}"}, Record{std::nullopt, "x", "{"},
                            Record{std::nullopt, "x", "{\n}"}, Record{std::nullopt, "x", ""}}) {
    const std::vector<Record> group{record(1), bad};
    EXPECT_FALSE((*log)->append_batch(group).ok()) << bad.kind << " " << bad.payload;
  }
  EXPECT_EQ((*log)->last_seq(), 0u);
  EXPECT_EQ(read(), "");
  const std::vector<Record> no_time{Record{std::nullopt, "rules.loaded", R"({"version":"abc"})"}};
  ASSERT_TRUE((*log)->append_and_sync(no_time).ok());
  EXPECT_NE(read().find("\"time\":null"), std::string::npos);
  EXPECT_TRUE(verify_chain(read()).ok());
}

TEST_F(AuditLogTest, TornTailIsCutOnOpenAndTheChainContinues) {
  write_entries(3);
  const std::string whole = read();
  // A crash mid-write: part of a fourth entry, no line end.
  write(whole + R"({"seq":4,"time":"2026-03-01T21:2)");
  auto torn = verify_chain(read());
  ASSERT_TRUE(torn.problem);
  EXPECT_TRUE(torn.problem->torn_tail);
  EXPECT_EQ(torn.problem->line, 4u);
  EXPECT_NE(torn.problem->what.find("torn entry"), std::string::npos);

  std::vector<std::string> notices;
  auto log = AuditLog::open(path_, [&](const std::string& n) { notices.push_back(n); });
  ASSERT_TRUE(log.ok()) << log.error().message;
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("torn trailing entry at line 4"), std::string::npos);
  EXPECT_EQ(read(), whole);  // cut back to the last whole entry
  const std::vector<Record> group{record(4)};
  ASSERT_TRUE((*log)->append_and_sync(group).ok());
  auto report = verify_chain(read());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.last_seq, 4u);
}

TEST_F(AuditLogTest, DamagedUnsyncedLinesAfterTheHeadAreCutToo) {
  write_entries(3);
  // After a machine crash, an unsynced group can leave whole but damaged lines
  // (zero-filled blocks) after the last synced entry the head file names.
  write(read() + std::string(20, '\0') + "\n" + "garbage}\n");
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_EQ((*log)->last_seq(), 3u);
  EXPECT_TRUE(verify_chain(read()).ok());
}

TEST_F(AuditLogTest, OpenRefusesALogDamagedBeforeItsHead) {
  write_entries(4);
  auto ls = lines();
  ls[1].replace(ls[1].find("\"n\":2"), 5, "\"n\":7");
  write_lines(ls);
  expect_open_refused("line 2 (seq 2): altered");
}

TEST_F(AuditLogTest, OpenRefusesALogShorterThanItsHead) {
  write_entries(4);
  auto ls = lines();
  ls.pop_back();
  write_lines(ls);
  EXPECT_TRUE(verify_chain(read()).ok());  // the chain alone cannot show it
  expect_open_refused("removed");
}

TEST_F(AuditLogTest, OpenLeavesALogCutShortMidLineAsFound) {
  write_entries(4);
  const std::string whole = read();
  const std::string cut = whole.substr(0, whole.size() - 40);  // inside the last entry
  write(cut);
  expect_open_refused("removed");
  EXPECT_EQ(read(), cut);  // not repaired: the torn line stays as evidence
}

TEST_F(AuditLogTest, OpenRefusesALogEmptiedBehindItsHead) {
  write_entries(2);
  write("");
  expect_open_refused("empty log: removed");
}

TEST_F(AuditLogTest, OnlyOneWriterAtATime) {
  auto first = AuditLog::open(path_);
  ASSERT_TRUE(first.ok());
  expect_open_refused("in use by another process");
  first->reset();
  EXPECT_TRUE(AuditLog::open(path_).ok());
}

TEST_F(AuditLogTest, VerifyNamesAnAlteredPayload) {
  write_entries(6);
  auto ls = lines();
  ls[3].replace(ls[3].find("\"n\":4"), 5, "\"n\":9");
  write_lines(ls);
  const Problem p = problem();
  EXPECT_EQ(p.line, 4u);
  EXPECT_EQ(p.seq, 4u);
  EXPECT_EQ(p.to_string(), "line 4 (seq 4): altered: its content does not match its hash");
}

TEST_F(AuditLogTest, VerifyNamesAnAlteredHash) {
  write_entries(6);
  auto ls = lines();
  auto& h = ls[2][ls[2].size() - 3];
  h = h == 'a' ? 'b' : 'a';
  write_lines(ls);
  const Problem p = problem();
  EXPECT_EQ(p.line, 3u);
  EXPECT_NE(p.what.find("altered"), std::string::npos);
}

TEST_F(AuditLogTest, VerifyNamesAnEntryAlteredAndRehashed) {
  write_entries(6);
  auto ls = lines();
  // Altered and given a matching hash: the next entry's prev no longer links.
  std::string& line = ls[2];
  line.replace(line.find("\"n\":3"), 5, "\"n\":8");
  const auto at = line.find(",\"hash\":\"");
  line = line.substr(0, at) + ",\"hash\":\"" + sha256_hex(line.substr(0, at)) + "\"}";
  write_lines(ls);
  const Problem p = problem();
  EXPECT_EQ(p.line, 3u);
  EXPECT_EQ(p.seq, 3u);
  EXPECT_NE(p.what.find("altered or replaced"), std::string::npos) << p.what;
}

TEST_F(AuditLogTest, VerifyNamesRemovedEntries) {
  write_entries(7);
  auto ls = lines();
  ls.erase(ls.begin() + 2, ls.begin() + 4);  // seq 3 and 4
  write_lines(ls);
  const Problem p = problem();
  EXPECT_EQ(p.line, 3u);
  EXPECT_EQ(p.seq, 5u);
  EXPECT_EQ(p.what, "removed: seq 3 to 4 missing before it");

  fs::remove_all(dir_);
  fs::create_directories(dir_);
  write_entries(3);
  ls = lines();
  ls.erase(ls.begin());  // the first entry
  write_lines(ls);
  EXPECT_EQ(problem().to_string(), "line 1 (seq 2): removed: seq 1 missing before it");
}

TEST_F(AuditLogTest, RemovalFromTheEndIsCaughtOnlyWithAnAnchor) {
  write_entries(5);
  const auto head = read_head_file(path_ + ".head");
  ASSERT_TRUE(head.ok());
  auto ls = lines();
  ls.pop_back();
  write_lines(ls);
  EXPECT_TRUE(verify_chain(read()).ok());
  for (const Anchor& anchor : {*head, Anchor{std::nullopt, head->hash}}) {
    auto report = verify_chain(read(), anchor);
    EXPECT_FALSE(report.problem);
    ASSERT_TRUE(report.anchor_problem);
    EXPECT_EQ(report.anchor_problem->line, 4u);
    EXPECT_EQ(report.anchor_problem->seq, 4u);
    EXPECT_NE(report.anchor_problem->what.find("removed"), std::string::npos);
  }
  // An anchor whose seq is there with another hash: rewritten from that entry on.
  auto rewritten = verify_chain(read(), Anchor{3, verify_chain(read()).head_hash});
  ASSERT_TRUE(rewritten.anchor_problem.has_value());
  EXPECT_EQ(rewritten.anchor_problem->line, 3u);
  EXPECT_NE(rewritten.anchor_problem->what.find("rewritten"), std::string::npos);
}

TEST_F(AuditLogTest, AnAnchorFromAnEarlierHeadHoldsForTheGrownLog) {
  write_entries(3);
  const auto head = read_head_file(path_ + ".head");
  ASSERT_TRUE(head.ok());
  {
    auto log = AuditLog::open(path_);
    ASSERT_TRUE(log.ok());
    const std::vector<Record> group{record(4), record(5)};
    ASSERT_TRUE((*log)->append_and_sync(group).ok());
  }
  EXPECT_TRUE(verify_chain(read(), *head).ok());
  EXPECT_TRUE(verify_chain(read(), Anchor{std::nullopt, head->hash}).ok());
}

TEST_F(AuditLogTest, VerifyNamesReorderedEntries) {
  write_entries(6);
  auto ls = lines();
  std::swap(ls[2], ls[3]);
  write_lines(ls);
  EXPECT_EQ(problem().to_string(), "line 3 (seq 4): reordered: comes before line 4 (seq 3)");
}

TEST_F(AuditLogTest, VerifyNamesAnInsertedCopy) {
  write_entries(6);
  auto ls = lines();
  ls.insert(ls.begin() + 4, ls[1]);  // seq 2 again after seq 4
  write_lines(ls);
  EXPECT_EQ(problem().to_string(), "line 5 (seq 2): inserted: a copy of line 2");
}

TEST_F(AuditLogTest, VerifyNamesAForgedInsertedEntry) {
  write_entries(6);
  auto ls = lines();
  // A forged entry that links to seq 3 and has a valid own hash, put in as seq 4.
  std::string forged;
  const std::string prev = ls[2].substr(ls[2].size() - 66, 64);
  forged = R"({"seq":4,"time":"2026-03-01T21:20:04.000Z","kind":"alert.retracted","payload":{},"prev":")" + prev + "\"";
  forged += ",\"hash\":\"" + sha256_hex(forged) + "\"}";
  ls.insert(ls.begin() + 3, forged);
  write_lines(ls);
  EXPECT_EQ(problem().to_string(),
            "line 4 (seq 4): inserted: line 5 (seq 4) chains to line 3, skipping this entry");
}

TEST_F(AuditLogTest, VerifyNamesALineThatIsNotAnEntry) {
  write_entries(3);
  auto ls = lines();
  ls.insert(ls.begin() + 1, "hello");
  write_lines(ls);
  const Problem p = problem();
  EXPECT_EQ(p.line, 2u);
  EXPECT_FALSE(p.seq);
  EXPECT_NE(p.what.find("not an audit entry"), std::string::npos);
}

TEST_F(AuditLogTest, AFailedAppendLeavesNoPartOfTheGroup) {
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log.ok());
  const std::vector<Record> first{record(1)};
  ASSERT_TRUE((*log)->append_and_sync(first).ok());
  // The second record is invalid: nothing of the group is written and the chain is unchanged.
  const std::vector<Record> group{record(2), Record{std::nullopt, "alert.fired", "not json"}};
  EXPECT_FALSE((*log)->append_batch(group).ok());
  EXPECT_EQ((*log)->last_seq(), 1u);
  const std::vector<Record> next{record(2)};
  ASSERT_TRUE((*log)->append_and_sync(next).ok());
  auto report = verify_chain(read());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.entries, 2u);
}

}  // namespace
}  // namespace slawatch::audit
