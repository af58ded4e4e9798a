package io.rackroll.controller.store;

import java.time.Instant;
import java.util.Map;

/** The outcome of spending one use of a token. Labels are set only when {@link Outcome#ACCEPTED}. */
public record Redemption(Outcome outcome, Map<String, String> labels, Instant expiresAt) {
  public enum Outcome { ACCEPTED, UNKNOWN, EXPIRED, USED_UP }

  public Redemption {
    labels = Map.copyOf(labels);
  }

  static Redemption refused(Outcome outcome, Instant expiresAt) {
    return new Redemption(outcome, Map.of(), expiresAt);
  }
}
