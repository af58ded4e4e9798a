package io.rackroll.controller.rollout;

import static io.rackroll.controller.testing.WireFleet.command;
import static io.rackroll.controller.testing.WireFleet.report;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.rackroll.controller.fleet.LinkSettings;
import io.rackroll.controller.store.Commits;
import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.store.StoreException;
import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import io.rackroll.controller.testing.WireFleet;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.PlanRequest;
import io.rackroll.release.Artifact;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reports are group-committed: a burst of them is one transaction, and the commands they lead to go
 * out after its commit. When the store cannot keep a burst, no host hears of it and the running
 * deployments are read again from the store; the host's next report moves the rollout on.
 */
class LostBurstTest {
  @TempDir Path dir;

  /** The real commits, with the rollouts' next burst made to fail after its work, as a full disk fails a commit. */
  private static final class FailingCommits implements Commits {
    final Commits real;
    final AtomicBoolean armed = new AtomicBoolean();
    final AtomicInteger failed = new AtomicInteger();

    FailingCommits(Commits real) {
      this.real = real;
    }

    @Override
    public void grouped(Runnable work) {
      real.grouped(() -> {
        work.run();
        if (Thread.currentThread().getName().startsWith("rollouts") && armed.compareAndSet(true, false)) {
          failed.incrementAndGet();
          throw new StoreException("store: cannot commit: disk full", null);
        }
      });
    }

    @Override
    public void afterCommit(Runnable action) {
      real.afterCommit(action);
    }
  }

  @Test
  void aBurstTheStoreLostReachesNoHostAndTheRolloutGoesOnFromTheStore() throws Exception {
    FailingCommits[] commits = new FailingCommits[1];
    try (TestController controller = TestController.start(dir.resolve("data"),
        new LinkSettings(Duration.ofMillis(200), Duration.ofSeconds(2), 256), data -> {
          var store = JdbcStore.embedded(data);
          commits[0] = new FailingCommits(store.commits());
          return store.withCommits(commits[0]);
        })) {
      Path src = Files.createDirectories(dir.resolve("web-1"));
      Files.writeString(src.resolve("rackroll.yaml"), "name: web\nversion: \"1\"\n");
      Artifact.pack(src, dir.resolve("web-1.tar.gz"));
      controller.push(dir.resolve("web-1.tar.gz"));
      controller.clock.advance(Duration.ofSeconds(5)); // past the reconnect grace
      WireFleet hosts = new WireFleet(controller);
      RawAgent.Stream a = hosts.connect("ag-a", Map.of("rack", "r1"));
      RawAgent.Stream b = hosts.connect("ag-b", Map.of("rack", "r1"));
      String id = controller.admin().deploy(DeployRequest.newBuilder().setName("web").setVersion("1")
          .setSelector("rack=r1").putAllOptions(Map.of("canary", "0", "batch", "1", "healthGate", "0s")).build())
          .getId();
      RawAgent.Stream first = hosts.host(id, "ag-a").getBatch() == 0 ? a : b;
      RawAgent.Stream second = first == a ? b : a;
      String secondId = first == a ? "ag-b" : "ag-a";
      Deploy job = command(first);

      // The report that ends the first batch, and the second batch's command, in a burst the store loses.
      commits[0].armed.set(true);
      report(first, job, "ACTIVE");
      await().atMost(10, TimeUnit.SECONDS).until(() -> commits[0].failed.get() == 1);
      // A plan runs on the rollouts loop: once it answers, the lost burst and the reload are behind
      // it. The deployment is running still, as the store has it.
      assertThatThrownBy(() -> controller.admin().plan(PlanRequest.newBuilder().setDeploy(DeployRequest.newBuilder()
          .setName("web").setVersion("1").setSelector("rack=r1")).build()))
          .hasMessageContaining("are in running deployment " + id);
      assertThat(second.received).as("nothing of the lost burst reached a host").isEmpty();
      assertThat(hosts.host(id, secondId).getPhase()).isEqualTo("PENDING");

      // The host's report again (as after any reconnect): the rollout goes on from what the store kept.
      report(first, job, "ACTIVE");
      report(second, command(second), "ACTIVE");
      assertThat(hosts.awaitEnd(id).getState()).isEqualTo("completed");
    }
  }
}
