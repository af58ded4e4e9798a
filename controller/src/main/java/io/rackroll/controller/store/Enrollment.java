package io.rackroll.controller.store;

import java.time.Instant;
import java.util.Map;

/** An agent that has just been issued a certificate. */
public record Enrollment(String agentId, Map<String, String> labels, String tokenId,
    String certificateSerial, Instant certificateNotAfter, Instant at) {
  public Enrollment {
    labels = Map.copyOf(labels);
  }
}
