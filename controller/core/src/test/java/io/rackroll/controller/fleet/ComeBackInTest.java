package io.rackroll.controller.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A stopping controller spreads its agents' return over a window as long as the fleet takes to reconnect. */
class ComeBackInTest {
  @Test
  void aFleetIsSpreadEvenlyOverItsWindowByItsIds() {
    int fleet = 18_000;
    long window = fleet * 1_000L / AgentRegistry.RECONNECTS_PER_SECOND;
    int[] perSecond = new int[(int) (window / 1_000)];
    for (int i = 0; i < fleet; i++) {
      // Ids as enrollment makes them, and ones that differ in their last character only.
      String id = i % 2 == 0 ? "ag-" + UUID.randomUUID().toString().substring(0, 12) : String.format("sim-%06d", i);
      Duration wait = AgentRegistry.comeBackIn(id, fleet);
      assertThat(wait).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(2).plusMillis(window - 1));
      assertThat(AgentRegistry.comeBackIn(id, fleet)).as("by its id: the same every time").isEqualTo(wait);
      perSecond[(int) ((wait.toMillis() - 2_000) / 1_000)]++;
    }
    for (int n : perSecond) {
      assertThat(n).as("agents back in one second of the window").isBetween(800, 1_200);
    }
  }

  @Test
  void aSmallFleetComesBackWithinASecondOfTheRestart() {
    assertThat(AgentRegistry.comeBackIn("ag-one", 1)).isBetween(Duration.ofSeconds(2), Duration.ofMillis(2_999));
  }
}
