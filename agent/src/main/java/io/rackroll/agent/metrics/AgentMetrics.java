package io.rackroll.agent.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.wire.HostPort;
import io.rackroll.wire.MetricsEndpoint;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The agent's own Prometheus metrics, when {@code metrics} is set in agent.yaml: whether it is
 * connected, how long its certificate has left, each app's lifecycle phase and last health, and
 * artifact bytes downloaded. Phases and health come from the same reports the agent sends its
 * controller, so they add no work to the lifecycle: {@code rackroll_agent_connected}, {@code
 * rackroll_agent_certificate_expiry_seconds}, {@code rackroll_agent_app_phase{app,phase}} (1 for
 * the current phase), {@code rackroll_agent_app_healthy{app}}, {@code
 * rackroll_agent_downloaded_bytes_total}.
 */
public final class AgentMetrics implements Consumer<AgentMessage>, AutoCloseable {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, String> phases = new ConcurrentHashMap<>();
  private final Map<String, Boolean> healthy = new ConcurrentHashMap<>();
  /** Held here: a function counter keeps only a weak reference to the object it reads. */
  private final LongSupplier downloadedBytes;
  private final MultiGauge phaseRows;
  private final MultiGauge healthRows;
  private MetricsEndpoint endpoint;

  public AgentMetrics(BooleanSupplier connected, Supplier<X509Certificate> certificate, LongSupplier downloadedBytes,
      Clock clock) {
    this.downloadedBytes = downloadedBytes;
    new JvmMemoryMetrics().bindTo(registry);
    Gauge.builder("rackroll.agent.connected", () -> connected.getAsBoolean() ? 1 : 0)
        .description("1 while the stream to the controller is open").register(registry);
    Gauge.builder("rackroll.agent.certificate.expiry", () -> Duration.between(clock.instant(),
            certificate.get().getNotAfter().toInstant()).toSeconds()).baseUnit("seconds")
        .description("Time left on this agent's certificate (renewed at two thirds of its lifetime)").register(registry);
    FunctionCounter.builder("rackroll.agent.downloaded", this.downloadedBytes, LongSupplier::getAsLong).baseUnit("bytes")
        .description("Artifact bytes downloaded since the agent started").register(registry);
    phaseRows = MultiGauge.builder("rackroll.agent.app.phase").description("1 for each app's current lifecycle phase")
        .register(registry);
    healthRows = MultiGauge.builder("rackroll.agent.app.healthy").description("Each active app's last health: 1 or 0")
        .register(registry);
  }

  /** A report on its way to the controller; any thread. */
  @Override
  public void accept(AgentMessage m) {
    switch (m.getBodyCase()) {
      case JOB -> phases.put(m.getJob().getApp(), m.getJob().getPhase());
      case HEALTH -> healthy.put(m.getHealth().getApp(), m.getHealth().getHealthy());
      default -> { }
    }
  }

  /** The text a scrape returns; exposed for tests. */
  public String scrape() {
    List<MultiGauge.Row<?>> phaseList = new ArrayList<>();
    phases.forEach((app, phase) -> phaseList.add(MultiGauge.Row.of(Tags.of("app", app, "phase", phase), 1)));
    phaseRows.register(phaseList, true);
    List<MultiGauge.Row<?>> healthList = new ArrayList<>();
    healthy.forEach((app, ok) -> healthList.add(MultiGauge.Row.of(Tags.of("app", app), ok ? 1 : 0)));
    healthRows.register(healthList, true);
    return registry.scrape();
  }

  public HostPort start(HostPort address) throws IOException {
    endpoint = MetricsEndpoint.start(address, this::scrape);
    return endpoint.address();
  }

  @Override
  public void close() {
    if (endpoint != null) {
      endpoint.close();
    }
    registry.close();
  }
}
