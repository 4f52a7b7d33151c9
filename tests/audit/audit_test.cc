// The audit log: the hash chain, durable groups, torn-tail recovery, and
// verification naming the first entry altered, removed, inserted or reordered.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "audit/audit.h"
#include "audit/entry.h"

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
  // Appended, not yet synced: the head names the genesis and the write in progress.
  auto intent = read_head_file((*log)->head_path());
  ASSERT_TRUE(intent.ok()) << intent.error().message;
  EXPECT_EQ(intent->seq, 0u);
  EXPECT_EQ(intent->hash, kGenesisHash);
  EXPECT_EQ(intent->writing, 2u);
  ASSERT_TRUE((*log)->sync().ok());
  auto head = read_head_file((*log)->head_path());
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 2u);
  EXPECT_EQ(head->hash, (*log)->head_hash());
  EXPECT_FALSE(head->writing);
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
  const auto head = read_head_file(path_ + ".head");
  ASSERT_TRUE(head.ok());
  // After a machine crash, an unsynced group can leave whole but damaged lines
  // (zero-filled blocks) after the last synced entry the head file names,
  // which records the write that was in progress.
  std::ofstream(path_ + ".head", std::ios::trunc) << R"({"seq":3,"hash":")" << head->hash << R"(","writing":5})";
  write(read() + std::string(20, '\0') + "\n" + "garbage}\n");
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_EQ((*log)->last_seq(), 3u);
  EXPECT_TRUE(verify_chain(read()).ok());
}

TEST_F(AuditLogTest, DamagedLinesAfterAHeadWithNoWriteInProgressAreRefused) {
  write_entries(3);
  const std::string damaged = read() + std::string(20, '\0') + "\n";
  write(damaged);
  expect_open_refused("line 4: ");
  EXPECT_EQ(read(), damaged);
}

// The writer is killed after appending a group and before syncing it: the
// group is in the file, the head still names the last synced entry and
// records the write; the next open cuts the group off (the caller delivers
// it again) instead of anchoring it.
TEST_F(AuditLogTest, AGroupACrashLeftUnanchoredIsCutOnOpen) {
  write_entries(3);
  const std::string synced = read();
  {
    auto log = AuditLog::open(path_);
    ASSERT_TRUE(log.ok());
    const std::vector<Record> group{record(4), record(5)};
    ASSERT_TRUE((*log)->append_batch(group).ok());
  }  // closed without sync: as good as a kill between write and sync
  const auto head = read_head_file(path_ + ".head");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->writing, 5u);
  const auto report = verify_chain(read(), *head);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.being_written, 2u);

  std::vector<std::string> notices;
  auto log = AuditLog::open(path_, [&](const std::string& n) { notices.push_back(n); });
  ASSERT_TRUE(log.ok()) << log.error().message;
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("cut off 2 unanchored entries a crash left mid-write"), std::string::npos) << notices[0];
  EXPECT_EQ(read(), synced);
  EXPECT_EQ((*log)->last_seq(), 3u);
  EXPECT_EQ((*log)->last_of_kind("alert.fired")->seq, 3u);
}

// An attacker appends an entry whose hash they recompute correctly: the chain
// alone cannot tell it from a real one; the head that does not cover it can.
TEST_F(AuditLogTest, AForgedEntryAppendedAfterTheHeadFailsVerifyAndIsNeverAdopted) {
  write_entries(3);
  const auto head = read_head_file(path_ + ".head");
  ASSERT_TRUE(head.ok());
  std::string forged;
  detail::append_entry(forged, 4, head->hash, Record{std::nullopt, "alert.retracted", R"({"alert_id":"forged"})"});
  write(read() + forged);
  const std::string tampered = read();
  EXPECT_TRUE(verify_chain(tampered).ok());  // a valid chain
  for (const Anchor& anchor : {*head, Anchor{std::nullopt, head->hash, std::nullopt}}) {
    const auto report = verify_chain(tampered, anchor);
    EXPECT_FALSE(report.problem);
    ASSERT_TRUE(report.anchor_problem);
    EXPECT_EQ(report.anchor_problem->to_string(),
              "line 4 (seq 4): appended after the anchored head (seq 3): 1 entry that the writer never anchored "
              "(forged, or written by another program)");
  }
  expect_open_refused("appended after the anchored head (seq 3)");
  EXPECT_EQ(read(), tampered);  // left as found, not re-anchored
  const auto still = read_head_file(path_ + ".head");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->seq, 3u);
  EXPECT_EQ(still->hash, head->hash);
}

// A forged entry is not covered by a write in progress that ended before it.
TEST_F(AuditLogTest, AWriteInProgressCoversOnlyTheEntriesItNames) {
  write_entries(3);
  const auto head = read_head_file(path_ + ".head");
  ASSERT_TRUE(head.ok());
  std::string more;
  std::string prev = head->hash;
  prev = detail::append_entry(more, 4, prev, record(4));
  prev = detail::append_entry(more, 5, prev, record(5));
  write(read() + more);
  const Anchor covers_one{3, head->hash, 4};
  const auto report = verify_chain(read(), covers_one);
  ASSERT_TRUE(report.anchor_problem);
  EXPECT_EQ(report.anchor_problem->line, 4u);
  EXPECT_NE(report.anchor_problem->what.find("2 entries that the writer never anchored"), std::string::npos);
  EXPECT_TRUE(verify_chain(read(), Anchor{3, head->hash, 5}).ok());
}

TEST_F(AuditLogTest, ALogCutShortWithItsHeadDeletedIsRefusedUnlessAccepted) {
  write_entries(4);
  auto ls = lines();
  ls.pop_back();
  write_lines(ls);
  fs::remove(path_ + ".head");
  expect_open_refused("has entries but no head file");
  EXPECT_EQ(lines().size(), 3u);
  auto accepted = AuditLog::open(path_, {}, OpenOptions{.accept_missing_head = true});
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ((*accepted)->last_seq(), 3u);
}

TEST_F(AuditLogTest, AnEmptyLogNeedsNoHeadFile) {
  write("");
  EXPECT_TRUE(AuditLog::open(path_).ok());
}

TEST_F(AuditLogTest, HeadFileWritingMustFollowItsSeq) {
  const std::string head_path = path_ + ".head";
  const std::string hash(64, 'a');
  std::ofstream(head_path, std::ios::trunc) << R"({"seq":3,"hash":")" << hash << R"(","writing":3})";
  EXPECT_FALSE(read_head_file(head_path).ok());
  std::ofstream(head_path, std::ios::trunc) << R"({"seq":3,"hash":")" << hash << R"(","writing":4})";
  ASSERT_TRUE(read_head_file(head_path).ok());
  EXPECT_EQ(read_head_file(head_path)->writing, 4u);
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
  for (const Anchor& anchor : {*head, Anchor{std::nullopt, head->hash, std::nullopt}}) {
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

TEST_F(AuditLogTest, AnAnchorFromAnEarlierHeadDoesNotVouchForEntriesAfterIt) {
  write_entries(3);
  const auto head = read_head_file(path_ + ".head");
  ASSERT_TRUE(head.ok());
  {
    auto log = AuditLog::open(path_);
    ASSERT_TRUE(log.ok());
    const std::vector<Record> group{record(4), record(5)};
    ASSERT_TRUE((*log)->append_and_sync(group).ok());
  }
  for (const Anchor& anchor : {*head, Anchor{std::nullopt, head->hash, std::nullopt}}) {
    const auto report = verify_chain(read(), anchor);
    EXPECT_FALSE(report.problem);
    ASSERT_TRUE(report.anchor_problem);
    EXPECT_EQ(report.anchor_problem->line, 4u);
    EXPECT_NE(report.anchor_problem->what.find("appended after the anchored head (seq 3): 2 entries"),
              std::string::npos);
  }
  EXPECT_TRUE(verify_chain(read(), *read_head_file(path_ + ".head")).ok());  // the current head
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
