#pragma once
// Which member of the consumer group owns each partition of the events topic,
// asked of the broker without blocking (DescribeConsumerGroups, librdkafka's
// Admin API on the consumer's own handle), so the case API can name the
// instance that owns a case this one does not. Monitor thread only.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "model/time.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_queue_s rd_kafka_queue_t;

namespace slawatch {

class GroupOwnersQuery {
 public:
  // `client` must outlive this object.
  GroupOwnersQuery(rd_kafka_t* client, std::string group, std::string topic);
  ~GroupOwnersQuery();
  GroupOwnersQuery(const GroupOwnersQuery&) = delete;
  GroupOwnersQuery& operator=(const GroupOwnersQuery&) = delete;

  // Ask again `delay` from now (a rebalance just happened; the group settles first).
  void refresh_after(Duration delay);
  // Sends a request when one is due, or takes its answer when it has come:
  // partition -> owner ("<instance id> (<host>)") for the other members'
  // partitions; `own_member_id` is left out. nullopt while nothing new.
  std::optional<std::map<uint16_t, std::string>> poll(const std::string& own_member_id);

 private:
  using Clock = std::chrono::steady_clock;
  rd_kafka_t* client_;
  std::string group_;
  std::string topic_;
  rd_kafka_queue_t* queue_;
  bool in_flight_ = false;
  Clock::time_point next_request_;
};

}  // namespace slawatch
