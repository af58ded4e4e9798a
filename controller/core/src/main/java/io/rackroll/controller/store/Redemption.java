package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The outcome of spending one use of a token. Labels, who created it and the agent it replaces
 * ("" for a new agent) are set only when {@link Outcome#ACCEPTED}.
 */
public record Redemption(Outcome outcome, Map<String, String> labels, Instant expiresAt, String createdBy,
    String replaces, List<String> releaseKeys) {
  public enum Outcome { ACCEPTED, UNKNOWN, EXPIRED, USED_UP }

  public Redemption {
    labels = Map.copyOf(labels);
    releaseKeys = List.copyOf(releaseKeys);
  }

  static Redemption refused(Outcome outcome, Instant expiresAt) {
    return new Redemption(outcome, Map.of(), expiresAt, "", "", List.of());
  }
}
