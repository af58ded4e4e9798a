package io.rackroll.controller.fleet;

import java.time.Duration;

/**
 * How the controller paces agent streams.
 *
 * @param heartbeatInterval how often agents send a heartbeat (told to them in Welcome)
 * @param staleAfter silence after which a connected agent is marked stale
 * @param maxConcurrentHellos hellos admitted at once; the excess is told to retry later
 */
public record LinkSettings(Duration heartbeatInterval, Duration staleAfter, int maxConcurrentHellos) {
  public LinkSettings {
    if (heartbeatInterval.compareTo(Duration.ofMillis(100)) < 0) {
      throw new IllegalArgumentException("heartbeatInterval: " + heartbeatInterval + " (expected: >= 100ms)");
    }
    if (staleAfter.compareTo(heartbeatInterval) <= 0) {
      throw new IllegalArgumentException("staleAfter: " + staleAfter + " (expected: longer than heartbeatInterval "
          + heartbeatInterval + ")");
    }
    if (maxConcurrentHellos < 1) {
      throw new IllegalArgumentException("maxConcurrentHellos: " + maxConcurrentHellos + " (expected: >= 1)");
    }
  }
}
