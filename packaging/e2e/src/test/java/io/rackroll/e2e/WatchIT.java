package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --watch} as an operator sees it: on a terminal it redraws one block in place, in colour,
 * with the health gate's countdown; with NO_COLOR, or piped, it prints plain lines.
 */
class WatchIT {
  @TempDir java.nio.file.Path dir;

  private static final String CURSOR_UP = "\033[";
  private static final String ERASE_BELOW = "\033[J";
  private static final String GREEN = "\033[32m";

  @Test
  void onATerminalItRedrawsInPlaceWithTheGatesCountdownAndWithNoColorOrPipedPrintsLines() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      String token = fleet.token("rack=r1,role=web", 2);
      fleet.startAgent("a", token);
      fleet.startAgent("b", token);
      fleet.awaitConnected(2);
      fleet.web("1").push();
      fleet.web("2").push();
      fleet.web("3").push();

      // A terminal: the block is drawn, then drawn again over itself (cursor up, erase below), in
      // colour, with the gate counting down between the batches; the summary comes last.
      Fleet.Cli live = fleet.rackrollOnTerminal(Map.of(), "deploy", "web@1", "--selector", "role=web", "--batch", "1",
          "--health-gate", "5s", "--watch");
      assertThat(live.exit()).as(live.out()).isZero();
      assertThat(live.out()).contains(ERASE_BELOW, GREEN).containsPattern("\033\\[\\d+F");
      String seen = live.out().replaceAll("\033\\[[0-9;]*m", ""); // without its colours
      assertThat(seen).contains("▶ batch 1", "  batch 2  1 PENDING", "✓ batch 1  1 ACTIVE", "▶ batch 2")
          .endsWith("✓ batch 2  1 ACTIVE\r\ndeploy " + seen.substring(seen.indexOf("d-"), seen.indexOf("d-") + 12)
              + " of web@1 completed: 2 active\r\n");
      // The gate counts down: the block is drawn every second while it does.
      assertThat(java.util.regex.Pattern.compile("health gate (\\d) s left").matcher(seen).results()
          .map(m -> m.group(1)).distinct().count()).as("seconds left shown").isGreaterThanOrEqualTo(2);
      assertThat(seen.lines().filter(l -> l.contains("hosts done")).count())
          .as("drawn again and again").isGreaterThan(2);

      // NO_COLOR: the lines of a log, no escape sequence at all.
      Fleet.Cli plain = fleet.rackrollOnTerminal(Map.of("NO_COLOR", "1"), "deploy", "web@2", "--selector", "role=web",
          "--health-gate", "0s", "--watch");
      assertThat(plain.exit()).as(plain.out()).isZero();
      assertThat(plain.out()).doesNotContain("\033").contains("batch 1 of ", "hosts done, failures 0 of");

      // Piped: the same plain lines.
      Fleet.Cli piped = fleet.rackroll("deploy", "web@3", "--selector", "role=web", "--health-gate", "0s", "--watch");
      assertThat(piped.exit()).as(piped.toString()).isZero();
      assertThat(piped.out()).doesNotContain(CURSOR_UP).contains("batch 1 of ");
    }
  }
}
