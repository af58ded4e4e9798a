package io.rackroll.controller.store;

import java.time.Instant;
import java.util.Map;

/**
 * An agent that has just been issued a certificate at enrollment.
 *
 * @param replaces whether this enrollment gives an existing agent id to a new host (a token made
 *     with {@code token create --replaces}): every certificate issued for that id before is refused
 *     from now on. Otherwise the id is new.
 */
public record Enrollment(String agentId, Map<String, String> labels, String tokenId,
    String certificateSerial, Instant certificateNotAfter, String certificateCa, String certificateFingerprint, Instant at,
    boolean replaces) {
  public Enrollment {
    labels = Map.copyOf(labels);
  }

  /** A new agent, with no record of the issuing CA (tests that do not care). */
  public Enrollment(String agentId, Map<String, String> labels, String tokenId, String certificateSerial,
      Instant certificateNotAfter, Instant at) {
    this(agentId, labels, tokenId, certificateSerial, certificateNotAfter, "", "", at, false);
  }

  /** The same enrollment given to an existing agent id: how tests replace a host. */
  public Enrollment replacing() {
    return new Enrollment(agentId, labels, tokenId, certificateSerial, certificateNotAfter, certificateCa,
        certificateFingerprint, at, true);
  }
}
