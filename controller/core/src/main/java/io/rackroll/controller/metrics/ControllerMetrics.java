package io.rackroll.controller.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.store.ConnectionState;
import io.rackroll.controller.store.AgentStore;
import io.rackroll.controller.store.DeploymentStore;
import io.rackroll.wire.HostPort;
import io.rackroll.wire.MetricsEndpoint;
import io.rackroll.wire.Threads;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's Prometheus metrics. Meters that count from the store (agents by state,
 * deployments by state, hosts by phase) are refreshed on one thread every few seconds, so a
 * scrape never touches the database and a busy scraper cannot load the store.
 *
 * <p>Names as Prometheus shows them: {@code rackroll_agents{state}}, {@code rackroll_agents_connected},
 * {@code rackroll_deployments{state}}, {@code rackroll_deployment_hosts{phase}}, {@code rackroll_apps_unhealthy{app}},
 * {@code rackroll_heartbeat_lag_max_seconds}, {@code rackroll_artifact_served_bytes_total},
 * {@code rackroll_artifact_transfers_seconds{outcome}}, {@code rackroll_rpc_seconds{method,code}},
 * {@code rackroll_rack_agents{rack,state}}, {@code rackroll_controller_certificate_expiry_seconds{certificate}},
 * {@code rackroll_agent_certificate_expiry_min_seconds}, plus JVM and process meters.
 */
public final class ControllerMetrics implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControllerMetrics.class);
  static final Duration REFRESH = Duration.ofSeconds(5);

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ScheduledExecutorService refresher = Threads.serial("metrics-refresh");
  private final MultiGauge agents;
  private final MultiGauge deployments;
  private final MultiGauge hosts;
  private final MultiGauge unhealthy;
  private final MultiGauge racks;
  /** Seconds from the last refresh to the end of the first agent certificate to expire; NaN: none. */
  private volatile double soonestAgentCertificate = Double.NaN;
  private final Clock clock;
  private final AgentStore agentStore;
  private final DeploymentStore deploymentStore;
  private MetricsEndpoint endpoint;

  /**
   * @param certificates the controller's own certificates by name ({@code ca}, {@code server}), whose
   *     time left is {@code rackroll_controller_certificate_expiry_seconds{certificate}}
   */
  public ControllerMetrics(AgentStore agentStore, DeploymentStore deploymentStore, AgentRegistry fleet, String version,
      Map<String, X509Certificate> certificates, Clock clock) {
    this.agentStore = agentStore;
    this.clock = clock;
    this.deploymentStore = deploymentStore;
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    Gauge.builder("rackroll.controller.info", () -> 1).tag("version", version)
        .description("Always 1; the version is in the label").register(registry);
    Gauge.builder("rackroll.agents.connected", fleet, AgentRegistry::connectedCount)
        .description("Agents with an open stream, stale ones included").register(registry);
    Gauge.builder("rackroll.heartbeat.lag.max", fleet, f -> f.maxSilence().toMillis() / 1000.0).baseUnit("seconds")
        .description("Longest time since any connected agent was last heard from").register(registry);
    agents = MultiGauge.builder("rackroll.agents").description("Enrolled agents by connection state").register(registry);
    deployments = MultiGauge.builder("rackroll.deployments").description("Deployments by state").register(registry);
    hosts = MultiGauge.builder("rackroll.deployment.hosts")
        .description("Hosts of unfinished deployments by phase").register(registry);
    unhealthy = MultiGauge.builder("rackroll.apps.unhealthy")
        .description("Hosts where the app's periodic health reports say unhealthy now, by app (alert on > 0)")
        .register(registry);
    racks = MultiGauge.builder("rackroll.rack.agents")
        .description("Enrolled agents by the value of their rack label (none: no such label) and connection state")
        .register(registry);
    certificates.forEach((name, cert) -> Gauge.builder("rackroll.controller.certificate.expiry",
            () -> Duration.between(clock.instant(), cert.getNotAfter().toInstant()).toMillis() / 1000.0)
        .tag("certificate", name).baseUnit("seconds")
        .description("Time left on the controller's own certificates; 'rackroll controller rotate-ca' makes a new CA"
            + " and issues the server's again").register(registry));
    Gauge.builder("rackroll.agent.certificate.expiry.min", this, m -> m.soonestAgentCertificate).baseUnit("seconds")
        .description("Time left on the agent certificate that expires first, among agents not revoked (agents renew"
            + " theirs at two thirds of its lifetime, so a small value means one is not renewing)").register(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Refreshes the store-backed meters now and every few seconds, and serves {@code /metrics} on {@code address}. */
  public void start(HostPort address) throws IOException {
    refresh();
    refresher.scheduleWithFixedDelay(this::refresh, REFRESH.toMillis(), REFRESH.toMillis(), TimeUnit.MILLISECONDS);
    if (address != null) {
      endpoint = MetricsEndpoint.start(address, registry::scrape);
      log.info("metrics at http://{}/metrics", endpoint.address());
    }
  }

  /** Where metrics are served, or null if they are not. */
  public HostPort address() {
    return endpoint == null ? null : endpoint.address();
  }

  private void refresh() {
    try {
      // One count of the agents, by rack and state; the fleet's counts by state are its sums.
      Map<String, Map<String, Integer>> byRackAndState = agentStore.agentCountsByRack();
      Map<String, Integer> byState = new TreeMap<>();
      for (ConnectionState s : ConnectionState.values()) {
        byState.put(s.label(), 0); // every state, so a dashboard sees zeros rather than gaps
      }
      byRackAndState.values().forEach(states -> states.forEach((state, n) -> byState.merge(state, n, Integer::sum)));
      agents.register(rows("state", byState), true);
      deployments.register(rows("state", deploymentStore.deploymentCounts()), true);
      hosts.register(rows("phase", deploymentStore.activeHostPhases()), true);
      unhealthy.register(rows("app", agentStore.unhealthyCounts()), true);
      List<MultiGauge.Row<?>> byRack = new ArrayList<>();
      byRackAndState.forEach((rack, states) -> {
        for (ConnectionState s : ConnectionState.values()) {
          byRack.add(MultiGauge.Row.of(Tags.of("rack", rack.isEmpty() ? "none" : rack, "state", s.label()),
              states.getOrDefault(s.label(), 0)));
        }
      });
      racks.register(byRack, true);
      soonestAgentCertificate = agentStore.soonestCertificateExpiry()
          .map(at -> Duration.between(clock.instant(), at).toMillis() / 1000.0).orElse(Double.NaN);
    } catch (RuntimeException e) {
      log.warn("cannot refresh metrics from the store: {}", e.getMessage());
    }
  }

  private static List<MultiGauge.Row<?>> rows(String tag, Map<String, Integer> counts) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    counts.forEach((k, v) -> rows.add(MultiGauge.Row.of(Tags.of(tag, k), v)));
    return rows;
  }

  @Override
  public void close() {
    refresher.shutdownNow();
    if (endpoint != null) {
      endpoint.close();
    }
    registry.close();
  }
}
