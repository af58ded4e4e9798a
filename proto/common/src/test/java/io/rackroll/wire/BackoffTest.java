package io.rackroll.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
  /** Records each bound asked for and answers with the largest value allowed. */
  private final List<Long> bounds = new ArrayList<>();
  private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), bound -> {
    bounds.add(bound);
    return bound - 1;
  });

  @Test
  void windowDoublesUntilTheCap() {
    for (int i = 0; i < 9; i++) {
      backoff.next();
    }
    assertThat(bounds).containsExactly(1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 60_000L, 60_000L, 60_000L);
  }

  @Test
  void delayIsDrawnFromTheWholeWindow() {
    Backoff lowest = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), bound -> 0);
    lowest.next();
    lowest.next();
    assertThat(lowest.next()).as("full jitter may retry at once").isEqualTo(Duration.ZERO);
    assertThat(backoff.next()).isEqualTo(Duration.ofMillis(999));
  }

  @Test
  void resetStartsOver() {
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    backoff.next();
    assertThat(bounds).endsWith(1_000L);
  }

  @Test
  void theControllersHintIsTheDelayAndStartsTheWindowOver() {
    for (int i = 0; i < 6; i++) {
      backoff.next();
    }
    io.grpc.Metadata trailers = new io.grpc.Metadata();
    trailers.put(Backoff.RETRY_AFTER_MS, "2500");
    assertThat(backoff.next(trailers)).isEqualTo(Duration.ofMillis(2500));
    bounds.clear();
    backoff.next();
    assertThat(bounds).as("answered: the window starts over").containsExactly(1_000L);
  }

  @Test
  void aHintIsBoundedAndAMalformedOneIgnored() {
    io.grpc.Metadata huge = new io.grpc.Metadata();
    huge.put(Backoff.RETRY_AFTER_MS, Long.toString(Long.MAX_VALUE));
    assertThat(backoff.next(huge)).isEqualTo(Backoff.MAX_HINT);
    for (String bad : List.of("soon", "-5", "")) {
      io.grpc.Metadata trailers = new io.grpc.Metadata();
      trailers.put(Backoff.RETRY_AFTER_MS, bad);
      bounds.clear();
      backoff.next(trailers);
      assertThat(bounds).as(bad).hasSize(1); // drawn from the window, as without a hint
    }
    assertThat(backoff.next(null)).isNotNull();
  }

  @Test
  void neverOverflowsAfterThousandsOfAttempts() {
    Backoff real = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), b -> ThreadLocalRandom.current().nextLong(b));
    for (int i = 0; i < 5_000; i++) {
      assertThat(real.next()).isBetween(Duration.ZERO, Duration.ofSeconds(60));
    }
  }

  @Test
  void refusesNonsense() {
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), b -> 0)).hasMessageContaining("expected: 0 < base <= cap");
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), b -> 0)).hasMessageContaining("expected");
  }
}
