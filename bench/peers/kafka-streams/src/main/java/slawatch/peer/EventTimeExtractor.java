package slawatch.peer;

import java.time.OffsetDateTime;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Stream time from the CloudEvent's `time` (event time), not the record's
 * produce time: the peer's stream-time clock is event time like slawatch's.
 * Finds the attribute by text so the value is not parsed twice.
 */
public final class EventTimeExtractor implements TimestampExtractor {
  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    if (record.value() instanceof String value) {
      int at = value.indexOf("\"time\":\"");
      if (at >= 0) {
        int start = at + 8;
        int end = value.indexOf('"', start);
        try {
          return OffsetDateTime.parse(value.substring(start, end)).toInstant().toEpochMilli();
        } catch (RuntimeException e) {
          // falls through: the processor rejects the record
        }
      }
    }
    return Math.max(partitionTime, 0);
  }
}
