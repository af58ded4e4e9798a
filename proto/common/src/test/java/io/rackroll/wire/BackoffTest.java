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
