package io.rackroll.controller.store;

import java.time.Instant;
import java.util.Map;

/** A bootstrap token to record; the store never sees its secret, only the hash. */
public record NewToken(String id, String secretHash, Map<String, String> labels, Instant expiresAt, int uses,
    Instant createdAt, String createdBy) {
  public NewToken {
    labels = Map.copyOf(labels);
    if (uses < 1) {
      throw new IllegalArgumentException("uses: " + uses + " (expected: >= 1)");
    }
  }
}
