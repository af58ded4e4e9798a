package io.rackroll.controller.server;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.rackroll.controller.fleet.LinkSettings;
import io.rackroll.controller.store.Database;
import io.rackroll.release.UnpackLimits;
import io.rackroll.wire.Durations;
import io.rackroll.wire.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The controller's settings, from {@code <data>/controller.yaml} with flags on top.
 * {@link #TEMPLATE} is the file {@code controller init} writes: every key with its default.
 */
public record ControllerConfig(HostPort listen, LinkSettings link, int maxConcurrentHandshakes, int maxHandshakesPerAddress,
    Duration agentCertificateLifetime, long maxArtifactSize, int maxConcurrentTransfers, long transferRateLimit,
    HostPort metrics, Database database, UnpackLimits unpackLimits, HostPort web, NodeSettings node) {
  public static final String FILE = "controller.yaml";

  /**
   * This controller as one node of several on one PostgreSQL database.
   *
   * @param name the node's name among them; empty: this machine's host name
   * @param advertise where agents and admins reach this node; null: the listen address (with this
   *     machine's host name when it listens on every address), with the port it bound
   */
  public record NodeSettings(String name, HostPort advertise) {
    public static final NodeSettings DEFAULT = new NodeSettings("", null);

    public NodeSettings {
      if (!name.isEmpty() && !name.matches("[a-z0-9][a-z0-9._-]{0,62}")) {
        throw new IllegalArgumentException("node: \"" + (name.length() > 64 ? name.substring(0, 64) + "..." : name)
            + "\" (expected: 1-63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit)");
      }
    }
  }

  /** Settings of a controller that is one node of none (the embedded store) or of itself alone. */
  public ControllerConfig(HostPort listen, LinkSettings link, int maxConcurrentHandshakes, int maxHandshakesPerAddress,
      Duration agentCertificateLifetime, long maxArtifactSize, int maxConcurrentTransfers, long transferRateLimit,
      HostPort metrics, Database database, UnpackLimits unpackLimits, HostPort web) {
    this(listen, link, maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize,
        maxConcurrentTransfers, transferRateLimit, metrics, database, unpackLimits, web, NodeSettings.DEFAULT);
  }

  public ControllerConfig {
    if (maxConcurrentTransfers < 1) {
      throw new IllegalArgumentException("maxConcurrentTransfers: " + maxConcurrentTransfers + " (expected: >= 1)");
    }
    if (maxConcurrentHandshakes < 1) {
      throw new IllegalArgumentException("maxConcurrentHandshakes: " + maxConcurrentHandshakes + " (expected: >= 1)");
    }
    if (maxHandshakesPerAddress < 1) {
      throw new IllegalArgumentException("maxHandshakesPerAddress: " + maxHandshakesPerAddress + " (expected: >= 1)");
    }
  }

  public static final String TEMPLATE = """
      # Rackroll controller configuration. Every key is optional; the value shown is the default.
      # Flags given to 'rackroll controller run' override this file.

      # Where agents and the rackroll CLI connect: TLS 1.3, client certificates from this controller's CA.
      listen: 0.0.0.0:7443

      # How often agents send a heartbeat on their stream (the controller tells them on connect).
      heartbeatInterval: 10s

      # A connected agent not heard from for this long is marked stale (must exceed heartbeatInterval).
      staleAfter: 30s

      # Agent hellos admitted at once; the excess is told to retry later with a randomized delay,
      # so a controller restart does not have every agent's first write land in the same second.
      maxConcurrentHellos: 256

      # Connections accepted but still in their TLS handshake; past it, new connections are closed on
      # accept (before any TLS work) and agents retry with backoff. Handshakes time out after 5 s.
      # An address that never showed one of this CA's certificates may hold at most
      # maxHandshakesPerAddress of them, and all such addresses together three quarters of the
      # total: a stranger holding sockets open cannot lock out admins and enrolled agents.
      maxConcurrentHandshakes: 512
      maxHandshakesPerAddress: 8

      # Lifetime of the client certificates issued to agents at enrollment and renewal (at least 10s).
      # Agents renew theirs by themselves at about two thirds of it.
      agentCertificateLifetime: 90d

      # Largest release artifact 'rackroll release push' accepts.
      maxArtifactSize: 4GiB

      # What one artifact may unpack to, checked at push while reading it (a decompression bomb is
      # refused after reading no more than this): its files' total size, its entries, and how many
      # times its gzip stream may expand (past the first 16 MiB). Each host then unpacks no more
      # than the push recorded.
      maxUnpackedSize: 8GiB
      maxUnpackedEntries: 200000
      maxCompressionRatio: 100

      # Artifact downloads served at once; agents beyond it are told to retry later.
      maxConcurrentTransfers: 64

      # Per-agent download rate, e.g. 50MiB (per second); 0 means no limit.
      transferRateLimit: 0

      # Prometheus metrics over plain HTTP at /metrics; keep it on localhost or a management
      # network. "off" serves none.
      metrics: 127.0.0.1:9464

      # The web console over HTTPS, e.g. 127.0.0.1:8443, with this controller's server certificate
      # (browsers trust it once ca.crt is imported). Admins sign in with a one-time link from
      # 'rackroll web login'. "off" serves none.
      web: "off"

      # The store: "embedded" (an SQLite file under the data directory; every commit is on disk when
      # it is acknowledged), or a PostgreSQL database, e.g. jdbc:postgresql://db1:5432/rackroll, to
      # keep the state off the controller's machine.
      # The schema is created and migrated at start. The password is read from the first line of
      # a file only the controller's user can read (owned by rackroll in the packages, mode 0600);
      # leave both empty for a local trust or peer login.
      database: embedded
      databaseUser: ""
      databasePasswordFile: ""

      # With PostgreSQL, several controllers may share the database as nodes: each serves agents,
      # enrollment, downloads and the admin API, and one of them at a time runs rollouts. A node's
      # name (empty: this machine's host name) and the HOST:PORT agents and admins reach it at
      # (empty: the listen address; listening on every address, the first name of its certificate
      # that is not a loopback one, as --san gave them).
      node: ""
      advertise: ""
      """;

  public static ControllerConfig defaults() {
    return new FileForm().toConfig(Path.of(FILE));
  }

  /** Reads {@code file}; a missing file means all defaults. Errors name the file, the key and the line. */
  public static ControllerConfig load(Path file) {
    String yaml;
    try {
      yaml = Files.readString(file);
    } catch (NoSuchFileException e) {
      return defaults();
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
    }
    ObjectMapper mapper = new ObjectMapper(new YAMLFactory())
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    FileForm form;
    try {
      form = yaml.isBlank() ? new FileForm() : mapper.readValue(yaml, FileForm.class);
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException(file + " line " + e.getLocation().getLineNr() + ": unknown key \""
          + e.getPropertyName() + "\" (expected one of: listen, heartbeatInterval, staleAfter, maxConcurrentHellos,"
          + " maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize, maxUnpackedSize,"
          + " maxUnpackedEntries, maxCompressionRatio, maxConcurrentTransfers,"
          + " transferRateLimit, metrics, web, database, databaseUser, databasePasswordFile, node, advertise)", e);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(file + " line " + (e.getLocation() == null ? "?" : e.getLocation().getLineNr())
          + ": " + e.getOriginalMessage(), e);
    }
    return form.toConfig(file);
  }

  public ControllerConfig withListen(HostPort listen) {
    return new ControllerConfig(listen, link, maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize,
        maxConcurrentTransfers, transferRateLimit, metrics, database, unpackLimits, web, node);
  }

  public ControllerConfig withHandshakesPerAddress(int n) {
    return new ControllerConfig(listen, link, maxConcurrentHandshakes, n, agentCertificateLifetime, maxArtifactSize,
        maxConcurrentTransfers, transferRateLimit, metrics, database, unpackLimits, web, node);
  }

  public ControllerConfig withMaxConcurrentHandshakes(int n) {
    return new ControllerConfig(listen, link, n, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize,
        maxConcurrentTransfers, transferRateLimit, metrics, database, unpackLimits, web, node);
  }

  public ControllerConfig withMaxArtifactSize(long bytes) {
    return new ControllerConfig(listen, link, maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, bytes,
        maxConcurrentTransfers, transferRateLimit, metrics, database, unpackLimits, web, node);
  }

  public ControllerConfig withUnpackLimits(UnpackLimits limits) {
    return new ControllerConfig(listen, link, maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize,
        maxConcurrentTransfers, transferRateLimit, metrics, database, limits, web, node);
  }

  public ControllerConfig withTransfers(int concurrent, long bytesPerSecond) {
    return new ControllerConfig(listen, link, maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize,
        concurrent, bytesPerSecond, metrics, database, unpackLimits, web, node);
  }

  /** Where metrics are served; null for none. */
  public ControllerConfig withMetrics(HostPort metrics) {
    return new ControllerConfig(listen, link, maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize,
        maxConcurrentTransfers, transferRateLimit, metrics, database, unpackLimits, web, node);
  }

  /** Where the web console is served; null for none. */
  public ControllerConfig withWeb(HostPort web) {
    return new ControllerConfig(listen, link, maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize,
        maxConcurrentTransfers, transferRateLimit, metrics, database, unpackLimits, web, node);
  }

  /** This controller as a node of several on one database. */
  public ControllerConfig withNode(NodeSettings node) {
    return new ControllerConfig(listen, link, maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize,
        maxConcurrentTransfers, transferRateLimit, metrics, database, unpackLimits, web, node);
  }

  /** With another store. */
  public ControllerConfig withDatabase(Database database) {
    return new ControllerConfig(listen, link, maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize,
        maxConcurrentTransfers, transferRateLimit, metrics, database, unpackLimits, web, node);
  }

  public ControllerConfig withLink(LinkSettings link) {
    return new ControllerConfig(listen, link, maxConcurrentHandshakes, maxHandshakesPerAddress, agentCertificateLifetime, maxArtifactSize,
        maxConcurrentTransfers, transferRateLimit, metrics, database, unpackLimits, web, node);
  }

  private static long rate(String text) {
    long bytes = io.rackroll.release.Sizes.parse(text);
    if (bytes < 0) {
      throw new IllegalArgumentException("transferRateLimit: " + text + " (expected: bytes per second such as 50MiB, or 0)");
    }
    return bytes;
  }

  private static Duration certificateLifetime(String text) {
    Duration d = Durations.parse("agentCertificateLifetime", text);
    if (d.compareTo(Duration.ofSeconds(10)) < 0) {
      throw new IllegalArgumentException("agentCertificateLifetime: " + text + " (expected: at least 10s; 90d is usual)");
    }
    return d;
  }

  private static long artifactSize(String text) {
    long bytes = io.rackroll.release.Sizes.parse(text);
    if (bytes < 1) {
      throw new IllegalArgumentException("maxArtifactSize: " + text + " (expected: a size such as 512MiB or 4GiB)");
    }
    return bytes;
  }

  private static UnpackLimits unpackLimits(String size, long entries, long ratio) {
    long bytes = io.rackroll.release.Sizes.parse(size);
    if (bytes < 1) {
      throw new IllegalArgumentException("maxUnpackedSize: " + size + " (expected: a size such as 2GiB or 8GiB)");
    }
    if (entries < 1) {
      throw new IllegalArgumentException("maxUnpackedEntries: " + entries + " (expected: >= 1)");
    }
    if (ratio < 2) {
      throw new IllegalArgumentException("maxCompressionRatio: " + ratio + " (expected: >= 2; 100 is usual)");
    }
    return new UnpackLimits(bytes, entries, ratio, "the controller's ceiling; raise maxUnpackedSize,"
        + " maxUnpackedEntries or maxCompressionRatio in controller.yaml if the release is what you meant");
  }

  /** The file's shape: strings as typed, checked when converted. */
  static final class FileForm {
    @JsonProperty public String listen = "0.0.0.0:7443";
    @JsonProperty public String heartbeatInterval = "10s";
    @JsonProperty public String staleAfter = "30s";
    @JsonProperty public int maxConcurrentHellos = 256;
    @JsonProperty public int maxConcurrentHandshakes = 512;
    @JsonProperty public int maxHandshakesPerAddress = 8;
    @JsonProperty public String agentCertificateLifetime = "90d";
    @JsonProperty public String maxArtifactSize = "4GiB";
    @JsonProperty public String maxUnpackedSize = "8GiB";
    @JsonProperty public long maxUnpackedEntries = 200_000;
    @JsonProperty public long maxCompressionRatio = 100;
    @JsonProperty public int maxConcurrentTransfers = 64;
    @JsonProperty public String transferRateLimit = "0";
    @JsonProperty public String metrics = "127.0.0.1:9464";
    @JsonProperty public String web = "off";
    @JsonProperty public String database = Database.EMBEDDED;
    @JsonProperty public String databaseUser = "";
    @JsonProperty public String databasePasswordFile = "";
    @JsonProperty public String node = "";
    @JsonProperty public String advertise = "";

    ControllerConfig toConfig(Path file) {
      try {
        return new ControllerConfig(
            HostPort.parse("listen", listen),
            new LinkSettings(Durations.parse("heartbeatInterval", heartbeatInterval),
                Durations.parse("staleAfter", staleAfter), maxConcurrentHellos),
            maxConcurrentHandshakes,
            maxHandshakesPerAddress,
            certificateLifetime(agentCertificateLifetime),
            artifactSize(maxArtifactSize),
            maxConcurrentTransfers,
            rate(transferRateLimit),
            "off".equals(metrics) ? null : HostPort.parse("metrics", metrics),
            Database.of(database, databaseUser, databasePasswordFile),
            unpackLimits(maxUnpackedSize, maxUnpackedEntries, maxCompressionRatio),
            "off".equals(web) ? null : HostPort.parse("web", web),
            new NodeSettings(node.strip(), advertise.isBlank() ? null : HostPort.parse("advertise", advertise)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
      }
    }
  }
}
