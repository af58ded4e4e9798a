package io.rackroll.agent;

import io.rackroll.agent.identity.AgentIdentity;
import io.rackroll.agent.identity.CertificateRenewal;
import io.rackroll.agent.identity.Enroller;
import io.rackroll.agent.identity.ReleaseTrust;
import io.rackroll.trust.ReleaseKey;
import io.rackroll.agent.inventory.Inventory;
import io.rackroll.agent.artifact.ArtifactCache;
import io.rackroll.agent.lifecycle.Lifecycle;
import io.rackroll.agent.lifecycle.LifecycleService;
import io.rackroll.wire.ControllerChannels;
import io.rackroll.agent.link.ControllerLink;
import io.rackroll.agent.metrics.AgentMetrics;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.trust.BootstrapToken;
import io.rackroll.trust.LiveCredentials;
import io.rackroll.trust.SecureFiles;
import io.rackroll.wire.Durations;
import io.rackroll.wire.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rackroll-agent}: enroll this host, then run as a service. */
@Command(name = "rackroll-agent", mixinStandardHelpOptions = true, versionProvider = AgentMain.Version.class,
    description = "The Rackroll agent: enrolls this host and keeps one stream open to the controller.",
    subcommands = {AgentMain.Enroll.class, AgentMain.Run.class, AgentMain.Completion.class, AgentMain.Man.class,
        AgentMain.WarmUpCommand.class, CommandLine.HelpCommand.class})
public final class AgentMain {
  @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Show stack traces on errors.")
  boolean debug;

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new AgentMain());
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (parsed.subcommands().stream().anyMatch(p -> p.matchedOption("--debug") != null)
          || parsed.matchedOption("--debug") != null) {
        e.printStackTrace();
      }
      cmd.getErr().println("rackroll-agent: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    });
    cli.setParameterExceptionHandler((e, a) -> {
      e.getCommandLine().getErr().println("rackroll-agent: " + e.getMessage()
          + " (see '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
      return 2;
    });
    System.exit(cli.execute(args));
  }

  /**
   * Exit status when only an operator can help (not enrolled; certificate revoked or expired):
   * EX_CONFIG, which the systemd unit does not restart on, since only a new enrollment helps.
   */
  static final int EXIT_NEEDS_OPERATOR = 78;
  /** Written in the state directory when metrics are served: where (useful with port 0). */
  static final String METRICS_ADDRESS_FILE = "metrics.address";

  static String version() {
    String v = AgentMain.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** Options shared by enroll and run. */
  static final class Where {
    @Option(names = "--config", paramLabel = "FILE", description = "Config file (default: /etc/rackroll/agent.yaml).")
    Path config = AgentConfig.DEFAULT_FILE;

    @Option(names = "--controller", paramLabel = "HOST:PORT", description = "Controller address (overrides the config file).")
    String controller;

    @Option(names = "--state", paramLabel = "DIR", description = "State directory (default: /var/lib/rackroll).")
    Path state;

    /**
     * The settings: the config file, then the flags on top, and the controller's address from
     * the enrollment when neither names one.
     */
    AgentConfig resolve() throws java.io.IOException {
      AgentConfig c = AgentConfig.load(config);
      if (controller != null) {
        c = c.withController(HostPort.parse("--controller", controller));
      }
      if (state != null) {
        c = c.withStateDir(state);
      }
      if (c.controller() == null) {
        Optional<String> enrolled = new AgentIdentity(c.stateDir(), c.pkiDir()).controller();
        if (enrolled.isPresent()) {
          c = c.withController(HostPort.parse("controller", enrolled.get()));
        }
      }
      return c;
    }
  }

  @Command(name = "enroll", mixinStandardHelpOptions = true,
      description = "Enroll this host with a token from 'rackroll token create' and write the agent's config.")
  static final class Enroll implements Callable<Integer> {
    @CommandLine.Mixin Where where;

    @Option(names = "--token", required = true, paramLabel = "TOKEN", description = "Bootstrap token.")
    String token;

    @Override
    public Integer call() throws Exception {
      AgentConfig config = where.resolve();
      if (config.controller() == null) {
        throw new IllegalArgumentException("--controller: missing (expected: HOST:PORT of the controller)");
      }
      Enroller.Result r = enroll(config, BootstrapToken.parse(token));
      // Kept with the identity, never in the config file: that is the package's (a conffile), and
      // an edit there would stop the next upgrade at dpkg's question.
      identity(config).saveController(config.controller().toString());
      System.out.println("Enrolled agent " + r.agentId() + " with controller " + config.controller());
      System.out.println("  labels       " + r.labels());
      if (!r.releaseKeys().isEmpty()) {
        ReleaseTrust trust = releaseTrust(config);
        System.out.println("  release keys " + String.join(", ", trust.keyIds()) + (trust.required()
            ? " (only releases they sign install here)" : " (requireSignedReleases is off: not required)"));
      }
      System.out.println("  certificate  " + config.pkiDir().resolve("agent.crt") + " (valid until "
          + r.certificate().getNotAfter().toInstant() + ")");
      System.out.println("  private key  " + config.pkiDir().resolve("agent.key") + " (0600)");
      System.out.println("  identity     " + config.stateDir().resolve("identity.properties")
          + " (agent id and controller; " + where.config + " is left as it is)");
      AgentConfig file = AgentConfig.load(where.config);
      if (file.controller() != null && !file.controller().equals(config.controller())) {
        System.out.println("  controller   " + where.config + " names " + file.controller()
            + ", which the agent uses before the enrolled one; remove that line to use " + config.controller());
      }
      if (where.state != null && !where.state.equals(file.stateDir())) {
        System.out.println("  state        " + config.stateDir() + ": not the one " + where.config
            + " names; run the agent with --state " + config.stateDir() + " or set stateDir there");
      }
      System.out.println("Next: systemctl enable --now rackroll-agent");
      return 0;
    }
  }

  static Enroller.Result enroll(AgentConfig config, BootstrapToken token) throws Exception {
    AgentIdentity identity = identity(config);
    Enroller.Result r = new Enroller(identity, version()).enroll(config.controller(), token);
    if (!r.releaseKeys().isEmpty()) {
      List<ReleaseKey> keys = new java.util.ArrayList<>();
      for (String line : r.releaseKeys()) {
        keys.add(ReleaseKey.parse(line));
      }
      releaseTrust(config).enrolled(keys);
    }
    return r;
  }

  static ReleaseTrust releaseTrust(AgentConfig config) throws java.io.IOException {
    return new ReleaseTrust(config.stateDir(), config.releaseKeys(), config.requireSignedReleases());
  }

  static AgentIdentity identity(AgentConfig config) throws java.io.IOException {
    Files.createDirectories(config.stateDir());
    return new AgentIdentity(config.stateDir(), config.pkiDir());
  }

  /** {@code rackroll-agent man DIR} (hidden): the manual pages as AsciiDoc, for the package build. */
  @Command(name = "man", hidden = true, description = "Write the manual pages (AsciiDoc) into DIR.")
  static final class Man implements Callable<Integer> {
    @picocli.CommandLine.Parameters(paramLabel = "DIR")
    java.nio.file.Path dir;

    @Override
    public Integer call() throws Exception {
      io.rackroll.wire.ManPages.write(new CommandLine(new AgentMain()), dir);
      return 0;
    }
  }

  @Command(name = "completion", mixinStandardHelpOptions = true,
      description = {"Print the shell completion script for bash or zsh.",
          "The package installs it; otherwise add to ~/.bashrc or ~/.zshrc: source <(rackroll-agent completion bash|zsh)"})
  static final class Completion implements Callable<Integer> {
    @CommandLine.Parameters(paramLabel = "SHELL", description = "bash or zsh")
    io.rackroll.wire.ShellCompletion.Shell shell;

    @Override
    public Integer call() {
      System.out.print(io.rackroll.wire.ShellCompletion.script("rackroll-agent", new CommandLine(new AgentMain()), shell));
      return 0;
    }
  }

  /** What the package runs to make the agent's class-data archive (see the agent's postinst). */
  @Command(name = "warm-up", hidden = true,
      description = "Deploy a tiny release from a throwaway local server into a scratch directory (for the class-data"
          + " archive); touches nothing of this host's agent.")
  static final class WarmUpCommand implements Callable<Integer> {
    @Option(names = "--dir", paramLabel = "DIR", description = "Where the scratch directory goes (default: the"
        + " JVM's temporary directory); its hooks must be allowed to run there.")
    Path dir = Path.of(System.getProperty("java.io.tmpdir"));

    @Override
    public Integer call() throws Exception {
      String end = io.rackroll.agent.lifecycle.WarmUp.run(dir);
      if (!end.equals("ACTIVE")) {
        System.err.println("rackroll-agent: the warm-up deploy ended " + end + ", not ACTIVE");
        return 1;
      }
      return 0;
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Run the agent in the foreground until stopped; reconnects to the controller forever.")
  static final class Run implements Callable<Integer> {
    @CommandLine.Mixin Where where;

    @Option(names = "--token", paramLabel = "TOKEN", description = "Enroll first with this token if not enrolled yet.")
    String token;

    @Option(names = "--facts-interval", paramLabel = "DURATION", description = "Overrides 'factsInterval'.")
    String factsInterval;

    @Option(names = "--log-format", paramLabel = "FORMAT",
        description = "text (default) or json: one JSON object per line, each with this agent's id.")
    String logFormat = "text";

    @Override
    public Integer call() throws Exception {
      AgentConfig config = where.resolve();
      if (factsInterval != null) {
        config = config.withFactsInterval(Durations.parse("--facts-interval", factsInterval));
      }
      if (config.controller() == null) {
        // Never enrolled (the address comes with the enrollment): only an operator helps, so the
        // unit does not restart on it.
        System.err.println("rackroll-agent: this host is not enrolled; run 'rackroll-agent enroll --controller"
            + " HOST:PORT --token TOKEN' with a token from 'rackroll token create'");
        return EXIT_NEEDS_OPERATOR;
      }
      ServiceLogging.Format format = ServiceLogging.Format.parse("--log-format", logFormat);
      // JNA (used by OSHI) unpacks a native library; keep it in a directory this service owns.
      Path jna = Files.createDirectories(config.stateDir().resolve("jna"));
      System.setProperty("jna.tmpdir", jna.toString());

      AgentIdentity identity = identity(config);
      // Every line of this process is about this host: each JSON line carries its agent id.
      ServiceLogging.install(format, Map.of(ServiceLogging.AGENT, identity.id().orElse("unenrolled")));
      if (!identity.enrolled()) {
        if (token == null) {
          System.err.println("rackroll-agent: this host is not enrolled; run 'rackroll-agent enroll --controller "
              + config.controller() + " --token TOKEN' with a token from 'rackroll token create'");
          return EXIT_NEEDS_OPERATOR;
        }
        enroll(config, BootstrapToken.parse(token));
      }
      if (identity.controller().isEmpty()) {
        // Enrolled by an earlier version, which wrote the address into the config file: kept with
        // the identity from now on, so that line may go.
        identity.saveController(config.controller().toString());
      }
      AgentIdentity.Credentials credentials = identity.credentials().orElseThrow();
      if (credentials.notAfter().isBefore(Instant.now())) {
        System.err.println("rackroll-agent: this agent's certificate expired at " + credentials.notAfter()
            + " (it was offline past its renewal); enroll the host again with a new token: rackroll-agent enroll"
            + " --controller " + config.controller() + " --token TOKEN");
        return EXIT_NEEDS_OPERATOR;
      }
      // Wired by hand, in one place: credentials, channel, inventory, artifact cache, lifecycle, link.
      Inventory inventory = new Inventory();
      LiveCredentials live = new LiveCredentials(credentials.key(), credentials.chain(), credentials.trusted());
      // Every controller node it knows: the configured or enrolled address, and the list the
      // controllers gave (several nodes on one database); calls go to the node of the moment.
      List<HostPort> known = new java.util.ArrayList<>();
      for (String a : identity.controllers()) {
        known.add(HostPort.parse("controllers in " + config.stateDir().resolve("identity.properties"), a));
      }
      ControllerChannels controllers = new ControllerChannels(config.controller(), known, credentials.agentId(),
          at -> ControllerLink.channel(at, live), list -> {
            try {
              identity.saveControllers(list);
            } catch (java.io.IOException e) {
              LoggerFactory.getLogger(AgentMain.class).warn("cannot record the controller nodes: {}", e.toString());
            }
          });
      io.grpc.Channel channel = controllers.channel();
      CertificateRenewal renewal = new CertificateRenewal(identity, live, channel, Clock.systemUTC(), why -> {
        LoggerFactory.getLogger(AgentMain.class).error("stopping: {}", why);
        // Not on the caller's thread: the shutdown hook waits for the link and renewal threads to finish.
        new Thread(() -> System.exit(EXIT_NEEDS_OPERATOR), "exit").start();
      });
      ArtifactCache cache = new ArtifactCache(config.stateDir().resolve("cache"), channel, Duration.ofHours(1));
      AgentConfig cfg = config;
      // systemd's RuntimeDirectory= (a tmpfs, see the unit): where a job's end the state disk refused is noted.
      String runtime = System.getenv("RUNTIME_DIRECTORY");
      Path unrecorded = runtime == null || runtime.isBlank() ? null : Path.of(runtime.split(":")[0]).resolve("unrecorded");
      ReleaseTrust releaseTrust;
      try {
        releaseTrust = releaseTrust(config);
      } catch (java.io.IOException e) {
        // The host's own record of which releases it trusts: never guessed, so only an operator helps.
        System.err.println("rackroll-agent: " + e.getMessage());
        return EXIT_NEEDS_OPERATOR;
      }
      LifecycleService lifecycle = new LifecycleService(listener -> {
        Lifecycle l = new Lifecycle(cfg.stateDir().resolve("apps"), unrecorded, cache,
            inventory::host, credentials.labels(), cfg.keepReleases(), Clock.systemUTC(), listener);
        l.checkSignaturesWith(releaseTrust::refusal);
        return l;
      });
      ControllerLink.Commands commands = new ControllerLink.Commands() {
        @Override
        public io.rackroll.proto.v1.CommandResult.Builder execute(io.rackroll.proto.v1.Command command) {
          return lifecycle.execute(command);
        }

        @Override
        public List<io.rackroll.proto.v1.AgentMessage> stateReport() {
          return lifecycle.stateReport();
        }

        @Override
        public void keyStatements(List<String> statements) {
          try {
            releaseTrust.apply(statements);
          } catch (java.io.IOException e) {
            // Not recorded, so not applied: the controller sends every statement again at the next connect.
            LoggerFactory.getLogger(AgentMain.class).warn("cannot record the key statements: {}", e.toString());
          }
        }
      };
      LoggerFactory.getLogger(AgentMain.class).info("release signatures: {}; trusted keys: {}", releaseTrust.required()
          ? "required" : "not required (requireSignedReleases)", releaseTrust.keyIds().isEmpty() ? "none"
          : String.join(", ", releaseTrust.keyIds()));
      ControllerLink link = new ControllerLink(controllers, credentials,
          () -> releaseTrust.withTrust(inventory.read()), commands,
          renewal, config.factsInterval(), config.reconnectBackoffBase(), config.reconnectBackoffCap(), version(),
          Clock.systemUTC());
      AgentMetrics metrics = config.metrics() == null ? null
          : new AgentMetrics(link::connected, live::certificate, cache::downloadedBytes, Clock.systemUTC());
      if (metrics == null) {
        lifecycle.reportTo(link::report);
      } else {
        // The same reports the controller gets feed this host's own metrics.
        lifecycle.reportTo(message -> {
          metrics.accept(message);
          link.report(message);
        });
        HostPort at = metrics.start(config.metrics());
        SecureFiles.writeString(config.stateDir().resolve(METRICS_ADDRESS_FILE), at + "\n", SecureFiles.PUBLIC);
        LoggerFactory.getLogger(AgentMain.class).info("metrics at http://{}/metrics", at);
      }
      Path stateDir = config.stateDir();
      lifecycle.reportHealthEvery(config.healthReportInterval(), report -> {
        long free;
        try {
          free = Files.getFileStore(stateDir).getUsableSpace();
        } catch (java.io.IOException e) {
          free = 0;
        }
        return report.setLoadAverage1M(inventory.loadAverage()).setMemoryAvailableBytes(inventory.memoryAvailable())
            .setDiskFreeBytes(free);
      });
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        link.close();
        renewal.close();
        if (metrics != null) {
          metrics.close();
        }
        lifecycle.close();
        controllers.close();
        stopped.countDown();
      }, "shutdown"));
      LoggerFactory.getLogger(AgentMain.class).info("agent {} {} starting; controller {}", credentials.agentId(),
          version(), config.controller());
      lifecycle.start();
      if (metrics != null) {
        lifecycle.stateReport().forEach(metrics); // each app's phase from disk, before any new job
      }
      link.start();
      renewal.start();
      stopped.await();
      return 0;
    }
  }


  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"rackroll-agent " + version()};
    }
  }
}
