package io.rackroll.controller.store;

import io.rackroll.proto.v1.Facts;
import java.time.Instant;
import java.util.Map;

/** One agent as the store knows it. Facts are the default instance until the first hello. */
public record StoredAgent(
    String id,
    Map<String, String> labels,
    Facts facts,
    String agentVersion,
    ConnectionState state,
    Instant stateSince,
    Instant firstSeen,
    Instant lastSeen,
    String certificateSerial,
    Instant certificateNotAfter,
    String certificateCa) {
  public StoredAgent {
    labels = Map.copyOf(labels);
  }
}
