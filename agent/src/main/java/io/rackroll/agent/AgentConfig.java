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
import java.util.List;
import io.rackroll.agent.identity.ReleaseTrust;
import io.rackroll.trust.ReleaseKey;

/**
 * The agent's settings, from {@code /etc/rackroll/agent.yaml} (or {@code --config}) with flags
 * on top. The file is the operator's (a conffile of the package): nothing the agent does writes
 * it. {@code enroll} keeps the controller's address with the identity instead.
 */
record AgentConfig(HostPort controller, Path stateDir, Path pkiDir, Duration factsInterval,
    Duration reconnectBackoffBase, Duration reconnectBackoffCap, int keepReleases, Duration healthReportInterval,
    HostPort metrics, List<ReleaseKey> releaseKeys, ReleaseTrust.Policy requireSignedReleases) {
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
          + " healthReportInterval, metrics, releaseKeys, releaseKeysDir, requireSignedReleases)", e);
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
          form.metrics == null || form.metrics.equals("off") ? null : HostPort.parse("metrics", form.metrics),
          releaseKeys(form.releaseKeys, form.releaseKeysDir == null ? parent.resolve("release-keys")
              : Path.of(form.releaseKeysDir)),
          ReleaseTrust.Policy.parse(form.requireSignedReleases));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The keys listed in the file, then those in {@code dir} (each {@code *.pub} file one key, as
   * {@code rackroll release keygen} writes it): where a package of the operator's own ships them
   * without touching this file.
   */
  private static List<ReleaseKey> releaseKeys(List<String> lines, Path dir) {
    List<ReleaseKey> keys = new java.util.ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      try {
        keys.add(ReleaseKey.parse(lines.get(i)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("releaseKeys[" + i + "]: " + e.getMessage());
      }
    }
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".pub")).sorted().toList()) {
        try {
          keys.add(ReleaseKey.parse(Files.readString(f)));
        } catch (IllegalArgumentException | IOException e) {
          throw new IllegalArgumentException(f + ": " + e.getMessage());
        }
      }
    } catch (NoSuchFileException e) {
      // no keys shipped that way
    } catch (IOException e) {
      throw new IllegalArgumentException(dir + ": cannot read: " + e.getMessage());
    }
    return keys;
  }

  private static int keep(int n) {
    if (n < 2) {
      throw new IllegalArgumentException("keepReleases: " + n + " (expected: >= 2, so a rollback never needs a download)");
    }
    return n;
  }

  AgentConfig withController(HostPort c) {
    return new AgentConfig(c, stateDir, pkiDir, factsInterval, reconnectBackoffBase, reconnectBackoffCap, keepReleases,
        healthReportInterval, metrics, releaseKeys, requireSignedReleases);
  }

  AgentConfig withStateDir(Path s) {
    return new AgentConfig(controller, s, pkiDir, factsInterval, reconnectBackoffBase, reconnectBackoffCap, keepReleases,
        healthReportInterval, metrics, releaseKeys, requireSignedReleases);
  }

  AgentConfig withFactsInterval(Duration d) {
    return new AgentConfig(controller, stateDir, pkiDir, d, reconnectBackoffBase, reconnectBackoffCap, keepReleases,
        healthReportInterval, metrics, releaseKeys, requireSignedReleases);
  }

  static final class FileForm {
    @JsonProperty public String controller;
    @JsonProperty public String stateDir;
    @JsonProperty public String pkiDir;
    @JsonProperty public String factsInterval = "60s";
    @JsonProperty public String reconnectBackoffBase = "1s";
    @JsonProperty public String reconnectBackoffCap = "15s";
    @JsonProperty public int keepReleases = 3;
    @JsonProperty public String healthReportInterval = "30s";
    @JsonProperty public String metrics = "off";
    @JsonProperty public List<String> releaseKeys = List.of();
    @JsonProperty public String releaseKeysDir;
    @JsonProperty public String requireSignedReleases = "false";
  }
}
