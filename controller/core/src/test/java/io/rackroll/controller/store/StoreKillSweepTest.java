package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded store loses no commit it acknowledged to a SIGKILL: a {@link StoreWriter} process
 * writes every kind of record as fast as it can and is killed after a random number of
 * acknowledgements (seeded, printed; {@code -Dsweep.seed=N} replays one, {@code -Dsweep.rounds=N}
 * runs longer); after each kill the store opens and holds everything the writer said it wrote.
 */
class StoreKillSweepTest {
  @TempDir Path data;

  @Test
  void everyAcknowledgedCommitSurvivesASigkillAtARandomMoment() throws Exception {
    long seed = Long.getLong("sweep.seed", System.nanoTime());
    int rounds = Integer.getInteger("sweep.rounds", 6);
    System.out.println("StoreKillSweepTest: seed " + seed + ", " + rounds + " rounds (replay: -Dsweep.seed=" + seed + ")");
    Random random = new Random(seed);
    List<String> acked = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      int killAfter = 5 + random.nextInt(120);
      Process writer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), StoreWriter.class.getName(), data.toString(), "r" + round)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      int seen = 0;
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(writer.getInputStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while (seen < killAfter && (line = lines.readLine()) != null) {
          if (line.startsWith("ack ")) {
            acked.add(line.substring(4));
            seen++;
          }
        }
        writer.toHandle().destroyForcibly(); // SIGKILL, in the middle of the next commit (streams left open)
        assertThat(writer.waitFor(30, TimeUnit.SECONDS)).isTrue();
        // Acknowledgements already written before the kill count too.
        while ((line = lines.readLine()) != null) {
          if (line.startsWith("ack ")) {
            acked.add(line.substring(4));
          }
        }
      }
      assertThat(seen).as("round " + round + ": the writer acknowledged before it was killed").isEqualTo(killAfter);
      try (Store store = JdbcStore.embedded(data)) {
        for (String ack : acked) {
          assertThat(holds(store, ack)).as("round " + round + " (seed " + seed + "): " + ack + " acknowledged, then lost")
              .isTrue();
        }
      }
    }
  }

  private static boolean holds(Store store, String ack) {
    String[] kv = ack.split(" ", 2);
    String id = kv[1];
    return switch (kv[0]) {
      case "token" -> store.enrollment().redeemToken(id, "h", java.time.Instant.EPOCH).outcome()
          != Redemption.Outcome.UNKNOWN;
      case "agent" -> store.agents().agent(id).isPresent();
      case "release" -> store.releases().release(id, "1").isPresent();
      case "deployment" -> store.deployments().deployment(id).isPresent();
      case "transition" -> store.deployments().transitions(id).stream().anyMatch(t -> t.phase().equals("SENT"));
      case "audit" -> store.audit().recent(100_000).stream().anyMatch(e -> e.target().equals(id));
      default -> throw new IllegalArgumentException(ack);
    };
  }
}
