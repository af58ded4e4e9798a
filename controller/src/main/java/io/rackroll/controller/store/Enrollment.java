package io.rackroll.controller.store;

import java.time.Instant;
import java.util.Map;

/** An agent that has just been issued a certificate. */
public record Enrollment(String agentId, Map<String, String> labels, String tokenId,
    String certificateSerial, Instant certificateNotAfter, String certificateCa, Instant at) {
  public Enrollment {
    labels = Map.copyOf(labels);
  }

  /** With no record of the issuing CA (tests that do not care). */
  public Enrollment(String agentId, Map<String, String> labels, String tokenId, String certificateSerial,
      Instant certificateNotAfter, Instant at) {
    this(agentId, labels, tokenId, certificateSerial, certificateNotAfter, "", at);
  }
}
