#include "sim/simulator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace slawatch {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Haikou is UTC+8 all year (no daylight saving), so a fixed offset is exact.
constexpr Duration kLocalOffset = hours{8};
constexpr Duration kFirstResponseTarget = minutes{30};

// ---------------------------------------------------------------------------
// Randomness: xoshiro256** seeded through splitmix64. Fast, and free of the
// std:: distributions, whose output differs between standard libraries.

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform() < p; }
  // Uniform in [0, n).
  uint64_t below(uint64_t n) {
    return std::min(n - 1, static_cast<uint64_t>(uniform() * static_cast<double>(n)));
  }
  int64_t between(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }
  Duration between(Duration lo, Duration hi) { return Duration{between(lo.count(), hi.count())}; }
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  Duration lognormal(Duration median, double sigma) {
    return Duration{static_cast<int64_t>(static_cast<double>(median.count()) *
                                         std::exp(sigma * normal()))};
  }
  Duration exponential(Duration mean) {
    return Duration{static_cast<int64_t>(-static_cast<double>(mean.count()) *
                                         std::log(1.0 - uniform()))};
  }
  // Index into a table of weights.
  template <size_t N>
  size_t weighted(const std::array<double, N>& cumulative) {
    const double x = uniform() * cumulative.back();
    return static_cast<size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), x) -
                               cumulative.begin());
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
};

template <size_t N>
constexpr std::array<double, N> cumulative(const std::array<double, N>& weights) {
  std::array<double, N> out{};
  double sum = 0;
  for (size_t i = 0; i < N; ++i) out[i] = sum += weights[i];
  return out;
}

// ---------------------------------------------------------------------------
// The city: member units, request categories, and how they relate.

// 91 member units: the city bureaus and utilities the hotline dispatches to
// most, then the district offices and street/town offices of Haikou's four
// districts. The first 20 carry the readable names used in examples.
constexpr std::array<std::string_view, 91> kDepartmentIds = {
    "water", "power", "roads", "housing", "market", "sanitation", "traffic",
    "public-security", "health", "education", "gas", "transport", "environment",
    "urban-management", "human-resources", "civil-affairs", "natural-resources",
    "landscaping", "telecom", "tourism",
    "emergency-management", "fire-rescue", "ecology", "planning",
    "real-estate-registry", "housing-fund", "social-security", "medical-insurance",
    "commerce", "agriculture", "ocean-fisheries", "forestry", "culture", "sports",
    "veterans-affairs", "justice", "tax", "finance", "statistics", "audit",
    "meteorology", "port-authority", "bus-group", "taxi-management", "water-group",
    "power-grid", "gas-group", "china-mobile", "china-unicom", "china-telecom",
    "xiuying-urban-management", "xiuying-housing", "xiuying-market",
    "xiuying-sanitation", "xiuying-health", "xiuying-education",
    "xiuying-haixiu-street", "xiuying-xiuying-street", "xiuying-changliu-town",
    "xiuying-shishan-town",
    "longhua-urban-management", "longhua-housing", "longhua-market",
    "longhua-sanitation", "longhua-health", "longhua-education",
    "longhua-jinyu-street", "longhua-zhongshan-street", "longhua-haiken-street",
    "longhua-chengxi-town",
    "qiongshan-urban-management", "qiongshan-housing", "qiongshan-market",
    "qiongshan-sanitation", "qiongshan-health", "qiongshan-education",
    "qiongshan-fucheng-street", "qiongshan-guoxing-street",
    "qiongshan-fengxiang-street", "qiongshan-yunlong-town",
    "meilan-urban-management", "meilan-housing", "meilan-market",
    "meilan-sanitation", "meilan-health", "meilan-education",
    "meilan-haifu-street", "meilan-bailong-street", "meilan-lingshan-town",
    "meilan-yanfeng-town",
    "jiangdong-new-area",
};

// How slowly each of the first 20 units answers, relative to the city
// average; the rest get a factor from a fixed hash of their index, so the
// slow units are the same for every seed.
constexpr std::array<double, 20> kNamedDepartmentSlowness = {
    1.0, 0.6, 1.3, 2.2, 1.0, 0.8, 0.9, 0.5, 1.1, 1.4,
    0.6, 1.2, 1.6, 2.0, 1.5, 1.2, 1.8, 1.0, 0.8, 1.1};
constexpr std::array<double, 8> kOtherDepartmentSlowness = {0.5, 0.7, 0.9, 1.0,
                                                            1.0, 1.2, 1.5, 2.0};

// Share of first dispatches that go to the category's usual unit; the rest
// go to district and street offices or other bureaus.
constexpr double kPrimaryDepartmentShare = 0.65;

struct Category {
  std::string_view name;
  double weight;
  int primary_department;
  std::string_view summary;
};

constexpr std::array<Category, 24> kCategories = {{
    {"noise", 12, 12, "Construction noise late at night near a residential area"},
    {"garbage", 10, 5, "Garbage not collected for several days"},
    {"water-leak", 8, 0, "Water pipe leaking onto the street"},
    {"water-outage", 4, 0, "No running water in the building since morning"},
    {"illegal-parking", 8, 6, "Cars parked across the residential compound entrance"},
    {"power-outage", 6, 1, "Power outage in the neighbourhood"},
    {"housing-repair", 6, 3, "Roof leaking in a public rental flat"},
    {"property-management", 5, 3, "Property management company does not respond"},
    {"road-damage", 6, 2, "Large pothole in the main road"},
    {"market-price", 4, 4, "Overcharging at the wet market"},
    {"food-safety", 3, 4, "Expired food on sale in a grocery store"},
    {"wage-arrears", 5, 14, "Employer has not paid wages for two months"},
    {"illegal-construction", 5, 13, "Unauthorised structure being built on a rooftop"},
    {"streetlight", 3, 13, "Street lights out along the whole block"},
    {"public-safety", 3, 7, "Loose electric cables hanging over the sidewalk"},
    {"medical-service", 3, 8, "Long waiting time and poor service at a clinic"},
    {"school-enrollment", 3, 9, "Question about primary school enrollment"},
    {"public-transport", 3, 11, "Bus route not running to schedule"},
    {"gas-supply", 2, 10, "Piped gas supply interrupted"},
    {"tree-trimming", 2, 17, "Fallen tree blocking the sidewalk"},
    {"telecom-service", 2, 18, "No mobile signal in the area"},
    {"tourism-complaint", 2, 19, "Tour operator changed the itinerary without notice"},
    {"social-assistance", 2, 15, "Application for minimum living allowance"},
    {"land-dispute", 1, 16, "Dispute over land use boundary"},
}};

constexpr std::array<double, kCategories.size()> category_weights() {
  std::array<double, kCategories.size()> w{};
  for (size_t i = 0; i < kCategories.size(); ++i) w[i] = kCategories[i].weight;
  return w;
}
constexpr auto kCategoryCumulative = cumulative(category_weights());

enum class Priority : uint8_t { normal, urgent, emergency };
constexpr std::array<std::string_view, 3> kPriorityNames = {"normal", "urgent", "emergency"};
constexpr auto kPriorityCumulative = cumulative(std::array<double, 3>{85, 12, 3});

constexpr std::array<std::string_view, 4> kChannels = {"phone", "wechat", "app", "web"};
constexpr auto kChannelCumulative = cumulative(std::array<double, 4>{60, 20, 12, 8});

constexpr std::array<std::string_view, 4> kDistricts = {"longhua", "meilan", "xiuying",
                                                        "qiongshan"};
constexpr auto kDistrictCumulative = cumulative(std::array<double, 4>{30, 28, 22, 20});

constexpr std::array<std::string_view, 4> kReturnReasons = {
    "not our responsibility", "outside our jurisdiction",
    "belongs to the property management company", "wrong district"};
constexpr std::array<std::string_view, 3> kSuspendReasons = {
    "awaiting citizen", "citizen unreachable", "awaiting third party"};

// Relative call volume by local hour of day.
constexpr std::array<double, 24> kHourlyCallVolume = {
    0.25, 0.15, 0.10, 0.08, 0.08, 0.15, 0.35, 0.80, 1.40, 1.80, 1.90, 1.70,
    1.20, 1.10, 1.50, 1.70, 1.60, 1.40, 1.10, 1.00, 1.00, 0.90, 0.70, 0.45};

int local_hour(Instant t) {
  const auto local = t + kLocalOffset;
  return static_cast<int>((local - std::chrono::floor<days>(local)) / hours{1});
}

// Adds `work` of working time (Mon-Fri 08:00-12:00 and 14:30-17:30 local) to
// `from`, so department work lands in office hours the way it does in a city
// office. Holidays are not modelled.
Instant add_working_time(Instant from, Duration work) {
  constexpr std::array<std::pair<Duration, Duration>, 2> kPeriods = {{
      {hours{8}, hours{12}},
      {hours{14} + minutes{30}, hours{17} + minutes{30}},
  }};
  auto local = from + kLocalOffset;
  while (true) {
    const auto day = std::chrono::floor<days>(local);
    const std::chrono::weekday wd{std::chrono::sys_days{day}};
    if (wd != std::chrono::Saturday && wd != std::chrono::Sunday) {
      for (const auto& [open, close] : kPeriods) {
        const auto period_end = day + close;
        if (local >= period_end) continue;
        const auto begin = std::max(local, day + open);
        const auto available = period_end - begin;
        if (work <= available) return begin + work - kLocalOffset;
        work -= available;
        local = period_end;
      }
    }
    local = day + days{1};
  }
}

// ---------------------------------------------------------------------------
// Formatting. Records are formatted by hand into a fixed buffer: building a
// JSON tree, or growing a std::string a character at a time, costs more than
// all the rest of the generator. Every string goes through the escaper.

struct LocalDate {
  int year;
  unsigned month;
  unsigned day;
};

LocalDate local_date(Instant t) {
  const std::chrono::year_month_day ymd{std::chrono::floor<days>(t + kLocalOffset)};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day())};
}

class LineWriter {
 public:
  void clear() { size_ = 0; }
  std::string_view view() const { return {buf_.data(), size_}; }
  size_t size() const { return size_; }

  // Output beyond the capacity is dropped; records are far smaller, since
  // every string in them comes from a fixed table.
  void put(char c) {
    if (size_ < buf_.size()) buf_[size_++] = c;
  }
  void put(std::string_view text) {
    const size_t n = std::min(text.size(), buf_.size() - size_);
    std::memcpy(buf_.data() + size_, text.data(), n);
    size_ += n;
  }
  void put_uint(uint64_t value) {
    char digits[24];
    const auto res = std::to_chars(digits, digits + sizeof digits, value);
    put(std::string_view(digits, static_cast<size_t>(res.ptr - digits)));
  }
  void put_padded(uint64_t value, int width) {
    char digits[24];
    const auto res = std::to_chars(digits, digits + sizeof digits, value);
    for (auto len = res.ptr - digits; len < width; ++len) put('0');
    put(std::string_view(digits, static_cast<size_t>(res.ptr - digits)));
  }
  // A JSON string literal.
  void put_quoted(std::string_view text) {
    put('"');
    const auto needs_escape = [](char ch) {
      return ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20;
    };
    if (std::none_of(text.begin(), text.end(), needs_escape)) {
      put(text);
    } else {
      for (const char ch : text) {
        if (!needs_escape(ch)) {
          put(ch);
        } else if (ch == '"' || ch == '\\') {
          put('\\');
          put(ch);
        } else {
          constexpr char kHex[] = "0123456789abcdef";
          const auto c = static_cast<unsigned char>(ch);
          put("\\u00");
          put(kHex[c >> 4]);
          put(kHex[c & 0xf]);
        }
      }
    }
    put('"');
  }
  // "2026-03-02T09:00:00.000+08:00"; `impossible_date` writes February 30.
  void put_local_time(Instant t, bool impossible_date) {
    const auto local = t + kLocalOffset;
    const auto day = std::chrono::floor<days>(local);
    const std::chrono::year_month_day ymd{day};
    auto ms = static_cast<uint64_t>((local - day).count());
    put_padded(static_cast<uint64_t>(static_cast<int>(ymd.year())), 4);
    put('-');
    if (impossible_date) {
      put("02-30");
    } else {
      put_padded(static_cast<unsigned>(ymd.month()), 2);
      put('-');
      put_padded(static_cast<unsigned>(ymd.day()), 2);
    }
    put('T');
    put_padded(ms / 3'600'000, 2);
    ms %= 3'600'000;
    put(':');
    put_padded(ms / 60'000, 2);
    ms %= 60'000;
    put(':');
    put_padded(ms / 1000, 2);
    put('.');
    put_padded(ms % 1000, 3);
    put("+08:00");
  }

 private:
  std::array<char, 4096> buf_{};
  size_t size_ = 0;
};

// Binary min-heap by `Before`, with replace_top: moving a case on to its
// next event is one sift instead of a pop and a push.
template <class T, class Before>
class MinHeap {
 public:
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const T& top() const { return items_.front(); }

  void push(T item) {
    size_t i = items_.size();
    items_.push_back(std::move(item));
    T moving = std::move(items_[i]);
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!Before{}(moving, items_[parent])) break;
      items_[i] = std::move(items_[parent]);
      i = parent;
    }
    items_[i] = std::move(moving);
  }
  T pop() {
    T out = std::move(items_.front());
    T last = std::move(items_.back());
    items_.pop_back();
    if (!items_.empty()) sift_down(std::move(last));
    return out;
  }
  void replace_top(T item) { sift_down(std::move(item)); }

 private:
  void sift_down(T moving) {
    const size_t n = items_.size();
    size_t i = 0;
    while (true) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Before{}(items_[child + 1], items_[child])) ++child;
      if (!Before{}(items_[child], moving)) break;
      items_[i] = std::move(items_[child]);
      i = child;
    }
    items_[i] = std::move(moving);
  }

  std::vector<T> items_;
};

// ---------------------------------------------------------------------------
// Case lifecycle.

enum class Step : uint8_t {
  created,
  updated,
  dispatched,
  acknowledged,
  returned,
  suspended,
  resumed,
  resolved,
  closed,
  feedback,
  reopened,
};

constexpr std::array<std::string_view, 11> kStepTypes = {
    "hotline.case.created",   "hotline.case.updated",   "hotline.case.dispatched",
    "hotline.case.acknowledged", "hotline.case.returned", "hotline.case.suspended",
    "hotline.case.resumed",   "hotline.case.resolved",  "hotline.case.closed",
    "hotline.case.feedback",  "hotline.case.reopened"};

bool is_department_action(Step step) {
  switch (step) {
    case Step::acknowledged:
    case Step::returned:
    case Step::suspended:
    case Step::resumed:
    case Step::resolved:
      return true;
    default:
      return false;
  }
}

// One open case and the one event it will emit next. Kept small: there can
// be hundreds of thousands of these in a long run.
struct CaseState {
  int64_t number = 0;  // creation order; breaks ties between cases
  uint32_t created_date = 0;  // local yyyymmdd, part of the case id
  uint32_t day_sequence = 0;
  uint8_t category = 0;
  Priority priority = Priority::normal;
  uint8_t channel = 0;
  uint8_t district = 0;
  int16_t department = -1;       // the unit currently holding the case
  int16_t returned_by = -1;      // the unit that returned it last
  int16_t returned_before = -1;  // the one before: the A of A->B->A
  uint8_t returns = 0;
  bool reopened = false;

  // The pending event.
  Step step = Step::created;
  Instant at;
  int16_t from_department = -1;
  uint8_t detail = 0;  // reason index, new priority, or feedback score
  bool satisfied = false;

  Instant planned_dispatch_at;  // when an `updated` comes before the dispatch
  Duration work_left{0};        // resolution work still to do after a suspension
};

// Where creation times fall: `cases` instants spread over [start, start +
// span), denser in office hours, in non-decreasing order. Stratified: case i
// lands in the i-th slice of the cumulative call volume, so the stream is
// sorted without buffering.
class CreationSchedule {
 public:
  CreationSchedule(Instant start, Duration span, int64_t cases, uint64_t seed)
      : start_(start), end_(start + span), cases_(cases), rng_(seed) {
    for (Segment s = first_segment(); s.begin < end_; s = following(s)) total_ += s.volume;
    segment_ = first_segment();
    last_ = start_;
  }

  bool done() const { return index_ >= cases_; }
  Instant peek() const { return next_; }

  // Computes the next creation time; call once before the first peek.
  void advance() {
    if (done()) return;
    const double target =
        total_ * (static_cast<double>(index_) + rng_.uniform()) / static_cast<double>(cases_);
    while (target >= consumed_ + segment_.volume) {
      const Segment after = following(segment_);
      if (after.begin >= end_) break;
      consumed_ += segment_.volume;
      segment_ = after;
    }
    const double hours_in = (target - consumed_) / kHourlyCallVolume[segment_.hour];
    Instant t = segment_.begin + Duration{static_cast<int64_t>(hours_in * 3'600'000.0)};
    t = std::clamp(t, last_, end_ - Duration{1});
    last_ = t;
    next_ = t;
    ++index_;
  }

  // The number of the case whose time peek() returns.
  int64_t number() const { return index_ - 1; }

 private:
  struct Segment {
    Instant begin;
    Instant end;
    int hour;
    double volume;  // call volume of the segment: weight x hours
  };

  Segment make_segment(Instant begin) const {
    const auto local = begin + kLocalOffset;
    const auto next_hour = std::chrono::floor<hours>(local) + hours{1} - kLocalOffset;
    const Instant end = std::min(Instant{next_hour}, end_);
    const int hour = local_hour(begin);
    const double length_hours = static_cast<double>((end - begin).count()) / 3'600'000.0;
    return {begin, end, hour, kHourlyCallVolume[hour] * length_hours};
  }
  Segment first_segment() const { return make_segment(start_); }
  Segment following(const Segment& s) const {
    if (s.end >= end_) return {end_, end_, s.hour, 0};
    return make_segment(s.end);
  }

  Instant start_;
  Instant end_;
  int64_t cases_;
  Rng rng_;
  double total_ = 0;
  double consumed_ = 0;
  Segment segment_{};
  int64_t index_ = 0;
  Instant last_;
  Instant next_;
};

enum class Corruption : uint8_t { none, truncated, missing_field, bad_time, unknown_type, bad_case_id };

}  // namespace

// ---------------------------------------------------------------------------

class HotlineSimulator::Impl {
 public:
  explicit Impl(SimulatorOptions options)
      : options_(validated(std::move(options))),
        schedule_(options_.start, options_.span, options_.cases, options_.seed ^ 0x5c4ed01eULL),
        case_rng_(options_.seed),
        disorder_rng_(options_.seed ^ 0xd150dde7ULL) {
    departments_ = department_ids(options_.departments);
    for (const auto& id : departments_) department_sources_.push_back("/haikou/12345/dept/" + id);
    init_response_model();
    id_prefix_ = "sim-" + std::to_string(options_.seed) + "-";
    schedule_.advance();
  }

  bool next(SimRecord& out) {
    if (release_held_) {
      release_held_ = false;
      std::swap(out, held_);
      return true;
    }
    if (!next_in_arrival_order(out)) {
      if (!has_held_) return false;
      has_held_ = false;
      std::swap(out, held_);
      return true;
    }
    if (has_held_) {
      // `out` overtakes the held record, which then arrives with it.
      has_held_ = false;
      release_held_ = true;
      held_.arrival_time = std::max(held_.arrival_time, out.arrival_time);
      return true;
    }
    if (options_.reorder_fraction > 0 && out.kind == RecordKind::good &&
        disorder_rng_.chance(options_.reorder_fraction)) {
      std::swap(out, held_);
      has_held_ = true;
      ++stats_.reordered_records;
      return next(out);
    }
    return true;
  }

  const SimulatorStats& stats() const { return stats_; }

 private:
  struct Pending {
    Instant arrival;
    int64_t sequence;
    SimRecord record;
  };
  struct ArrivesFirst {
    bool operator()(const Pending& a, const Pending& b) const {
      if (a.arrival != b.arrival) return a.arrival < b.arrival;
      return a.sequence < b.sequence;
    }
  };
  struct Scheduled {
    Instant at;
    int64_t number;
    uint32_t slot;
  };
  struct DueFirst {
    bool operator()(const Scheduled& a, const Scheduled& b) const {
      if (a.at != b.at) return a.at < b.at;
      return a.number < b.number;
    }
  };

  static SimulatorOptions validated(SimulatorOptions options) {
    const SimulatorOptions& o = options;
    auto fraction_ok = [](double f) { return f >= 0 && f <= 1; };
    if (o.cases < 0) throw std::invalid_argument("simulator: cases must be >= 0");
    if (o.span <= Duration{0} || o.span > days{366 * 100})
      throw std::invalid_argument("simulator: span must be > 0 and at most 100 years");
    if (o.departments < 2 || o.departments > 9999)
      throw std::invalid_argument("simulator: departments must be in 2..9999");
    if (!fraction_ok(o.late_first_response) || !fraction_ok(o.late_fraction) ||
        !fraction_ok(o.reorder_fraction) || !fraction_ok(o.duplicate_fraction) ||
        !fraction_ok(o.malformed_fraction))
      throw std::invalid_argument("simulator: fractions must be in [0, 1]");
    if (o.max_lateness < Duration{1})
      throw std::invalid_argument("simulator: max_lateness must be >= 1ms");
    const auto first_year = local_date(o.start).year;
    const auto last_year = local_date(o.start + o.span + days{366}).year;
    if (first_year < 1971 || last_year > 9999)
      throw std::invalid_argument("simulator: start and span must stay within years 1971-9999");
    return options;
  }

  // Per-unit probability of a late first response, scaled so that the city
  // as a whole meets `late_first_response` while slow units stand out.
  void init_response_model() {
    const auto n = departments_.size();
    slowness_.resize(n);
    for (size_t d = 0; d < n; ++d) {
      if (d < kNamedDepartmentSlowness.size()) {
        slowness_[d] = kNamedDepartmentSlowness[d];
      } else {
        uint64_t h = d;
        slowness_[d] = kOtherDepartmentSlowness[splitmix64(h) % kOtherDepartmentSlowness.size()];
      }
    }
    std::vector<double> share(n, (1.0 - kPrimaryDepartmentShare) / static_cast<double>(n));
    const double total_weight = kCategoryCumulative.back();
    for (const auto& c : kCategories)
      share[primary_department_of(c)] += kPrimaryDepartmentShare * c.weight / total_weight;
    double mean_slowness = 0;
    for (size_t d = 0; d < n; ++d) mean_slowness += share[d] * slowness_[d];
    late_probability_.resize(n);
    for (size_t d = 0; d < n; ++d)
      late_probability_[d] =
          std::min(0.9, options_.late_first_response * slowness_[d] / mean_slowness);
  }

  size_t primary_department_of(const Category& c) const {
    return static_cast<size_t>(c.primary_department) % departments_.size();
  }

  // Stage 2: records leave in arrival order. A pending record can leave once
  // no event still to be generated could arrive before it: every future
  // record arrives at or after the next event time.
  bool next_in_arrival_order(SimRecord& out) {
    while (true) {
      const Instant frontier = next_event_time();
      if (!arrivals_.empty() && arrivals_.top().arrival <= frontier) {
        out = arrivals_.pop().record;
        return true;
      }
      if (frontier == kMaxInstant) return false;

      const bool malformed =
          options_.malformed_fraction > 0 && disorder_rng_.chance(options_.malformed_fraction);
      generate_event(out, malformed ? &malformed_scratch_ : nullptr);
      ++stats_.good_records;
      out.kind = RecordKind::good;
      out.arrival_time = out.event_time;
      if (malformed) {
        ++stats_.malformed_records;
        push_pending(std::move(malformed_scratch_));
      }
      add_duplicate(out);
      if (options_.late_fraction > 0 && disorder_rng_.chance(options_.late_fraction)) {
        const double u = disorder_rng_.uniform();
        // Most late records are a little late, a few very late.
        const auto lateness = std::max(
            Duration{1000},
            Duration{static_cast<int64_t>(u * u * static_cast<double>(options_.max_lateness.count()))});
        out.arrival_time = out.event_time + std::min(lateness, options_.max_lateness);
        ++stats_.late_records;
        push_pending(std::move(out));
        continue;
      }
      // Everything pending arrives after the frontier, so `out` can go now.
      note_memory();
      return true;
    }
  }

  void add_duplicate(const SimRecord& good) {
    if (options_.duplicate_fraction > 0 && disorder_rng_.chance(options_.duplicate_fraction)) {
      SimRecord copy = good;
      copy.kind = RecordKind::duplicate;
      copy.arrival_time = good.arrival_time + disorder_rng_.between(Duration{1}, minutes{2});
      ++stats_.duplicate_records;
      push_pending(std::move(copy));
    }
  }

  // An extra, broken copy of the case's pending event, arriving with it.
  void format_malformed(const CaseState& c, const std::string& case_id, SimRecord& bad) {
    bad.kind = RecordKind::malformed;
    bad.event_time = c.at;
    bad.arrival_time = c.at;
    bad.case_id = case_id;
    const auto corruption = static_cast<Corruption>(
        1 + disorder_rng_.below(static_cast<uint64_t>(Corruption::bad_case_id)));
    format_event(c, corruption, next_bad_id_++);
    auto text = writer_.view();
    // Any strict prefix of a JSON object is invalid JSON.
    if (corruption == Corruption::truncated) text = text.substr(0, 1 + disorder_rng_.below(text.size() - 1));
    bad.line.assign(text);
  }

  void push_pending(SimRecord record) {
    const Instant arrival = record.arrival_time;
    arrivals_.push(Pending{arrival, pending_sequence_++, std::move(record)});
    note_memory();
  }

  void note_memory() {
    const auto active = static_cast<int64_t>(queue_.size());
    stats_.max_active_cases = std::max(stats_.max_active_cases, active);
    stats_.max_pending_records =
        std::max(stats_.max_pending_records, active + static_cast<int64_t>(arrivals_.size()));
  }

  // Stage 1: events in event-time order, from new cases and from the heap of
  // open cases, each of which holds exactly one pending event.
  Instant next_event_time() const {
    Instant t = kMaxInstant;
    if (pending_creation()) t = schedule_.peek();
    if (!queue_.empty()) t = std::min(t, queue_.top().at);
    return t;
  }
  bool pending_creation() const { return created_ < options_.cases; }

  // Emits the next event in event-time order into `out` (and, when asked, a
  // malformed copy of it into `malformed`), then moves that case on.
  void generate_event(SimRecord& out, SimRecord* malformed) {
    const bool from_queue =
        !pending_creation() || (!queue_.empty() && queue_.top().at < schedule_.peek());
    uint32_t slot;
    if (from_queue) {
      slot = queue_.top().slot;
    } else {
      slot = open_case(schedule_.peek(), schedule_.number());
      schedule_.advance();
    }
    CaseState& c = slots_[slot];
    format_event(c, Corruption::none, 0);
    out.line.assign(writer_.view());
    out.event_time = c.at;
    assign_case_id(out.case_id, c);
    if (malformed != nullptr) format_malformed(c, out.case_id, *malformed);
    if (advance(c)) {
      const Scheduled next{c.at, c.number, slot};
      if (from_queue)
        queue_.replace_top(next);
      else
        queue_.push(next);
    } else {
      if (from_queue) queue_.pop();
      free_slots_.push_back(slot);
    }
  }

  uint32_t open_case(Instant at, int64_t number) {
    uint32_t slot;
    if (free_slots_.empty()) {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
    }
    CaseState& c = slots_[slot];
    c = CaseState{};
    c.number = number;
    const auto date = local_date(at);
    c.created_date = static_cast<uint32_t>(date.year * 10000) + date.month * 100 + date.day;
    if (c.created_date != sequence_date_) {
      sequence_date_ = c.created_date;
      day_sequence_ = 0;
    }
    c.day_sequence = ++day_sequence_;
    c.category = static_cast<uint8_t>(case_rng_.weighted(kCategoryCumulative));
    c.priority = static_cast<Priority>(case_rng_.weighted(kPriorityCumulative));
    c.channel = static_cast<uint8_t>(case_rng_.weighted(kChannelCumulative));
    c.district = static_cast<uint8_t>(case_rng_.weighted(kDistrictCumulative));
    c.step = Step::created;
    c.at = at;
    ++created_;
    ++stats_.cases_created;
    return slot;
  }

  // Moves a case past the event it just emitted: draws the next event, or
  // returns false when the case has nothing more to say.
  bool advance(CaseState& c) {
    Rng& r = case_rng_;
    const Instant now = c.at;
    c.from_department = -1;
    switch (c.step) {
      case Step::created: {
        const Duration dispatch_delay = r.between(minutes{1}, minutes{10});
        c.department = choose_first_department(c);
        if (r.chance(0.03)) {  // re-triaged before dispatch, mostly escalated
          c.planned_dispatch_at = now + dispatch_delay;
          c.detail = static_cast<uint8_t>(
              c.priority == Priority::normal   ? Priority::urgent
              : c.priority == Priority::urgent ? (r.chance(0.4) ? Priority::emergency : Priority::normal)
                                               : Priority::urgent);
          return schedule(c, Step::updated,
                          now + std::max(Duration{1000}, Duration{static_cast<int64_t>(
                                                             static_cast<double>(dispatch_delay.count()) *
                                                             (0.2 + 0.6 * r.uniform()))}));
        }
        return schedule(c, Step::dispatched, now + dispatch_delay);
      }
      case Step::updated:
        c.priority = static_cast<Priority>(c.detail);
        return schedule(c, Step::dispatched, c.planned_dispatch_at);
      case Step::dispatched: {
        const double return_probability = c.returns == 0 ? 0.08 : c.returns < 3 ? 0.15 : 0.0;
        if (!c.reopened && r.chance(return_probability)) {
          c.detail = static_cast<uint8_t>(r.below(kReturnReasons.size()));
          return schedule(c, Step::returned,
                          now + std::max(Duration{minutes{1}}, r.lognormal(minutes{25}, 0.6)));
        }
        return schedule(c, Step::acknowledged, now + response_time(c.department));
      }
      case Step::returned: {
        c.returned_before = c.returned_by;
        c.returned_by = c.department;
        ++c.returns;
        c.department = choose_redispatch_department(c);
        c.from_department = c.returned_by;
        return schedule(c, Step::dispatched, now + r.between(minutes{5}, minutes{30}));
      }
      case Step::acknowledged:
        if (options_.leave_open) return false;
        plan_work(c);
        if (r.chance(c.priority == Priority::emergency ? 0.25 : 0.05)) {
          c.detail = static_cast<uint8_t>(r.below(kSuspendReasons.size()));
          const Duration before_suspend = c.priority == Priority::emergency
                                              ? r.between(minutes{10}, hours{3})
                                              : r.between(hours{1}, hours{24});
          return schedule(c, Step::suspended, now + before_suspend);
        }
        return schedule(c, Step::resolved, finish_work(c, now, c.work_left));
      case Step::suspended: {
        const Duration waiting = c.priority == Priority::emergency ? r.lognormal(hours{3}, 0.8)
                                                                   : r.lognormal(hours{20}, 0.7);
        return schedule(c, Step::resumed, now + std::max(Duration{minutes{5}}, waiting));
      }
      case Step::resumed: {
        const auto remaining = Duration{static_cast<int64_t>(static_cast<double>(c.work_left.count()) *
                                                             (0.3 + 0.6 * r.uniform()))};
        return schedule(c, Step::resolved, finish_work(c, now, remaining));
      }
      case Step::resolved:
        return schedule(c, Step::closed, now + std::max(Duration{minutes{5}}, r.lognormal(hours{3}, 0.8)));
      case Step::closed:
        if (!r.chance(0.9)) return false;  // no return visit reached the citizen
        c.satisfied = r.chance(0.9);
        c.detail = static_cast<uint8_t>(c.satisfied ? (r.chance(0.7) ? 5 : 4) : r.between(1, 3));
        return schedule(c, Step::feedback, now + std::max(Duration{hours{1}}, r.lognormal(hours{24}, 0.5)));
      case Step::feedback:
        if (c.satisfied || c.reopened || !r.chance(0.35)) return false;
        return schedule(c, Step::reopened, now + std::max(Duration{minutes{10}}, r.lognormal(hours{2}, 0.8)));
      case Step::reopened:
        c.reopened = true;
        return schedule(c, Step::dispatched, now + r.between(minutes{5}, minutes{60}));
    }
    return false;
  }

  bool schedule(CaseState& c, Step step, Instant at) {
    c.step = step;
    c.at = std::max(at, c.at + Duration{1000});
    return true;
  }

  // Total resolution work after acknowledgement: emergencies in hours of
  // calendar time, others in days of working time.
  void plan_work(CaseState& c) {
    Rng& r = case_rng_;
    Duration work;
    switch (c.priority) {
      case Priority::emergency:
        work = r.lognormal(hours{5}, 0.9);
        break;
      case Priority::urgent:
        work = r.lognormal(hours{7}, 0.6);  // about one working day
        break;
      case Priority::normal:
      default:
        work = r.lognormal(hours{21}, 0.55);  // about three working days
        break;
    }
    if (c.reopened) work /= 2;
    c.work_left = std::max(work, Duration{minutes{10}});
  }

  Instant finish_work(const CaseState& c, Instant from, Duration work) const {
    if (c.priority == Priority::emergency) return from + work;
    return add_working_time(from, work);
  }

  Duration response_time(int16_t department) {
    Rng& r = case_rng_;
    const auto d = static_cast<size_t>(department);
    const double pace = std::sqrt(slowness_[d]);
    if (r.chance(late_probability_[d])) {
      // Beyond the 30-minute target; a few beyond an hour.
      return kFirstResponseTarget + Duration{1000} +
             r.exponential(Duration{static_cast<int64_t>(20 * 60'000 * pace)});
    }
    const auto median = Duration{static_cast<int64_t>(10 * 60'000 * pace)};
    for (int attempt = 0; attempt < 4; ++attempt) {
      const Duration t = r.lognormal(median, 0.6);
      if (t >= seconds{30} && t < kFirstResponseTarget) return t;
    }
    return r.between(minutes{2}, minutes{25});
  }

  int16_t choose_first_department(const CaseState& c) {
    if (case_rng_.chance(kPrimaryDepartmentShare))
      return static_cast<int16_t>(primary_department_of(kCategories[c.category]));
    return static_cast<int16_t>(case_rng_.below(departments_.size()));
  }

  int16_t choose_redispatch_department(const CaseState& c) {
    Rng& r = case_rng_;
    if (c.returned_before >= 0 && c.returned_before != c.returned_by && r.chance(0.4))
      return c.returned_before;  // back to the unit that returned it first: A -> B -> A
    const auto primary = static_cast<int16_t>(primary_department_of(kCategories[c.category]));
    if (primary != c.returned_by && r.chance(0.6)) return primary;
    auto other = static_cast<int16_t>(r.below(departments_.size() - 1));
    if (other >= c.returned_by) ++other;
    return other;
  }

  static void put_case_id(LineWriter& w, const CaseState& c) {
    w.put("HK-");
    w.put_uint(c.created_date);
    w.put('-');
    w.put_padded(c.day_sequence, 6);
  }

  // "HK-20260302-000123": local creation date and the day's sequence number.
  static void assign_case_id(std::string& out, const CaseState& c) {
    char text[40] = "HK-";
    char* end = std::to_chars(text + 3, text + 20, c.created_date).ptr;
    *end++ = '-';
    char digits[12];
    const char* digits_end = std::to_chars(digits, digits + sizeof digits, c.day_sequence).ptr;
    for (auto len = digits_end - digits; len < 6; ++len) *end++ = '0';
    end = std::copy(static_cast<const char*>(digits), digits_end, end);
    out.assign(text, end);
  }

  // One CloudEvent line for the case's pending event. `bad_id` > 0 formats a
  // malformed extra record with an id of its own.
  void format_event(const CaseState& c, Corruption corruption, uint64_t bad_id) {
    LineWriter& line = writer_;
    const bool dept_action = is_department_action(c.step);
    int omit = -1;  // which attribute a missing_field corruption drops
    if (corruption == Corruption::missing_field) omit = static_cast<int>(disorder_rng_.below(7));

    line.clear();
    line.put('{');
    bool first = true;
    auto key = [&](std::string_view name) {
      if (!first) line.put(',');
      first = false;
      line.put('"');
      line.put(name);
      line.put("\":");
    };
    if (omit != 0) {
      key("specversion");
      line.put("\"1.0\"");
    }
    if (omit != 1) {
      key("id");
      line.put('"');
      line.put(id_prefix_);
      if (corruption != Corruption::none) {
        line.put("bad-");
        line.put_uint(bad_id);
      } else {
        line.put_uint(next_event_id_++);
      }
      line.put('"');
    }
    if (omit != 2) {
      key("source");
      if (dept_action)
        line.put_quoted(department_sources_[static_cast<size_t>(c.department)]);
      else
        line.put("\"/haikou/12345/callcenter\"");
    }
    if (omit != 3) {
      key("type");
      if (corruption == Corruption::unknown_type)
        line.put("\"hotline.case.escalated\"");
      else
        line.put_quoted(kStepTypes[static_cast<size_t>(c.step)]);
    }
    if (omit != 4) {
      key("subject");
      line.put('"');
      if (corruption == Corruption::bad_case_id) {
        line.put("HK ");  // a space is not allowed in a case id
        line.put_uint(c.created_date);
        line.put('/');
        line.put_uint(c.day_sequence);
      } else {
        put_case_id(line, c);
      }
      line.put('"');
    }
    if (omit != 5) {
      key("time");
      line.put('"');
      line.put_local_time(c.at, corruption == Corruption::bad_time);
      line.put('"');
    }
    if (omit != 6) {
      key("data");
      append_data(c, line);
    }
    line.put('}');
  }

  void append_data(const CaseState& c, LineWriter& line) const {
    const auto dept = [&](int16_t d) -> const std::string& { return departments_[static_cast<size_t>(d)]; };
    auto field = [&](bool first, std::string_view name) {
      if (!first) line.put(',');
      line.put('"');
      line.put(name);
      line.put("\":");
    };
    line.put('{');
    switch (c.step) {
      case Step::created: {
        const Category& cat = kCategories[c.category];
        field(true, "category");
        line.put_quoted(cat.name);
        field(false, "priority");
        line.put_quoted(kPriorityNames[static_cast<size_t>(c.priority)]);
        field(false, "channel");
        line.put_quoted(kChannels[c.channel]);
        field(false, "district");
        line.put_quoted(kDistricts[c.district]);
        field(false, "summary");
        line.put_quoted(cat.summary);
        break;
      }
      case Step::updated:
        field(true, "priority");
        line.put_quoted(kPriorityNames[c.detail]);
        break;
      case Step::dispatched:
        field(true, "department");
        line.put_quoted(dept(c.department));
        if (c.from_department >= 0) {
          field(false, "from_department");
          line.put_quoted(dept(c.from_department));
        }
        field(false, "actor");
        line.put("\"agent-");
        line.put_padded(static_cast<uint64_t>(c.number % 240) + 1, 3);
        line.put('"');
        break;
      case Step::acknowledged:
      case Step::resolved:
        field(true, "department");
        line.put_quoted(dept(c.department));
        field(false, "actor");
        line.put('"');
        line.put(dept(c.department));
        line.put("-staff-");
        line.put_padded(static_cast<uint64_t>(c.number % 17) + 1, 2);
        line.put('"');
        break;
      case Step::returned:
        field(true, "department");
        line.put_quoted(dept(c.department));
        field(false, "reason");
        line.put_quoted(kReturnReasons[c.detail]);
        break;
      case Step::suspended:
        field(true, "reason");
        line.put_quoted(kSuspendReasons[c.detail]);
        break;
      case Step::reopened:
        field(true, "reason");
        line.put("\"citizen not satisfied\"");
        break;
      case Step::feedback:
        field(true, "satisfied");
        line.put(c.satisfied ? "true" : "false");
        field(false, "score");
        line.put_uint(c.detail);
        break;
      case Step::resumed:
      case Step::closed:
        break;
    }
    line.put('}');
  }

  SimulatorOptions options_;
  CreationSchedule schedule_;
  Rng case_rng_;      // everything about the cases
  Rng disorder_rng_;  // everything about delivery: the good stream is the same with or without disorder
  std::vector<std::string> departments_;
  std::vector<std::string> department_sources_;
  std::vector<double> slowness_;
  std::vector<double> late_probability_;
  std::string id_prefix_;

  std::vector<CaseState> slots_;
  std::vector<uint32_t> free_slots_;
  MinHeap<Scheduled, DueFirst> queue_;  // open cases by next event time
  int64_t created_ = 0;
  uint32_t sequence_date_ = 0;
  uint32_t day_sequence_ = 0;
  uint64_t next_event_id_ = 1;
  uint64_t next_bad_id_ = 1;
  SimRecord malformed_scratch_;

  MinHeap<Pending, ArrivesFirst> arrivals_;  // records waiting for their arrival time
  LineWriter writer_;
  int64_t pending_sequence_ = 0;
  SimRecord held_;  // a record overtaken by its neighbour (reorder)
  bool has_held_ = false;
  bool release_held_ = false;

  SimulatorStats stats_;
};

HotlineSimulator::HotlineSimulator(SimulatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
HotlineSimulator::~HotlineSimulator() = default;

bool HotlineSimulator::next(SimRecord& out) { return impl_->next(out); }

const SimulatorStats& HotlineSimulator::stats() const { return impl_->stats(); }

std::vector<std::string> HotlineSimulator::department_ids(int count) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(std::max(count, 0)));
  for (int i = 0; i < count; ++i) {
    if (static_cast<size_t>(i) < kDepartmentIds.size()) {
      ids.emplace_back(kDepartmentIds[static_cast<size_t>(i)]);
    } else {
      const std::string number = std::to_string(i + 1);
      ids.push_back("unit-" + std::string(number.size() < 3 ? 3 - number.size() : 0, '0') + number);
    }
  }
  return ids;
}

}  // namespace slawatch
