package io.rackroll.controller.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.testing.TestController;
import io.rackroll.release.Artifact;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Artifact transfer throughput: one artifact (default 256 MiB) to 1, 10 and 50 agents at once,
 * over real mTLS on loopback, with the controller's peak heap during each round. Method and
 * results in bench/README.md. Run: {@code ./mvnw -pl controller/core -am test -Pbench -Dtest=TransferThroughputBench}
 */
@Tag("bench")
class TransferThroughputBench {
  @TempDir Path dir;

  @Test
  void transferToManyAgents() throws Exception {
    long mib = Long.getLong("bench.artifactMiB", 256);
    try (TestController controller = TestController.start(dir.resolve("data"), c -> c.withTransfers(64, 0)
        .withMaxArtifactSize(8L << 30), JdbcStore::embedded)) {
      Path src = Files.createDirectories(dir.resolve("src"));
      Files.writeString(src.resolve("rackroll.yaml"), "name: big\nversion: 1\n");
      Random random = new Random(42);
      byte[] block = new byte[1 << 20];
      try (OutputStream out = Files.newOutputStream(src.resolve("payload.bin"))) {
        for (int i = 0; i < mib; i++) {
          random.nextBytes(block); // incompressible: the artifact is as large as its payload
          out.write(block);
        }
      }
      Path artifact = dir.resolve("big.tar.gz");
      Artifact.pack(src, artifact);
      long size = Files.size(artifact);
      String digest = controller.push(artifact);
      Files.delete(src.resolve("payload.bin"));

      for (int agents : java.util.Arrays.stream(System.getProperty("bench.rounds", "1,10,50").split(","))
          .mapToInt(Integer::parseInt).toArray()) {
        String token = controller.token(Map.of("round", Integer.toString(agents)), agents);
        AtomicLong peakHeap = new AtomicLong();
        AtomicBoolean sampling = new AtomicBoolean(true);
        System.gc();
        long baseline = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        Thread sampler = new Thread(() -> {
          while (sampling.get()) {
            peakHeap.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
            try {
              Thread.sleep(50); // sampling period of the heap gauge
            } catch (InterruptedException e) {
              return;
            }
          }
        });
        Process load = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx2g", "-cp", System.getProperty("java.class.path"), FetchLoad.class.getName(),
            controller.address().toString(), token, Integer.toString(agents), digest, Long.toString(size))
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
          BufferedReader out = new BufferedReader(new InputStreamReader(load.getInputStream()));
          assertThat(out.readLine()).isEqualTo("READY");
          controller.admin().deploy(io.rackroll.proto.v1.DeployRequest.newBuilder().setName("big").setVersion("1")
              .setSelector("round=" + agents).build());
          load.getOutputStream().write("GO\n".getBytes());
          load.getOutputStream().flush();
          sampler.start();
          String result = out.readLine();
          assertThat(result).startsWith("RESULT");
          System.out.printf("BENCH transfer %d MiB artifact: %s controllerHeapBaseline=%dMiB controllerHeapPeak=%dMiB%n",
              size >> 20, result.substring(7), baseline >> 20, peakHeap.get() >> 20);
        } finally {
          sampling.set(false);
          sampler.join();
          load.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
      }
    }
  }
}
