package io.rackroll.controller.cli;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.rackroll.wire.ReleaseUpload;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.controller.server.ControllerConfig;
import io.rackroll.controller.server.ControllerServer;
import io.rackroll.proto.v1.AgentRecord;
import io.rackroll.proto.v1.CreateTokenRequest;
import io.rackroll.proto.v1.ListAgentsRequest;
import io.rackroll.proto.v1.PingAgentRequest;
import io.rackroll.release.FlagValues;
import io.rackroll.trust.SecureFiles;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rackroll demo}: the whole system on this machine. A controller in a temporary data
 * directory and agents in two racks, each a separate process, exactly as an operator runs them.
 * Every process it starts is stopped on exit, on failure and on Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run a controller and six agents in two racks on this machine, show the fleet, deploy a sample app"
        + " and a broken version of it that rolls back by itself, roll a rack back, promote a release from staging to"
        + " production with each environment's configuration, turn a runtime flag on for one rack, and stop.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--keep-running", description = "Leave the fleet up to explore until Ctrl-C.")
  boolean keepRunning;

  @Option(names = "--agents-per-rack", paramLabel = "N", description = "Agents in each of racks r1 and r2 (default: 3).")
  int agentsPerRack = 3;

  @Option(names = "--dir", paramLabel = "DIR", description = "Where to put the demo's files (default: a new temporary directory).")
  Path dir;

  @Option(names = "--ha", description = "Instead: two controller nodes on one PostgreSQL database and four agents;"
      + " the leader is SIGKILLed mid-rollout and the other node takes over and finishes it.")
  boolean ha;

  @Option(names = "--database", paramLabel = "URL", description = "With --ha: an empty PostgreSQL database to use"
      + " (jdbc:postgresql://...); default: a private PostgreSQL server in the demo directory, from this machine's"
      + " PostgreSQL programs (apt install postgresql).")
  String database;

  /** Every process started, with the log it writes to; guarded by itself. */
  private final List<Map.Entry<Process, Path>> processes = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    if (agentsPerRack < 1 || agentsPerRack > 50) {
      throw new IllegalArgumentException("--agents-per-rack: " + agentsPerRack + " (expected: 1 to 50)");
    }
    if (database != null && !ha) {
      throw new UsageError("--database goes with --ha");
    }
    Path agentJar = agentJar();
    Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("rackroll-demo-");
    Path data = root.resolve("controller");
    Thread stopAll = new Thread(this::stopAll, "demo-stop");
    Runtime.getRuntime().addShutdownHook(stopAll);
    if (ha) {
      try {
        return new HaDemo(root, agentJar).run();
      } finally {
        stopAll();
        Runtime.getRuntime().removeShutdownHook(stopAll);
      }
    }
    try {
      step("Initializing a controller in " + data);
      ControllerPki.init(data, List.of("localhost", "127.0.0.1"), Clock.systemUTC());
      SecureFiles.writeString(data.resolve(ControllerConfig.FILE), ControllerConfig.TEMPLATE
          .replace("listen: 0.0.0.0:7443", "listen: 127.0.0.1:0")
          .replace("metrics: 127.0.0.1:9464", "metrics: 127.0.0.1:0")
          .replace("web: \"off\"", "web: 127.0.0.1:0")
          .replace("heartbeatInterval: 10s", "heartbeatInterval: 1s")
          .replace("staleAfter: 30s", "staleAfter: 5s"), SecureFiles.PUBLIC);

      step("Starting the controller (log: " + data.resolve("controller.log") + ")");
      start(data.resolve("controller.log"), List.of("-jar", ownJar().toString(), "controller", "run", "--data", data.toString()));
      AdminClient client = new AdminClient();
      client.data = data;
      await("controller to listen", Duration.ofSeconds(60), () -> Files.exists(data.resolve(ControllerServer.ADDRESS_FILE)));
      String address = client.address().toString();

      ManagedChannel channel = client.open();
      try {
        await("controller to answer", Duration.ofSeconds(30), () -> answers(client, channel));
        for (String rack : List.of("r1", "r2")) {
          // The first host of rack r1 is the staging host; every other host is production.
          int staging = rack.equals("r1") ? 1 : 0;
          String stagingToken = staging == 0 ? "" : token(client, channel, rack, "staging", staging);
          String productionToken = agentsPerRack == staging ? ""
              : token(client, channel, rack, "production", agentsPerRack - staging);
          step("Created tokens for rack " + rack + " (" + (staging == 0 ? "" : staging + " staging host, ")
              + (agentsPerRack - staging) + " production host(s)); starting its agents");
          for (int i = 1; i <= agentsPerRack; i++) {
            String token = i <= staging ? stagingToken : productionToken;
            Path agentDir = root.resolve("agents").resolve(rack + "-" + i);
            Files.createDirectories(agentDir);
            start(agentDir.resolve("agent.log"), List.of("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-jar", agentJar.toString(), "run",
                "--config", agentDir.resolve("agent.yaml").toString(),
                "--state", agentDir.resolve("state").toString(),
                "--controller", address, "--token", token));
          }
        }
        int expected = 2 * agentsPerRack;
        step("Waiting for " + expected + " agents to enroll and connect");
        await(expected + " agents connected", Duration.ofSeconds(120), () -> connected(client, channel) >= expected);

        List<AgentRecord> fleet = client.stub(channel).listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList();
        step("The fleet, as 'rackroll agents' shows it:");
        AgentsCommand.printTable(System.out, fleet, Instant.now());
        step("Pinging every agent down its stream");
        for (AgentRecord a : fleet) {
          long micros = client.stub(channel).pingAgent(PingAgentRequest.newBuilder()
              .setAgentId(a.getAgentId()).setTimeoutMillis(5000).build()).getRoundTripMicros();
          System.out.printf(Locale.ROOT, "  %s (rack %s) answered in %.1f ms%n", a.getAgentId(),
              a.getLabelsOrDefault("rack", "-"), micros / 1000.0);
        }

        step("Packing and pushing the sample app 'hello' (1.0.0 and 3.0.0 healthy, 2.0.0 with a health check that fails)");
        for (String version : List.of("1.0.0", "2.0.0", "3.0.0")) {
          Path artifact = sampleApp(root, version, !version.equals("2.0.0"));
          long bytes = Files.size(artifact);
          var pushed = ReleaseUpload.upload(io.rackroll.proto.v1.AdminGrpc.newStub(channel), artifact, bytes);
          System.out.println("  pushed hello@" + version + " (sha256 " + pushed.getRelease().getDigest().substring(0, 12) + "…)");
        }
        step("Rolling hello@1.0.0 out: a canary, then batches of 2 with --max-per-rack 1, each behind a 2s health gate");
        expect(deployAndWatch(client, channel, "1.0.0"), true, "hello@1.0.0 did not complete");
        step("Rolling hello@2.0.0 out: its health check fails on the canary, which rolls back by itself;"
            + " the deployment halts and no other host is touched");
        expect(deployAndWatch(client, channel, "2.0.0"), false, "hello@2.0.0 was expected to fail on its canary");
        step("Rolling hello@3.0.0 out the same way");
        expect(deployAndWatch(client, channel, "3.0.0"), true, "hello@3.0.0 did not complete");
        step("Rack r2 misbehaves: 'rackroll rollback hello --selector rack=r2' returns its hosts to 1.0.0 at once");
        var back = client.stub(channel).rollback(io.rackroll.proto.v1.RollbackRequest.newBuilder().setName("hello")
            .setSelector("rack=r2").build());
        expect(DeploymentWatch.watch(client, channel, back.getId(), System.out, Duration.ofMinutes(3)), true,
            "the rollback of rack r2 did not complete");
        promote(client, channel, root);
        step("'rackroll status': the one screen to look at first");
        StatusCommand.print(client.stub(channel).getStatus(io.rackroll.proto.v1.GetStatusRequest.getDefaultInstance()),
            address, System.out);
        if (keepRunning) {
          step("The web console (import " + ControllerPki.dir(data).resolve("ca.crt") + " into the browser first);"
              + " this link signs you in once, within 5 minutes ('rackroll web login' prints another):");
          System.out.println("  " + client.stub(channel).createWebLogin(
              io.rackroll.proto.v1.CreateWebLoginRequest.getDefaultInstance()).getUrl());
        }
      } finally {
        AdminClient.close(channel);
      }

      if (keepRunning) {
        step("The fleet is up. Try, in another terminal:");
        String rr = "rackroll --data " + data;
        System.out.println("  " + rr + " status");
        System.out.println("  " + rr + " agents");
        System.out.println("  " + rr + " agents --selector 'rack=r2'");
        System.out.println("  " + rr + " agents show ID");
        System.out.println("  " + rr + " agents ping ID");
        System.out.println("  " + rr + " releases hello");
        System.out.println("  " + rr + " flags hello");
        System.out.println("  " + rr + " flag set hello banner=true --env production --watch");
        System.out.println("  " + rr + " rollback hello --selector rack=r1 --to 3.0.0 --watch");
        System.out.println("  " + rr + " token create --labels rack=r3,role=db");
        System.out.println("  " + rr + " web login");
        System.out.println("Press Ctrl-C to stop every process.");
        Thread.currentThread().join();
      }
      step("Demo complete; stopping every process");
      return 0;
    } finally {
      stopAll();
      Runtime.getRuntime().removeShutdownHook(stopAll);
    }
  }

  /**
   * {@code demo --ha}: two controller nodes on one PostgreSQL database, the second made with
   * {@code rackroll controller join}; four agents; a rollout whose leader is SIGKILLed after its
   * first batch, finished by the other node.
   */
  private final class HaDemo {
    private final Path root;
    private final Path agentJar;

    HaDemo(Path root, Path agentJar) {
      this.root = root;
      this.agentJar = agentJar;
    }

    int run() throws Exception {
      String url = database != null ? database : privatePostgres();
      Path a = root.resolve("node-a");
      step("Initializing node a on " + url.replaceAll("\\?.*", "?..."));
      ControllerPki.init(a, List.of("localhost", "127.0.0.1"), Clock.systemUTC());
      SecureFiles.writeString(a.resolve(ControllerConfig.FILE), fast(ControllerConfig.TEMPLATE)
          .replace("database: embedded", "database: \"" + url + "\"").replace("node: \"\"", "node: a"), SecureFiles.PUBLIC);
      Process nodeA = startNode(a);
      AdminClient viaA = new AdminClient();
      viaA.data = a;
      await("node a to listen", Duration.ofSeconds(60), () -> Files.exists(a.resolve(ControllerServer.ADDRESS_FILE)));
      String addressA = viaA.address().toString();

      Path b = root.resolve("node-b");
      step("Joining node b: rackroll controller join --data " + b + " --controller " + addressA + " --credentials "
          + ControllerPki.dir(a) + " --node b");
      Process join = new ProcessBuilder(java(), "-jar", ownJar().toString(), "controller", "join", "--data", b.toString(),
          "--controller", addressA, "--credentials", ControllerPki.dir(a).toString(), "--node", "b", "--listen",
          "127.0.0.1:0").redirectErrorStream(true).redirectOutput(root.resolve("join.log").toFile()).start();
      if (!join.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || join.exitValue() != 0) {
        throw new IllegalStateException("controller join failed; see " + root.resolve("join.log"));
      }
      System.out.print(Files.readString(root.resolve("join.log")).indent(2));
      Path bConfig = b.resolve(ControllerConfig.FILE);
      Files.writeString(bConfig, fast(Files.readString(bConfig)));
      startNode(b);
      await("node b to listen", Duration.ofSeconds(60), () -> Files.exists(b.resolve(ControllerServer.ADDRESS_FILE)));
      AdminClient viaB = new AdminClient();
      viaB.credentials = ControllerPki.dir(a); // the owner's certificate, as an operator carries it
      viaB.controller = Files.readString(b.resolve(ControllerServer.ADDRESS_FILE)).trim();

      ManagedChannel channelA = viaA.open();
      ManagedChannel channelB = viaB.open();
      try {
        await("node a to lead and node b to follow", Duration.ofSeconds(60), () -> nodes(viaB, channelB).contains("a leads"));
        String token = viaA.stub(channelA).createToken(CreateTokenRequest.newBuilder()
            .putAllLabels(Map.of("role", "web", "env", "demo")).setTtlSeconds(600).setUses(4).build()).getToken();
        step("Starting four agents: each learns both nodes' addresses and connects to one, picked by its id");
        for (int i = 1; i <= 4; i++) {
          Path agentDir = Files.createDirectories(root.resolve("agents").resolve("host-" + i));
          start(agentDir.resolve("agent.log"), List.of("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
              "-jar", agentJar.toString(), "run", "--config", agentDir.resolve("agent.yaml").toString(),
              "--state", agentDir.resolve("state").toString(), "--controller", addressA, "--token", token));
        }
        await("4 agents connected", Duration.ofSeconds(120), () -> connected(viaB, channelB) >= 4);
        step("'rackroll status', through node b (any node answers; steering calls go to the leader):");
        StatusCommand.print(viaB.stub(channelB).getStatus(io.rackroll.proto.v1.GetStatusRequest.getDefaultInstance()),
            viaB.controller, System.out);

        Path artifact = sampleApp(root, "1.0.0", true);
        ReleaseUpload.upload(io.rackroll.proto.v1.AdminGrpc.newStub(channelA), artifact, Files.size(artifact));
        step("Pushed hello@1.0.0 to node a; rolling it out one host at a time, each behind a 3s health gate");
        var d = viaA.stub(channelA).deploy(io.rackroll.proto.v1.DeployRequest.newBuilder().setName("hello")
            .setVersion("1.0.0").setSelector("env=demo").putAllOptions(Map.of("canary", "0", "batch", "1",
                "healthGate", "3s")).build());
        await("the first batch to finish", Duration.ofSeconds(120), () -> viaA.stub(channelA).getDeployment(
            io.rackroll.proto.v1.GetDeploymentRequest.newBuilder().setId(d.getId()).build()).getBatch() >= 1);
        step("SIGKILL of node a, the leader, in the middle of the rollout");
        kill(nodeA);
        long killed = System.nanoTime();
        await("node b to take the lease over", Duration.ofSeconds(60), () -> nodes(viaB, channelB).contains("b leads"));
        System.out.printf(Locale.ROOT, "  node b leads %.1f s after the kill (node a's lease had to lapse first)%n",
            (System.nanoTime() - killed) / 1e9);
        step("Following the rollout through node b: it resumes from the database, no host installed twice");
        expect(DeploymentWatch.watch(viaB, channelB, d.getId(), System.out, Duration.ofMinutes(3)), true,
            "the rollout did not complete under node b");
        step("'rackroll status' after the takeover:");
        StatusCommand.print(viaB.stub(channelB).getStatus(io.rackroll.proto.v1.GetStatusRequest.getDefaultInstance()),
            viaB.controller, System.out);
      } finally {
        AdminClient.close(channelA);
        AdminClient.close(channelB);
      }
      step("Demo complete; stopping every process");
      return 0;
    }

    private Process startNode(Path data) throws IOException {
      step("Starting node " + data.getFileName() + " (log: " + data.resolve("controller.log") + ")");
      return start(data.resolve("controller.log"), List.of("-jar", ownJar().toString(), "controller", "run", "--data",
          data.toString()));
    }

    /** The nodes line of 'rackroll status' through {@code client}, or "" while it cannot say. */
    private String nodes(AdminClient client, ManagedChannel channel) {
      try {
        var r = client.stub(channel).getStatus(io.rackroll.proto.v1.GetStatusRequest.getDefaultInstance());
        return r.getNodesList().stream().filter(io.rackroll.proto.v1.ControllerNode::getLeads)
            .map(n -> n.getName() + " leads").findFirst().orElse("");
      } catch (StatusRuntimeException e) {
        return "";
      }
    }

    /** A PostgreSQL server of the demo's own, from this machine's programs, on a free loopback port. */
    private String privatePostgres() throws Exception {
      if ("root".equals(System.getProperty("user.name"))) {
        throw new IllegalStateException("PostgreSQL does not run as root: run 'rackroll demo --ha' as a regular user,"
            + " or pass --database with the URL of an empty database");
      }
      Path bin = postgresPrograms();
      Path pgdata = root.resolve("postgres");
      Process init = new ProcessBuilder(bin.resolve("initdb").toString(), "-D", pgdata.toString(), "-U", "rackroll",
          "--auth=trust", "-E", "UTF8").redirectErrorStream(true).redirectOutput(root.resolve("initdb.log").toFile())
          .start();
      if (!init.waitFor(120, java.util.concurrent.TimeUnit.SECONDS) || init.exitValue() != 0) {
        throw new IllegalStateException("initdb failed; see " + root.resolve("initdb.log"));
      }
      int port;
      try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = probe.getLocalPort();
      }
      step("Starting a private PostgreSQL server on 127.0.0.1:" + port + " (log: " + root.resolve("postgres.log") + ")");
      startProgram(root.resolve("postgres.log"), List.of(bin.resolve("postgres").toString(), "-D", pgdata.toString(),
          "-p", Integer.toString(port), "-k", pgdata.toString(), "-c", "listen_addresses=127.0.0.1"));
      String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=rackroll";
      await("PostgreSQL to accept connections", Duration.ofSeconds(60), () -> {
        try (var c = java.sql.DriverManager.getConnection(url)) {
          return true;
        } catch (java.sql.SQLException e) {
          return false;
        }
      });
      return url;
    }
  }

  /** Where initdb and postgres are: on the PATH, else Debian's newest /usr/lib/postgresql/N/bin. */
  private static Path postgresPrograms() throws IOException {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "initdb")) && Files.isExecutable(Path.of(dir, "postgres"))) {
        return Path.of(dir);
      }
    }
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (var versions = Files.list(debian)) {
        var newest = versions.map(v -> v.resolve("bin")).filter(v -> Files.isExecutable(v.resolve("initdb")))
            .max(java.util.Comparator.comparing(v -> v.getParent().getFileName().toString(),
                java.util.Comparator.comparingInt(String::length).thenComparing(java.util.Comparator.naturalOrder())));
        if (newest.isPresent()) {
          return newest.get();
        }
      }
    }
    throw new IllegalStateException("'rackroll demo --ha' needs PostgreSQL: install it (apt install postgresql), or pass"
        + " --database with the URL of an empty database");
  }

  /** A controller's settings for the demo: loopback, a port of its choosing, fast heartbeats. */
  private static String fast(String yaml) {
    return yaml.replace("listen: 0.0.0.0:7443", "listen: 127.0.0.1:0")
        .replace("metrics: 127.0.0.1:9464", "metrics: 127.0.0.1:0")
        .replace("heartbeatInterval: 10s", "heartbeatInterval: 1s")
        .replace("staleAfter: 30s", "staleAfter: 5s");
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * Environments: one host of rack r1 as staging, every other host production, each with its own
   * greeting and database password (a secret); hello@4.0.0 renders both into its config at install.
   * Production refuses it until it completed in staging. Then a runtime flag goes on for production's
   * hosts in rack r2 only.
   */
  private static void promote(AdminClient client, ManagedChannel channel, Path root) throws Exception {
    step("Environments: the first host of rack r1 is staging, every other host production, each with its own"
        + " configuration ('rackroll env apply -f environments.yaml')");
    String yaml = """
        lifecycle: [staging, production]
        environments:
          staging:
            selector: stage=staging
            strategy: {batch: "100%", healthGate: 1s}
            variables: {greeting: hello from staging}
          production:
            selector: stage=production
            strategy: {canary: "1", batch: "2", maxPerRack: "1", healthGate: 2s}
            variables: {greeting: hello from production}
        """;
    Files.writeString(root.resolve("environments.yaml"), yaml);
    System.out.print(yaml.indent(2));
    var stub = client.stub(channel);
    stub.applyEnvironments(io.rackroll.proto.v1.ApplyEnvironmentsRequest.newBuilder().setYaml(yaml)
        .setFileName("environments.yaml").build());
    for (String env : List.of("staging", "production")) {
      stub.setSecret(io.rackroll.proto.v1.SetSecretRequest.newBuilder().setEnvironment(env).setName("db.password")
          .setValue(env + "-" + java.util.UUID.randomUUID()).build());
    }
    System.out.println("  secret db.password set for each ('rackroll env secret set ENV db.password', value on stdin;"
        + " shown as ********)");
    Path artifact = sampleApp(root, "4.0.0", true);
    ReleaseUpload.upload(io.rackroll.proto.v1.AdminGrpc.newStub(channel), artifact, Files.size(artifact));
    step("Pushed hello@4.0.0, whose config/hello.conf is a template: greeting=${greeting}, password=${db.password}");
    step("'rackroll promote hello@4.0.0 --to production' before staging is refused:");
    try {
      stub.promote(promotion("production"));
      throw new IllegalStateException("production took hello@4.0.0 before staging");
    } catch (StatusRuntimeException e) {
      System.out.println("  rackroll: " + e.getStatus().getDescription());
    }
    step("'rackroll promote hello@4.0.0 --to staging', then to production, each with its environment's strategy");
    for (String env : List.of("staging", "production")) {
      var d = client.stub(channel).promote(promotion(env)); // a stub's deadline runs from its creation
      expect(DeploymentWatch.watch(client, channel, d.getId(), System.out, Duration.ofMinutes(3)), true,
          "the promotion of hello@4.0.0 to " + env + " did not complete");
    }
    step("The same release, configured per environment on each host's disk (passwords not shown):");
    try (var agents = Files.list(root.resolve("agents"))) {
      for (Path agent : agents.sorted().toList()) {
        Path conf = agent.resolve("state/apps/hello/current/config/hello.conf");
        String greeting = Files.readAllLines(conf).stream().filter(l -> l.startsWith("greeting=")).findFirst()
            .orElse("?");
        System.out.println("  " + agent.getFileName() + ": " + greeting);
      }
    }
    step("'rackroll flag set hello banner=true --env production --selector rack=r2': a feature turned on for one rack"
        + " first, in batches behind the health gate (each host writes flags.json and runs the flagsChanged hook)");
    var flag = client.stub(channel).setFlags(io.rackroll.proto.v1.SetFlagsRequest.newBuilder().setApp("hello")
        .setEnvironment("production").setSelector("rack=r2").putChanges("banner", "true").build());
    expect(DeploymentWatch.watch(client, channel, flag.getId(), System.out, Duration.ofMinutes(3)), true,
        "the flag change did not complete");
    step("Each host's flags, as its release reads them from flags.json:");
    try (var agents = Files.list(root.resolve("agents"))) {
      for (Path agent : agents.sorted().toList()) {
        Map<String, String> flags = FlagValues.fromJson(Files.readString(agent.resolve("state/apps/hello/flags.json")));
        System.out.println("  " + agent.getFileName() + ": " + (flags.isEmpty() ? "(none)" : FlagValues.show(flags)));
      }
    }
    step("'rackroll releases hello': where each version runs, completed and failed");
    var history = client.stub(channel).releaseHistory(io.rackroll.proto.v1.ReleaseHistoryRequest.newBuilder().setName("hello").build());
    for (var v : history.getVersionsList()) {
      String running = v.getRunningMap().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).sorted()
          .collect(java.util.stream.Collectors.joining(", "));
      System.out.printf("  %-6s running on: %-24s completed in: %s%n", v.getRelease().getVersion(),
          running.isEmpty() ? "-" : running, v.getCompletedCount() == 0 ? "-" : String.join(", ", v.getCompletedList()));
    }
  }

  /** A token for {@code uses} hosts of {@code rack} in {@code stage} (the environments select on it). */
  private static String token(AdminClient client, ManagedChannel channel, String rack, String stage, int uses) {
    return client.stub(channel).createToken(CreateTokenRequest.newBuilder()
        .putAllLabels(Map.of("rack", rack, "role", "web", "env", "demo", "stage", stage))
        .setTtlSeconds(600).setUses(uses).build()).getToken();
  }

  private static io.rackroll.proto.v1.PromoteRequest promotion(String env) {
    return io.rackroll.proto.v1.PromoteRequest.newBuilder().setName("hello").setVersion("4.0.0").setEnvironment(env)
        .build();
  }

  private static int deployAndWatch(AdminClient client, ManagedChannel channel, String version) throws InterruptedException {
    var d = client.stub(channel).deploy(io.rackroll.proto.v1.DeployRequest.newBuilder().setName("hello").setVersion(version)
        .setSelector("env=demo").putAllOptions(Map.of("canary", "1", "batch", "2", "maxPerRack", "1",
            "healthGate", "2s")).build());
    return DeploymentWatch.watch(client, channel, d.getId(), System.out, Duration.ofMinutes(3));
  }

  private static void expect(int exit, boolean success, String otherwise) {
    if ((exit == 0) != success) {
      throw new IllegalStateException(otherwise + "; see the logs under the demo directory");
    }
  }

  /** A tiny app: activate writes a file, health checks it (v2's health check always fails). */
  private static Path sampleApp(Path root, String version, boolean healthy) throws Exception {
    Path src = Files.createDirectories(root.resolve("sample").resolve("hello-" + version));
    Path hooks = Files.createDirectories(src.resolve("hooks"));
    writeScript(hooks.resolve("activate.sh"), "echo \"hello $RACKROLL_VERSION on rack $RACKROLL_LABEL_RACK\" > \"$RACKROLL_RELEASE_DIR/running\"");
    writeScript(hooks.resolve("health.sh"), healthy ? "test -f \"$(dirname \"$0\")/../running\""
        : "echo 'dependency missing' >&2; exit 1");
    boolean templated = version.equals("4.0.0");
    if (templated) {
      writeScript(hooks.resolve("flags.sh"), "echo \"flags now: $(cat \"$RACKROLL_FLAGS_FILE\")\" >> \"$RACKROLL_RELEASE_DIR/flags.log\"");
      Files.createDirectories(src.resolve("config"));
      Files.writeString(src.resolve("config/hello.conf"), "greeting=${greeting}\npassword=${db.password}\n");
    }
    Files.writeString(src.resolve("rackroll.yaml"), "name: hello\nversion: " + version + "\n"
        + (templated ? "templates: [config/hello.conf]\n" : "")
        + "hooks:\n  activate: hooks/activate.sh\n" + (templated ? "  flagsChanged: hooks/flags.sh\n" : "")
        + "health:\n  checks:\n    - exec: hooks/health.sh\n  interval: 300ms\n  timeout: 300ms\n"
        + "  healthyAfter: 2\n  deadline: 3s\n");
    Path out = root.resolve("sample").resolve("hello-" + version + ".tar.gz");
    io.rackroll.release.Artifact.pack(src, out);
    return out;
  }

  private static void writeScript(Path file, String body) throws IOException {
    Files.writeString(file, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private static boolean answers(AdminClient client, ManagedChannel channel) {
    try {
      client.stub(channel).listAgents(ListAgentsRequest.getDefaultInstance());
      return true;
    } catch (StatusRuntimeException e) {
      return false;
    }
  }

  private static long connected(AdminClient client, ManagedChannel channel) {
    return client.stub(channel).listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList().stream()
        .filter(a -> a.getState().equals("connected")).count();
  }

  /** SIGKILLs {@code p}, one of the demo's processes, on purpose: no longer waited on or stopped. */
  private void kill(Process p) throws InterruptedException {
    synchronized (processes) {
      processes.removeIf(e -> e.getKey() == p);
    }
    p.destroyForcibly().waitFor();
  }

  /** Starts a JVM with {@code args}, stopped with the demo. */
  private Process start(Path log, List<String> args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(java());
    command.addAll(args);
    return startProgram(log, command);
  }

  /** Starts {@code command}, stopped with the demo. */
  private Process startProgram(Path log, List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    synchronized (processes) {
      processes.add(Map.entry(p, log));
    }
    return p;
  }

  /** Checks every second until {@code condition} holds; fails naming what did not happen, and where to look. */
  private void await(String what, Duration limit, BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plus(limit);
    while (!condition.getAsBoolean()) {
      synchronized (processes) {
        for (Map.Entry<Process, Path> p : processes) {
          if (!p.getKey().isAlive()) {
            throw new IllegalStateException("waiting for " + what + ": a process exited with code "
                + p.getKey().exitValue() + "; see " + p.getValue());
          }
        }
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("timed out after " + limit.toSeconds() + " s waiting for " + what
            + "; see the logs in the demo directory");
      }
      Thread.sleep(250); // polling a condition in a CLI loop, with a deadline
    }
  }

  private void stopAll() {
    List<Process> all;
    synchronized (processes) {
      all = new ArrayList<>(processes.stream().map(Map.Entry::getKey).toList());
      processes.clear();
    }
    all.forEach(Process::destroy);
    for (Process p : all) {
      try {
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void step(String text) {
    System.out.println("==> " + text);
  }

  private static Path ownJar() {
    try {
      Path p = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (!p.toString().endsWith(".jar")) {
        throw new IllegalStateException("demo must run from the built jar (use ./rackroll demo), not from " + p);
      }
      return p;
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The agent jar: -Drackroll.agent.jar, else next to this jar (packaged), else the source tree's build. */
  static Path agentJar() {
    String configured = System.getProperty("rackroll.agent.jar", System.getenv("RACKROLL_AGENT_JAR"));
    List<Path> candidates = new ArrayList<>();
    if (configured != null && !configured.isBlank()) {
      candidates.add(Path.of(configured));
    } else {
      Path dir = ownJar().getParent();
      candidates.add(dir.resolve("rackroll-agent.jar"));
      candidates.add(dir.resolve("..").resolve("..").resolve("agent").resolve("target").resolve("rackroll-agent.jar"));
    }
    for (Path c : candidates) {
      if (Files.isRegularFile(c)) {
        return c.normalize();
      }
    }
    throw new IllegalStateException("agent jar not found (looked at " + String.join(File.pathSeparator,
        candidates.stream().map(Path::toString).toList()) + "); build it with './mvnw -DskipTests package'");
  }
}
