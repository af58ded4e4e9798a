package io.rackroll.controller.env;

import java.time.Instant;

/**
 * No changes from {@code from} (inclusive) to {@code to} (exclusive), whatever the windows say.
 *
 * @param text the range as the operator wrote it, for messages
 */
public record Freeze(Instant from, Instant to, String reason, String text) {
  boolean contains(Instant t) {
    return !t.isBefore(from) && t.isBefore(to);
  }
}
