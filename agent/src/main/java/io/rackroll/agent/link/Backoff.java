package io.rackroll.agent.link;

import java.time.Duration;
import java.util.function.LongUnaryOperator;

/**
 * Exponential backoff with full jitter: the n-th retry waits a uniformly random time in
 * {@code [0, min(cap, base * 2^n))}. Full jitter spreads a fleet that lost its controller at
 * the same instant over the whole window, so a controller restart is not met by every agent in
 * the same second. (AWS Architecture Blog, "Exponential Backoff and Jitter".)
 */
final class Backoff {
  private final Duration base;
  private final Duration cap;
  /** Returns a uniform value in [0, bound). Injected so tests can pin it. */
  private final LongUnaryOperator random;
  private int attempt;

  Backoff(Duration base, Duration cap, LongUnaryOperator random) {
    if (base.isZero() || base.isNegative() || cap.compareTo(base) < 0) {
      throw new IllegalArgumentException("backoff: base " + base + ", cap " + cap + " (expected: 0 < base <= cap)");
    }
    this.base = base;
    this.cap = cap;
    this.random = random;
  }

  /** The delay before the next attempt; each call widens the window until the cap. */
  Duration next() {
    long ceiling = cap.toMillis();
    if (attempt < 30) {
      ceiling = Math.min(ceiling, base.toMillis() << attempt);
    }
    attempt++;
    return Duration.ofMillis(random.applyAsLong(Math.max(1, ceiling)));
  }

  /** Called once a connection has proved healthy. */
  void reset() {
    attempt = 0;
  }
}
