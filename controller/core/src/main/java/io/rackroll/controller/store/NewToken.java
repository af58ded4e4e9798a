package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A bootstrap token to record; the store never sees its secret, only the hash.
 *
 * @param replaces the agent id a host enrolling with it takes over ("" for a new agent)
 * @param releaseKeys release keys (one line each) the enrolling host trusts from then on
 */
public record NewToken(String id, String secretHash, Map<String, String> labels, Instant expiresAt, int uses,
    Instant createdAt, String createdBy, String replaces, List<String> releaseKeys) {
  public NewToken {
    labels = Map.copyOf(labels);
    releaseKeys = List.copyOf(releaseKeys);
    if (uses < 1) {
      throw new IllegalArgumentException("uses: " + uses + " (expected: >= 1)");
    }
    if (!replaces.isEmpty() && uses != 1) {
      throw new IllegalArgumentException("uses: " + uses + " (expected: 1; a token that replaces an agent enrolls one host)");
    }
  }

  /** A token for new agents. */
  public NewToken(String id, String secretHash, Map<String, String> labels, Instant expiresAt, int uses,
      Instant createdAt, String createdBy) {
    this(id, secretHash, labels, expiresAt, uses, createdAt, createdBy, "", List.of());
  }
}
