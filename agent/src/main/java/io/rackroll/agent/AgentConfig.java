package io.rackroll.agent;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.rackroll.wire.Durations;
import io.rackroll.wire.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The agent's settings, from {@code /etc/rackroll/agent.yaml} (or {@code --config}) with flags
 * on top. {@code enroll} writes the file; {@link #render} is its shape with every default.
 */
record AgentConfig(HostPort controller, Path stateDir, Path pkiDir, Duration factsInterval,
    Duration reconnectBackoffBase, Duration reconnectBackoffCap, int keepReleases, Duration healthReportInterval,
    HostPort metrics) {
  static final Path DEFAULT_FILE = Path.of("/etc/rackroll/agent.yaml");
  static final Path DEFAULT_STATE = Path.of("/var/lib/rackroll");

  /** Reads {@code file}; a missing file is all defaults. Errors name the file, key and line. */
  static AgentConfig load(Path file) {
    FileForm form = new FileForm();
    try {
      String yaml = Files.readString(file);
      if (!yaml.isBlank()) {
        form = new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .readValue(yaml, FileForm.class);
      }
    } catch (NoSuchFileException e) {
      // all defaults
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException(file + " line " + e.getLocation().getLineNr() + ": unknown key \""
          + e.getPropertyName() + "\" (expected one of: controller, stateDir, pkiDir, factsInterval,"
          + " reconnectBackoffBase, reconnectBackoffCap, keepReleases,"
          + " healthReportInterval, metrics)", e);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(file + " line " + (e.getLocation() == null ? "?" : e.getLocation().getLineNr())
          + ": " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
    }
    try {
      Path parent = file.toAbsolutePath().getParent();
      return new AgentConfig(
          form.controller == null ? null : HostPort.parse("controller", form.controller),
          form.stateDir == null ? DEFAULT_STATE : Path.of(form.stateDir),
          form.pkiDir == null ? parent.resolve("pki") : Path.of(form.pkiDir),
          Durations.parse("factsInterval", form.factsInterval),
          Durations.parse("reconnectBackoffBase", form.reconnectBackoffBase),
          Durations.parse("reconnectBackoffCap", form.reconnectBackoffCap),
          keep(form.keepReleases),
          Durations.parse("healthReportInterval", form.healthReportInterval),
          form.metrics == null || form.metrics.equals("off") ? null : HostPort.parse("metrics", form.metrics));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static int keep(int n) {
    if (n < 2) {
      throw new IllegalArgumentException("keepReleases: " + n + " (expected: >= 2, so a rollback never needs a download)");
    }
    return n;
  }

  AgentConfig withController(HostPort c) {
    return new AgentConfig(c, stateDir, pkiDir, factsInterval, reconnectBackoffBase, reconnectBackoffCap, keepReleases,
        healthReportInterval, metrics);
  }

  AgentConfig withStateDir(Path s) {
    return new AgentConfig(controller, s, pkiDir, factsInterval, reconnectBackoffBase, reconnectBackoffCap, keepReleases,
        healthReportInterval, metrics);
  }

  AgentConfig withFactsInterval(Duration d) {
    return new AgentConfig(controller, stateDir, pkiDir, d, reconnectBackoffBase, reconnectBackoffCap, keepReleases,
        healthReportInterval, metrics);
  }

  /** The config file text for these settings, every key documented. */
  String render() {
    return """
        # Rackroll agent configuration, written by 'rackroll-agent enroll'. Flags override it.

        # The controller this agent connects out to (TLS 1.3 with this agent's certificate).
        controller: %s

        # Agent state: identity, lifecycle state, artifact cache, releases. Keep it across upgrades.
        stateDir: %s

        # Key material (0700): agent.key (0600, never leaves this host), agent.crt, ca.crt.
        pkiDir: %s

        # How often hardware facts are re-read; changes are reported to the controller.
        factsInterval: %s

        # Reconnect backoff: random delay in [0, min(cap, base * 2^attempt)) ("full jitter").
        reconnectBackoffBase: %s
        reconnectBackoffCap: %s

        # Releases kept unpacked per app (at least 2), so rolling back never needs a download.
        keepReleases: %d

        # How often the health checks of active releases run and are reported, with load, memory and disk.
        healthReportInterval: %s
        # This agent's own Prometheus metrics over plain HTTP at /metrics (e.g. 127.0.0.1:9465), or off.
        metrics: %s
        """.formatted(controller, stateDir, pkiDir, Durations.format(factsInterval),
        Durations.format(reconnectBackoffBase), Durations.format(reconnectBackoffCap), keepReleases,
        Durations.format(healthReportInterval), metrics == null ? "off" : metrics);
  }

  static final class FileForm {
    @JsonProperty public String controller;
    @JsonProperty public String stateDir;
    @JsonProperty public String pkiDir;
    @JsonProperty public String factsInterval = "60s";
    @JsonProperty public String reconnectBackoffBase = "1s";
    @JsonProperty public String reconnectBackoffCap = "60s";
    @JsonProperty public int keepReleases = 3;
    @JsonProperty public String healthReportInterval = "30s";
    @JsonProperty public String metrics = "off";
  }
}
