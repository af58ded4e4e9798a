package io.rackroll.controller.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import io.rackroll.controller.testing.WireFleet;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.GetDeploymentRequest;
import io.rackroll.release.Artifact;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Following a deployment over the wire: the record now, each change as the hosts report it, the end. */
class WatchDeploymentTest {
  @TempDir Path dir;
  private TestController controller;
  private WireFleet hosts;

  @BeforeEach
  void start() throws Exception {
    controller = TestController.start(dir.resolve("data"));
    hosts = new WireFleet(controller);
    Path src = Files.createDirectories(dir.resolve("web"));
    Files.writeString(src.resolve("rackroll.yaml"), "name: web\nversion: \"1\"\n");
    Artifact.pack(src, dir.resolve("web-1.tar.gz"));
    controller.push(dir.resolve("web-1.tar.gz"));
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  @Test
  void eachReportedChangeArrivesAsItHappensAndTheStreamEndsWithTheDeployment() throws Exception {
    RawAgent.Stream a = hosts.connect("a1", Map.of("rack", "r1"));
    RawAgent.Stream b = hosts.connect("a2", Map.of("rack", "r2"));
    DeploymentRecord started = controller.admin().deploy(DeployRequest.newBuilder().setName("web").setVersion("1")
        .setSelector("").putOptions("batch", "1").putOptions("canary", "0").putOptions("healthGate", "0s").build());
    Iterator<DeploymentRecord> changes = AdminGrpc.newBlockingStub(controller.admin().getChannel())
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .watchDeployment(GetDeploymentRequest.newBuilder().setId(started.getId()).build());
    assertThat(changes.next().getState()).isEqualTo("running");

    // The first batch's host reports each phase; every record the stream brings differs from the last.
    RawAgent.Stream first = nextCommanded(a, b);
    Deploy job = WireFleet.command(first);
    WireFleet.report(first, job, "DOWNLOADING");
    DeploymentRecord downloading = awaitPhase(changes, "DOWNLOADING");
    WireFleet.report(first, job, "ACTIVE");
    DeploymentRecord active = awaitPhase(changes, "ACTIVE");
    assertThat(active).isNotEqualTo(downloading);

    RawAgent.Stream second = first == a ? b : a;
    WireFleet.activate(second);
    DeploymentRecord last = null;
    while (changes.hasNext()) {
      last = changes.next();
    }
    assertThat(last).isNotNull();
    assertThat(last.getState()).as("the stream's last record, then it completes").isEqualTo("completed");

    try {
      AdminGrpc.newBlockingStub(controller.admin().getChannel()).watchDeployment(GetDeploymentRequest.newBuilder()
          .setId("d-nope").build()).next();
      throw new AssertionError("no error");
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }
  }

  /** The host of the two that got the first batch's command (the plan orders them). */
  private static RawAgent.Stream nextCommanded(RawAgent.Stream a, RawAgent.Stream b) {
    org.awaitility.Awaitility.await("a host of the first batch gets its command").atMost(java.time.Duration.ofSeconds(10))
        .until(() -> commanded(a) || commanded(b));
    return commanded(a) ? a : b;
  }

  private static boolean commanded(RawAgent.Stream s) {
    return s.received.stream().anyMatch(m -> m.hasCommand() && m.getCommand().hasDeploy());
  }

  private static DeploymentRecord awaitPhase(Iterator<DeploymentRecord> changes, String phase) {
    while (changes.hasNext()) {
      DeploymentRecord d = changes.next();
      if (d.getHostsList().stream().anyMatch(h -> h.getPhase().equals(phase))) {
        return d;
      }
    }
    throw new AssertionError("the stream ended before a host was " + phase);
  }
}
