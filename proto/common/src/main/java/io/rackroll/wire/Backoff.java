package io.rackroll.wire;

import io.grpc.Metadata;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongUnaryOperator;

/**
 * Exponential backoff with full jitter: the n-th retry waits a uniformly random time in
 * {@code [0, min(cap, base * 2^n))}. Full jitter spreads a fleet that lost its controller at
 * the same instant over the whole window, so a controller restart is not met by every agent in
 * the same second. (AWS Architecture Blog, "Exponential Backoff and Jitter".)
 *
 * <p>Not thread-safe: one per connection, used from the thread that owns it.
 */
public final class Backoff {
  /** A busy controller's hint, on a refused stream or fetch: wait at least this many milliseconds. */
  public static final Metadata.Key<String> RETRY_AFTER_MS = Metadata.Key.of("retry-after-ms",
      Metadata.ASCII_STRING_MARSHALLER);

  private final Duration base;
  private final Duration cap;
  /** Returns a uniform value in [0, bound). Injected so tests can pin it. */
  private final LongUnaryOperator random;
  private int attempt;

  public Backoff(Duration base, Duration cap) {
    this(base, cap, bound -> ThreadLocalRandom.current().nextLong(bound));
  }

  Backoff(Duration base, Duration cap, LongUnaryOperator random) {
    if (base.isZero() || base.isNegative() || cap.compareTo(base) < 0) {
      throw new IllegalArgumentException("backoff: base " + base + ", cap " + cap + " (expected: 0 < base <= cap)");
    }
    this.base = base;
    this.cap = cap;
    this.random = random;
  }

  /** The delay before the next attempt; each call widens the window until the cap. */
  public Duration next() {
    long ceiling = cap.toMillis();
    if (attempt < 30) {
      ceiling = Math.min(ceiling, base.toMillis() << attempt);
    }
    attempt++;
    return Duration.ofMillis(random.applyAsLong(Math.max(1, ceiling)));
  }

  /**
   * The delay before the next attempt after a failure that ended with {@code trailers}. When the
   * controller answered with a {@link #RETRY_AFTER_MS} hint (it is busy, or stopping), the hint is
   * the delay and the window starts over: the controller spaces its agents out itself (by their
   * ids when it stops), and an agent it answered has no reason to wait longer next time. Without a
   * hint, {@link #next()}.
   */
  public Duration next(Metadata trailers) {
    String hint = trailers == null ? null : trailers.get(RETRY_AFTER_MS);
    if (hint != null) {
      try {
        long ms = Long.parseLong(hint.trim());
        if (ms >= 0) {
          reset();
          return Duration.ofMillis(Math.min(ms, MAX_HINT.toMillis()));
        }
      } catch (NumberFormatException ignored) {
        // a malformed hint is no reason to stop retrying: the window goes on
      }
    }
    return next();
  }

  /** The longest a hint can hold an agent back: a wrong hint must not keep a host away for long. */
  static final Duration MAX_HINT = Duration.ofMinutes(5);

  /** Called once a connection has proved healthy. */
  public void reset() {
    attempt = 0;
  }
}
