package io.rackroll.agent.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The warm-up the package runs for the agent's class-data archive: a real deploy, leaving nothing behind. */
class WarmUpTest {
  @TempDir Path dir;

  @Test
  void deploysATinyReleaseOverMutualTlsAndLeavesNothing() throws Exception {
    assertThat(WarmUp.run(dir)).isEqualTo("ACTIVE");
    try (var left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
  }
}
