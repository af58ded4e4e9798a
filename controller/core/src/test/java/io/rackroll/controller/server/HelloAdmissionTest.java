package io.rackroll.controller.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.fleet.LinkSettings;
import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.testing.GatedStore;
import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When every agent reconnects at once, the controller admits a bounded number and asks the rest to come back. */
class HelloAdmissionTest {
  @TempDir Path data;

  @Test
  void hellosBeyondTheLimitAreToldToRetryLater() throws Exception {
    AtomicReference<GatedStore> gated = new AtomicReference<>();
    LinkSettings oneAtATime = new LinkSettings(Duration.ofMillis(200), Duration.ofSeconds(2), 1);
    try (TestController controller = TestController.start(data, oneAtATime, dir -> {
      gated.set(new GatedStore(JdbcStore.embedded(dir)));
      return gated.get().store();
    })) {
      String token = controller.token(Map.of(), 2);
      RawAgent first = new RawAgent("ag-first");
      RawAgent second = new RawAgent("ag-second");
      first.enroll(controller, token);
      second.enroll(controller, token);

      // Hold the first hello in admission...
      gated.get().close(true);
      RawAgent.Stream admitting = first.connect(controller);
      assertThat(gated.get().waiting.await(10, TimeUnit.SECONDS)).isTrue();

      // ...so the second finds no room and is told when to come back.
      RawAgent.Stream refused = second.connect(controller);
      Status status = refused.closed.get(10, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(status.getDescription()).isEqualTo("controller is admitting other agents; retry later");
      assertThat(Long.parseLong(refused.trailers.get(io.rackroll.wire.Backoff.RETRY_AFTER_MS))).isBetween(1_000L, 5_000L);

      // Releasing the first admits it; the second's retry is then welcome.
      gated.get().close(false);
      assertThat(admitting.next().hasWelcome()).isTrue();
      assertThat(second.connect(controller).next().hasWelcome()).isTrue();
    }
  }

  @Test
  void aStoppingControllerTellsEachAgentWhenToComeBack() throws Exception {
    LinkSettings link = new LinkSettings(Duration.ofMillis(200), Duration.ofSeconds(2), 16);
    RawAgent.Stream stream;
    try (TestController controller = TestController.start(data, link, JdbcStore::embedded)) {
      RawAgent agent = new RawAgent("ag-leaving");
      agent.enroll(controller, controller.token(Map.of(), 1));
      stream = agent.connect(controller);
      assertThat(stream.next().hasWelcome()).isTrue();
      controller.stopServer();
    }
    Status status = stream.closed.get(10, TimeUnit.SECONDS);
    assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.UNAVAILABLE);
    long hint = Long.parseLong(stream.trailers.get(io.rackroll.wire.Backoff.RETRY_AFTER_MS));
    assertThat(status.getDescription()).isEqualTo("controller is stopping; reconnect in " + hint + " ms");
    assertThat(hint).as("alone: a restart's time, within a one-second window").isBetween(2_000L, 3_000L);
  }
}
