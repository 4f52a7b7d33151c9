#include "kafka/group_owners.h"

#include <librdkafka/rdkafka.h>

namespace slawatch {
namespace {

// Asked again this often while the group stands still (a member's crash changes
// owners only after a rebalance, which asks at once), sooner after a failed or
// unsettled answer.
constexpr auto kSteadyInterval = std::chrono::seconds(30);
constexpr auto kRetryInterval = std::chrono::seconds(2);
constexpr int kRequestTimeoutMs = 5000;

std::string member_name(const rd_kafka_MemberDescription_t* member) {
  const char* instance = rd_kafka_MemberDescription_group_instance_id(member);
  const char* host = rd_kafka_MemberDescription_host(member);
  std::string name = instance != nullptr && *instance != '\0' ? instance : rd_kafka_MemberDescription_consumer_id(member);
  if (host != nullptr && *host != '\0') name += std::string(" (") + (host[0] == '/' ? host + 1 : host) + ")";
  return name;
}

}  // namespace

GroupOwnersQuery::GroupOwnersQuery(rd_kafka_t* client, std::string group, std::string topic)
    : client_(client), group_(std::move(group)), topic_(std::move(topic)), queue_(rd_kafka_queue_new(client)),
      next_request_(Clock::now()) {}

GroupOwnersQuery::~GroupOwnersQuery() { rd_kafka_queue_destroy(queue_); }

void GroupOwnersQuery::refresh_after(Duration delay) {
  if (!in_flight_) next_request_ = Clock::now() + delay;
}

std::optional<std::map<uint16_t, std::string>> GroupOwnersQuery::poll(const std::string& own_member_id) {
  if (!in_flight_) {
    if (Clock::now() < next_request_) return std::nullopt;
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(client_, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_AdminOptions_set_request_timeout(options, kRequestTimeoutMs, nullptr, 0);
    const char* groups[] = {group_.c_str()};
    rd_kafka_DescribeConsumerGroups(client_, groups, 1, options, queue_);
    rd_kafka_AdminOptions_destroy(options);
    in_flight_ = true;
    return std::nullopt;
  }
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue_, 0);
  if (event == nullptr) return std::nullopt;
  in_flight_ = false;
  next_request_ = Clock::now() + kRetryInterval;
  std::optional<std::map<uint16_t, std::string>> owners;
  const rd_kafka_DescribeConsumerGroups_result_t* result = rd_kafka_event_DescribeConsumerGroups_result(event);
  size_t count = 0;
  const rd_kafka_ConsumerGroupDescription_t** groups =
      result != nullptr && rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR_NO_ERROR
          ? rd_kafka_DescribeConsumerGroups_result_groups(result, &count)
          : nullptr;
  // Only a settled group's assignment is worth reporting; during a rebalance it is empty or old.
  if (count == 1 && rd_kafka_ConsumerGroupDescription_error(groups[0]) == nullptr &&
      rd_kafka_ConsumerGroupDescription_state(groups[0]) == RD_KAFKA_CONSUMER_GROUP_STATE_STABLE) {
    owners.emplace();
    for (size_t i = 0; i < rd_kafka_ConsumerGroupDescription_member_count(groups[0]); ++i) {
      const rd_kafka_MemberDescription_t* member = rd_kafka_ConsumerGroupDescription_member(groups[0], i);
      if (own_member_id == rd_kafka_MemberDescription_consumer_id(member)) continue;
      const rd_kafka_topic_partition_list_t* assigned =
          rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(member));
      for (int p = 0; assigned != nullptr && p < assigned->cnt; ++p) {
        const rd_kafka_topic_partition_t& tp = assigned->elems[p];
        if (topic_ == tp.topic && tp.partition >= 0 && tp.partition <= 0xffff) {
          (*owners)[static_cast<uint16_t>(tp.partition)] = member_name(member);
        }
      }
    }
    next_request_ = Clock::now() + kSteadyInterval;
  }
  rd_kafka_event_destroy(event);
  return owners;
}

}  // namespace slawatch
