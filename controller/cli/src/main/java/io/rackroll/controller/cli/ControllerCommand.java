package io.rackroll.controller.cli;

import io.rackroll.controller.fleet.LinkSettings;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.controller.server.ControllerConfig;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.controller.server.ControllerServer;
import io.rackroll.trust.SecureFiles;
import io.rackroll.wire.Durations;
import io.rackroll.wire.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "controller", mixinStandardHelpOptions = true, description = "Create and run a controller.",
    subcommands = {ControllerCommand.Init.class, ControllerCommand.Run.class, JoinCommand.class, RotateCaCommand.class})
final class ControllerCommand {

  @Command(name = "init", mixinStandardHelpOptions = true,
      description = "Create a controller data directory: CA, server certificate, admin certificate, default config.")
  static final class Init implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Data directory to create.")
    Path data;

    @Option(names = "--san", split = ",", paramLabel = "NAME",
        description = "Host names and IP addresses agents use to reach the controller; localhost and 127.0.0.1 are"
            + " always added, for the CLI on this host.")
    List<String> sans = List.of();

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Address to listen on (default: 0.0.0.0:7443).")
    String listen;

    @Option(names = "--config", paramLabel = "FILE",
        description = "Config file to write, unless it exists (default: <data>/controller.yaml; packages: /etc/rackroll/controller.yaml).")
    Path config;

    @Override
    public Integer call() throws Exception {
      if (listen != null) {
        HostPort.parse("--listen", listen);
      }
      Path config = this.config != null ? this.config : data.resolve(ControllerConfig.FILE);
      DataOwner.require(data, "controller init");
      ControllerPki pki = ControllerPki.init(data, sans, Clock.systemUTC());
      String kept = "";
      if (!Files.exists(config)) {
        String text = ControllerConfig.TEMPLATE;
        if (listen != null) {
          text = text.replace("listen: 0.0.0.0:7443", "listen: " + listen);
        }
        SecureFiles.writeString(config, text, SecureFiles.PUBLIC);
      } else {
        ControllerConfig.load(config); // an existing file must at least be valid
        kept = listen == null ? " (kept as it was)" : " (kept as it was: set 'listen: " + listen + "' in it yourself)";
      }
      System.out.println("Initialized controller in " + data.toAbsolutePath());
      System.out.println("  CA fingerprint  " + pki.caFingerprint());
      System.out.println("  server names    " + String.join(", ", ControllerPki.serverNames(sans)));
      System.out.println("  admin cert      " + ControllerPki.dir(data).resolve("admin.crt"));
      System.out.println("  config          " + config + kept);
      System.out.println("Next: rackroll controller run --data " + data
          + (this.config != null ? " --config " + config : "") + " (packages: systemctl enable --now rackroll-controller)");
      return 0;
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Run the controller in the foreground until stopped (SIGTERM or Ctrl-C).")
  static final class Run implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Data directory made by 'controller init'.")
    Path data;

    @Option(names = "--config", paramLabel = "FILE", description = "Config file (default: <data>/controller.yaml).")
    Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Overrides 'listen' from the config file.")
    String listen;

    @Option(names = "--heartbeat-interval", paramLabel = "DURATION", description = "Overrides 'heartbeatInterval'.")
    String heartbeatInterval;

    @Option(names = "--stale-after", paramLabel = "DURATION", description = "Overrides 'staleAfter'.")
    String staleAfter;

    @Option(names = "--log-format", paramLabel = "FORMAT",
        description = "text (default): one readable line per event; json: one JSON object per line, with the"
            + " deployment and agent ids as fields.")
    String logFormat = "text";

    @Override
    public Integer call() throws Exception {
      if (!ControllerPki.exists(data)) {
        // Status 78: no restart helps until an operator runs init (the systemd unit does not restart on it).
        System.err.println("rackroll: no controller in " + data + "; run 'rackroll controller init --data " + data
            + "' first");
        return Rackroll.EXIT_NEEDS_OPERATOR;
      }
      DataOwner.require(data, "controller run");
      ControllerConfig cfg = ControllerConfig.load(config != null ? config : data.resolve(ControllerConfig.FILE));
      if (listen != null) {
        cfg = cfg.withListen(HostPort.parse("--listen", listen));
      }
      if (heartbeatInterval != null || staleAfter != null) {
        LinkSettings l = cfg.link();
        cfg = cfg.withLink(new LinkSettings(
            heartbeatInterval != null ? Durations.parse("--heartbeat-interval", heartbeatInterval) : l.heartbeatInterval(),
            staleAfter != null ? Durations.parse("--stale-after", staleAfter) : l.staleAfter(),
            l.maxConcurrentHellos()));
      }
      ServiceLogging.install(ServiceLogging.Format.parse("--log-format", logFormat), java.util.Map.of());
      try {
        ControllerServer.runUntilStopped(data, cfg, Clock.systemUTC());
      } catch (io.rackroll.controller.cluster.ClusterNode.NameInUse e) {
        // Status 78: restarting does not help while another node runs with this one's name.
        System.err.println("rackroll: " + e.getMessage());
        return Rackroll.EXIT_NEEDS_OPERATOR;
      }
      return 0;
    }
  }

}
