package io.rackroll.agent.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.agent.identity.ThrowawayPki;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.HealthReport;
import io.rackroll.proto.v1.JobUpdate;
import io.rackroll.wire.HostPort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {
  @Test
  void reportsOnTheirWayToTheControllerBecomeThisHostsMetrics() throws Exception {
    AtomicBoolean connected = new AtomicBoolean(true);
    ThrowawayPki pki = new ThrowawayPki("ag-m", Duration.ofHours(2));
    try (AgentMetrics metrics = new AgentMetrics(connected::get, () -> pki.agentCert, () -> 4_000, Clock.systemUTC())) {
      metrics.accept(job("web", "DOWNLOADING"));
      metrics.accept(job("web", "ACTIVE"));
      metrics.accept(job("db", "ROLLED_BACK"));
      metrics.accept(AgentMessage.newBuilder().setHealth(HealthReport.newBuilder().setApp("web").setHealthy(true)).build());
      metrics.accept(AgentMessage.newBuilder().setHealth(HealthReport.newBuilder().setApp("db").setHealthy(false)).build());
      connected.set(false);

      HostPort at = metrics.start(new HostPort("127.0.0.1", 0));
      String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + at + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();

      assertThat(text).contains("rackroll_agent_connected 0.0",
          "rackroll_agent_app_phase{app=\"web\",phase=\"ACTIVE\"} 1.0",
          "rackroll_agent_app_phase{app=\"db\",phase=\"ROLLED_BACK\"} 1.0",
          "rackroll_agent_app_healthy{app=\"web\"} 1.0", "rackroll_agent_app_healthy{app=\"db\"} 0.0",
          "rackroll_agent_downloaded_bytes_total 4000.0")
          .doesNotContain("phase=\"DOWNLOADING\"");
      assertThat(text).containsPattern("rackroll_agent_certificate_expiry_seconds (71[0-9]{2}|7200)\\.0");
    }
  }

  private static AgentMessage job(String app, String phase) {
    return AgentMessage.newBuilder().setJob(JobUpdate.newBuilder().setApp(app).setPhase(phase)).build();
  }
}
