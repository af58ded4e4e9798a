package io.rackroll.e2e;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A real fleet on this machine for end-to-end tests: the controller and every agent are separate
 * JVMs started from the built jars, and the test drives them through the {@code rackroll} CLI as an
 * operator would. Everything lives under one directory; {@link #close()} stops every process,
 * also when the test fails.
 */
final class Fleet implements AutoCloseable {
  static final Path CONTROLLER_JAR = Path.of(System.getProperty("rackroll.controller.jar"));
  static final Path AGENT_JAR = Path.of(System.getProperty("rackroll.agent.jar"));
  private static final List<String> SMALL_JVM = List.of("-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  /** The JVM options of the agents this fleet starts from now on (tests: small and quick to start). */
  private List<String> agentJvm = SMALL_JVM;
  /** The launcher agents start through ({@link #agentsThroughLauncher}); null: {@code java -jar}. */
  private Path agentLauncher;
  /** The class-data archive the launcher's agents start from, made by {@link #agentsThroughLauncher}. */
  private Path agentClassArchive;
  /**
   * Polls that run the CLI: each poll is a JVM of about half a second of CPU, and on 2 cores the
   * suite is bound by those, so once a second (not Awaitility's 100 ms). A wait for a deployment's
   * end follows it instead ({@link #awaitEnd}).
   */
  static final Duration CLI_POLL = Duration.ofSeconds(1);
  /**
   * A class-data archive of the operator CLI, dumped once per test JVM by a first call against a
   * running controller ({@link #archiveCliClasses}); null until then, or if dumping failed. Every CLI
   * run after it starts with its classes already parsed and verified: about a third less CPU per
   * call, of which the suite makes hundreds.
   */
  private static volatile Path cliArchive;
  private static boolean cliArchiveTried;
  private static final ObjectMapper JSON = new ObjectMapper();

  final Path dir;
  final Path data;
  /** The controller's config file; null for the default, {@code <data>/controller.yaml}. */
  private final Path controllerConfig;
  /** Where the programs come from: null for the built jars, else an unpacked package's root. */
  private final Path installRoot;
  private final List<String> controllerJvm;
  /** Options every start of the controller gets (the test clock). */
  /** For {@link #startWithTestClock}: the file {@link ClockedController}'s clock reads its offset from. */
  private Path clockOffset;
  private Process controller;
  private Process simulator;
  private final Map<String, Agent> agents = new LinkedHashMap<>();

  private Fleet(Path dir, Path data, Path controllerConfig, Path installRoot, List<String> controllerJvm) {
    this.dir = dir;
    this.data = data;
    this.controllerConfig = controllerConfig;
    this.installRoot = installRoot;
    this.controllerJvm = List.copyOf(controllerJvm);
  }

  /**
   * A fleet run from the .tar.gz packages unpacked under {@code root}: the launchers in
   * {@code root/usr/bin}, the controller's data in {@code root/var/lib/rackroll/controller} and its
   * config in {@code root/etc/rackroll/controller.yaml}, as the packages lay them out.
   */
  static Fleet installed(Path dir, Path root) throws Exception {
    return start(new Fleet(dir, root.resolve("var/lib/rackroll/controller"), root.resolve("etc/rackroll/controller.yaml"),
        root, SMALL_JVM), "");
  }

  /** Initializes a controller on a free loopback port with fast heartbeats (500 ms, stale after 3 s) and starts it. */
  static Fleet start(Path dir) throws Exception {
    return start(dir, "");
  }

  /** The same, with controller.yaml settings to change or add, one "key: value" a line (e.g. "transferRateLimit: 1MiB"). */
  static Fleet start(Path dir, String config) throws Exception {
    return start(dir, config, SMALL_JVM);
  }

  /** The same, with the controller's JVM options (e.g. a larger heap for a simulated fleet). */
  static Fleet start(Path dir, String config, List<String> controllerJvm) throws Exception {
    return start(new Fleet(dir, dir.resolve("controller"), null, null, controllerJvm), config);
  }

  /**
   * The same, on a controller whose clock the test moves ({@link #moveClock}), for change windows:
   * its time is the real time plus an offset read from a file.
   */
  /**
   * A controller sized and paced for a big simulated fleet, as the benchmarks run it: heartbeats
   * every 10 s as in production, stale after 30 s, a 1 GiB heap.
   */
  static Fleet startForScale(Path dir) throws Exception {
    return start(dir, "heartbeatInterval: 10s\nstaleAfter: 30s", List.of("-Xmx1g"));
  }

  /** What a benchmark measures on one simulated fleet, all of it enrolled and connected. */
  interface ScaleRun {
    void run(Fleet fleet, int agents) throws Exception;
  }

  /**
   * For each fleet size a benchmark was asked for ({@code -Dbench.agents=N,M}, else
   * {@code defaults}): a controller for scale in its own directory under {@code dir}, that many
   * simulated agents in 10 racks enrolled and connected (the time that took printed), then
   * {@code run}.
   */
  static void forEachScale(String defaults, Path dir, ScaleRun run) throws Exception {
    for (String n : System.getProperty("bench.agents", defaults).split(",")) {
      int agents = Integer.parseInt(n.trim());
      Path where = Files.createDirectories(dir.resolve("n" + agents));
      try (Fleet fleet = startForScale(where)) {
        long setup = System.nanoTime();
        fleet.simulate(agents, 10, "--step-time", "0s");
        double enrolled = (System.nanoTime() - setup) / 1e9;
        System.out.printf("N=%d: enrolled and connected in %.1f s (%.0f/s)%n", agents, enrolled, agents / enrolled);
        run.run(fleet, agents);
      }
    }
  }

  static Fleet startWithTestClock(Path dir) throws Exception {
    Fleet fleet = new Fleet(dir, dir.resolve("controller"), null, null, SMALL_JVM);
    fleet.clockOffset = dir.resolve("clock-offset");
    // The test moves the clock by hours at once: every agent would look silent until its next
    // heartbeat, and a host silent in a health gate fails it.
    return start(fleet, "staleAfter: 24h\n");
  }

  /** Sets the controller's clock to {@code at} (only after {@link #startWithTestClock}); it runs on from there. */
  void moveClock(java.time.Instant at) throws IOException {
    Duration offset = Duration.between(java.time.Instant.now(), at);
    Path file = dir.resolve("clock-offset");
    Files.writeString(dir.resolve("clock-offset.new"), offset.toString());
    Files.move(dir.resolve("clock-offset.new"), file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static Fleet start(Fleet fleet, String config) throws Exception {
    try {
      // A fixed port, so agents find a restarted controller where they left it.
      int port = freePort();
      Cli init = fleet.rackroll("controller", "init", "--data", fleet.data.toString(), "--config",
          fleet.configFile().toString(), "--listen", "127.0.0.1:" + port);
      if (init.exit != 0) {
        throw new IllegalStateException("controller init failed: " + init);
      }
      Path file = fleet.configFile();
      String yaml = Files.readString(file);
      // The port again: a packaged config file exists before init and is kept. Metrics on a port of
      // the controller's choosing: tests run side by side.
      // staleAfter: twenty heartbeats, so a busy machine never makes a live agent look silent (a host
      // silent in its health gate fails it).
      String settings = "listen: 127.0.0.1:" + port + "\nheartbeatInterval: 500ms\nstaleAfter: 10s\nmetrics: 127.0.0.1:0\n";
      for (String line : (settings + config).split("\n")) {
        if (!line.isBlank()) {
          String key = line.substring(0, line.indexOf(':') + 1);
          yaml = yaml.contains("\n" + key) ? yaml.replaceAll("(?m)^" + key + ".*$", line) : yaml + "\n" + line + "\n";
        }
      }
      Files.writeString(file, yaml);
      fleet.startController();
      return fleet;
    } catch (Exception | AssertionError e) {
      fleet.close();
      throw e;
    }
  }

  /**
   * A loopback port free now, for a process to listen on later: below the kernel's ephemeral range,
   * which every outgoing connection (the CLI's, the agents', the database's) draws its own port
   * from, so that none of those can take it in between (a port the kernel picked could be, and
   * was: a controller that could not listen).
   */
  static int freePort() throws IOException {
    int ephemeral = 32768;
    // Read line by line: Files.readString returns only the first byte of this file (JDK 17).
    try (var in = Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
      ephemeral = Integer.parseInt(in.readLine().trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      // the usual Linux default
    }
    if (ephemeral < 12_000) {
      ephemeral = 32768; // a range this low leaves no room below it: as if the default
    }
    int low = 10_000;
    java.util.Random random = new java.util.Random();
    for (int i = 0; i < 200; i++) {
      int port = low + random.nextInt(ephemeral - low);
      try (java.net.ServerSocket probe = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
        return probe.getLocalPort();
      } catch (IOException taken) {
        // another test's: try another
      }
    }
    throw new IOException("no free loopback port below " + ephemeral + " in 200 tries");
  }

  /** The last lines of a log, for a failure's message. */
  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }

  Path configFile() {
    return controllerConfig != null ? controllerConfig : data.resolve("controller.yaml");
  }

  void startController(String... options) throws IOException {
    Files.deleteIfExists(data.resolve("controller.address"));
    List<String> args = new ArrayList<>(List.of("controller", "run", "--data", data.toString(), "--config",
        configFile().toString()));
    args.addAll(List.of(options));
    controller = clockOffset == null
        ? java(data.resolve("controller.log"), controllerJvm, CONTROLLER_JAR, args.toArray(String[]::new))
        : clocked(data.resolve("controller.log"));
    try {
      await("controller listening").atMost(Duration.ofSeconds(60))
          .failFast("controller exited", () -> !controller.isAlive())
          .until(() -> Files.exists(data.resolve("controller.address")));
    } catch (org.awaitility.core.TerminalFailureException e) {
      // CI keeps no temporary directories: the failure carries what the controller said.
      throw new AssertionError("controller exited; the end of its log:\n" + tail(data.resolve("controller.log")), e);
    }
    if (installRoot == null) {
      archiveCliClasses();
    }
  }

  /**
   * Another controller node beside this fleet's on the same PostgreSQL database (its config must
   * name one), made with {@code rackroll controller join} from this fleet's controller with its
   * owner's credentials, given the fleet's fast heartbeats, and started.
   */
  Node joinNode(String name) throws Exception {
    return joinNode(name, yaml -> yaml);
  }

  /** The same, with {@code edit} applied to the joined node's controller.yaml before it starts. */
  Node joinNode(String name, java.util.function.UnaryOperator<String> edit) throws Exception {
    Path nodeData = dir.resolve("node-" + name);
    int port = freePort();
    Cli join = ok(rackroll("controller", "join", "--data", nodeData.toString(), "--controller", controllerAddress(),
        "--credentials", data.resolve("pki").toString(), "--node", name, "--listen", "127.0.0.1:" + port));
    Path config = nodeData.resolve("controller.yaml");
    String yaml = Files.readString(config);
    for (String line : List.of("heartbeatInterval: 500ms", "staleAfter: 10s", "metrics: 127.0.0.1:0")) {
      String key = line.substring(0, line.indexOf(':') + 1);
      yaml = yaml.replaceAll("(?m)^" + key + ".*$", line);
    }
    Files.writeString(config, edit.apply(yaml));
    Node node = new Node(name, nodeData, join);
    node.start();
    nodes.add(node);
    return node;
  }

  /** Controller nodes joined to this fleet's, stopped with it. */
  private final List<Node> nodes = new ArrayList<>();

  /** One controller node joined with {@link #joinNode}. */
  final class Node {
    final String name;
    final Path data;
    /** What 'controller join' printed. */
    final Cli joined;
    private Process process;

    private Node(String name, Path data, Cli joined) {
      this.name = name;
      this.data = data;
      this.joined = joined;
    }

    void start() throws IOException {
      launch();
      await("node " + name + " listening").atMost(Duration.ofSeconds(60))
          .failFast("node " + name + " exited; see " + data.resolve("controller.log"), () -> !process.isAlive())
          .until(() -> Files.exists(data.resolve("controller.address")));
    }

    String address() throws IOException {
      return Files.readString(data.resolve("controller.address")).trim();
    }

    /** {@code controller run}, without waiting for it to listen (it may refuse to start). */
    Process launch() throws IOException {
      Files.deleteIfExists(data.resolve("controller.address"));
      process = java(data.resolve("controller.log"), controllerJvm, CONTROLLER_JAR, "controller", "run", "--data",
          data.toString());
      return process;
    }

    /**
     * This node's data directory copied as a cloned machine would have it (its configuration, keys
     * and record of its last run), listening on another port: the same node name, another process.
     */
    Node copy() throws IOException {
      Path copy = dir.resolve("copy-of-" + name);
      try (var files = Files.walk(data)) {
        for (Path from : files.toList()) {
          Path to = copy.resolve(data.relativize(from).toString());
          if (Files.isDirectory(from)) {
            Files.createDirectories(to);
          } else if (!List.of("controller.lock", "controller.address", "controller.log")
              .contains(from.getFileName().toString())) {
            Files.copy(from, to, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
          }
        }
      }
      Path config = copy.resolve("controller.yaml");
      Files.writeString(config, Files.readString(config).replaceAll("(?m)^listen:.*$", "listen: 127.0.0.1:0"));
      return new Node(name, copy, null);
    }

    long pid() {
      return process.pid();
    }

    /** SIGKILL: no goodbye to its agents, its lease left to lapse. */
    void kill() throws InterruptedException {
      process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    String log() throws IOException {
      return Files.readString(data.resolve("controller.log"));
    }
  }

  private static final java.util.regex.Pattern LEADER =
      java.util.regex.Pattern.compile("nodes +\\d+ on one database; (\\S+) leads");

  /**
   * Which controller node leads, as {@code rackroll status} says; empty while none does (or while
   * the node the CLI reaches cannot reach the leader: it says so and to retry).
   */
  String leader() {
    Cli status = rackroll("status");
    java.util.regex.Matcher m = LEADER.matcher(status.out());
    return status.exit() == 0 && m.find() ? m.group(1) : "";
  }

  /** Where this fleet's own (first) controller listens, whatever the CLI is pointed at now. */
  String dataAddress() throws IOException {
    return Files.readString(configFile()).lines().filter(l -> l.startsWith("listen:")).findFirst()
        .orElseThrow(() -> new IllegalStateException("no listen: in " + configFile())).substring("listen:".length()).trim();
  }

  /**
   * From now on the CLI reaches the controllers through {@code address} (another node, once this
   * fleet's first one is gone): what the controller's address file says is where the CLI dials.
   */
  void adminThrough(String address) throws IOException {
    Files.writeString(data.resolve("controller.address"), address + "\n");
  }

  /** SIGTERM, as systemd stops it: the controller closes its store and streams, and exits. */
  void stopController() throws InterruptedException {
    controller.destroy();
    if (!controller.waitFor(60, TimeUnit.SECONDS)) {
      throw new AssertionError("controller did not stop within 60 s of SIGTERM");
    }
  }

  /** SIGKILL: no shutdown hook, no goodbye to the agents. */
  void killController() throws InterruptedException {
    controller.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
  }

  /** The controller's process id, for measuring it. */
  long controllerPid() {
    return controller.pid();
  }

  String controllerLog() throws IOException {
    return Files.readString(data.resolve("controller.log"));
  }

  String controllerAddress() throws IOException {
    return Files.readString(data.resolve("controller.address")).trim();
  }

  /** {@code GET /metrics} from the controller, as Prometheus would scrape it. */
  String metrics() throws IOException, InterruptedException {
    return scrape(data.resolve("metrics.address"));
  }

  /** {@code GET /metrics} from the address a process wrote to {@code addressFile}, as Prometheus would scrape it. */
  private static String scrape(Path addressFile) throws IOException, InterruptedException {
    String address = Files.readString(addressFile).trim();
    var response = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + address + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET /metrics: " + response.statusCode() + " " + response.body());
    }
    return response.body();
  }

  String token(String labels, int uses) {
    Cli r = rackroll("token", "create", "--labels", labels, "--uses", Integer.toString(uses));
    if (r.exit != 0) {
      throw new IllegalStateException("token create failed: " + r);
    }
    return r.out.trim();
  }

  /** Agents started from now on run with {@code options}. */
  void agentJvm(List<String> options) {
    agentJvm = List.copyOf(options);
  }

  /**
   * Agents started from now on run as the unit runs them: through the package's launcher
   * ({@code packaging/deb/src/bin/rackroll-agent}, with its JVM options) beside the built jar.
   */
  void agentsThroughLauncher() throws IOException {
    Path root = Files.createDirectories(dir.resolve("launcher"));
    Path bin = Files.createDirectories(root.resolve("bin")).resolve("rackroll-agent");
    Files.copy(Path.of(System.getProperty("rackroll.package.sources"), "bin", "rackroll-agent"), bin,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.setPosixFilePermissions(bin, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Path jar = Files.createDirectories(root.resolve("share/rackroll")).resolve("rackroll-agent.jar");
    Files.deleteIfExists(jar);
    Files.createSymbolicLink(jar, AGENT_JAR);
    // The class-data archive, made as the package's postinst makes it.
    Path archive = root.resolve("rackroll-agent.jsa");
    ProcessBuilder warmUp = new ProcessBuilder(bin.toString(), "warm-up", "--dir", root.toString())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve("warm-up.log").toFile()));
    warmUp.environment().put("JAVA", javaBin());
    warmUp.environment().put("RACKROLL_AGENT_CLASS_ARCHIVE", root.resolve("none").toString());
    warmUp.environment().put("JAVA_OPTS", "-XX:ArchiveClassesAtExit=" + archive + " -Xlog:cds=off -Xlog:cds+dynamic=off");
    try {
      Process p = warmUp.start();
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException("rackroll-agent warm-up did not end in 2 minutes; see " + root.resolve("warm-up.log"));
      }
      if (p.exitValue() != 0 || !Files.isRegularFile(archive)) {
        throw new IllegalStateException("rackroll-agent warm-up failed; see " + root.resolve("warm-up.log"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while making the agent's class-data archive", e);
    }
    agentLauncher = bin;
    agentClassArchive = archive;
    agentJvm = List.of();
  }

  /** Starts an agent process enrolling with a token of its own for {@code labels} (e.g. "rack=r1,role=web"). */
  Agent startAgentWith(String name, String labels) throws IOException {
    return startAgent(name, token(labels, 1));
  }

  /** Agents r1-a, r1-b, r2-a, r2-b (labels rack=rN, role=web), once all four are connected. */
  List<Agent> twoRacksOfTwo() throws IOException {
    List<Agent> started = new ArrayList<>();
    for (String rack : List.of("r1", "r2")) {
      String token = token("rack=" + rack + ",role=web", 2);
      started.add(startAgent(rack + "-a", token));
      started.add(startAgent(rack + "-b", token));
    }
    awaitConnected(4);
    return started;
  }

  /** Waits until {@code n} agents are connected. */
  void awaitConnected(int n) {
    // One CLI that waits, as an operator's script would, instead of one started every second;
    // polling is left for a count that has to fall (agents stopped, or one too many).
    Cli waited = runFor(Duration.ofSeconds(100), CONTROLLER_JAR, "agents", "--wait-connected", String.valueOf(n),
        "--timeout", "90s", "-o", "json");
    if (waited.exit == 0 && connected(waited.out) == n) {
      return;
    }
    await(n + " agent(s) connected").atMost(Duration.ofSeconds(90)).pollInterval(CLI_POLL)
        .until(() -> connectedCount() == n);
  }

  /** Starts an agent process in its own directory, enrolling with {@code token} if it has not yet. */
  Agent startAgent(String name, String token) throws IOException {
    return startAgent(name, token, "");
  }

  /** As above, with {@code config} (YAML lines) added to the agent's configuration file. */
  Agent startAgent(String name, String token, String config) throws IOException {
    Path home = dir.resolve("agents").resolve(name);
    Files.createDirectories(home);
    Files.writeString(home.resolve("agent.yaml"), String.join("\n",
        "controller: " + controllerAddress(),
        "stateDir: " + home.resolve("state"),
        "pkiDir: " + home.resolve("pki"),
        "factsInterval: 60s",
        "reconnectBackoffBase: 200ms",
        "reconnectBackoffCap: 2s",
        "healthReportInterval: 1s",
        "metrics: 127.0.0.1:0", "") + config);
    List<String> args = new ArrayList<>(List.of("run", "--config", home.resolve("agent.yaml").toString()));
    if (token != null) {
      args.addAll(List.of("--token", token));
    }
    Agent agent = new Agent(name, home, home.resolve("agent.yaml"), home.resolve("state"), home.resolve("pki"), null);
    agent.start(args);
    agents.put(name, agent);
    return agent;
  }

  /**
   * Runs the agent of the installed packages as its service would ({@code rackroll-agent run
   * --config <root>/etc/rackroll/agent.yaml}), once {@code rackroll-agent enroll} has written that file.
   */
  Agent startInstalledAgent(String name, Path stateDir) throws IOException {
    Path config = installRoot.resolve("etc/rackroll/agent.yaml");
    Path home = Files.createDirectories(dir.resolve("agents").resolve(name));
    Agent agent = new Agent(name, home, config, stateDir, installRoot.resolve("etc/rackroll/pki"), null);
    agent.restart();
    agents.put(name, agent);
    return agent;
  }

  /**
   * Runs {@code rackroll simulate} with {@code agents} simulated agents in {@code racks} racks
   * (labels rack=r1..rR, sim=true) in its own JVM, and waits until all of them are connected.
   */
  void simulate(int agents, int racks, String... options) throws IOException {
    List<String> args = new ArrayList<>(List.of("simulate", "--data", data.toString(), "--agents",
        Integer.toString(agents), "--racks", Integer.toString(racks)));
    args.addAll(List.of(options));
    Path log = dir.resolve("simulator.log");
    simulator = java(log, List.of("-Xmx" + (256 + agents / 8) + "m"), CONTROLLER_JAR, args.toArray(String[]::new));
    String all = agents + " of " + agents + " simulated agents connected";
    await(all).atMost(Duration.ofMinutes(2).plusSeconds(agents / 10))
        .failFast("simulator exited; see " + log, () -> !simulator.isAlive())
        .until(() -> Files.readString(log).contains(all));
  }

  /** SIGKILLs the simulator: every simulated agent's connection drops at once. */
  void killSimulator() throws InterruptedException {
    simulator.destroyForcibly().waitFor();
  }

  /** What the simulator has printed so far. */
  String simulatorLog() throws IOException {
    return Files.readString(dir.resolve("simulator.log"));
  }

  /** Waits until the simulator reports all {@code agents} connected again in what it printed after {@code from}. */
  void awaitSimulated(int agents, int from) {
    String all = agents + " of " + agents + " simulated agents connected";
    await(all + " again").atMost(Duration.ofMinutes(2).plusSeconds(agents / 10))
        .failFast("simulator exited; see " + dir.resolve("simulator.log"), () -> !simulator.isAlive())
        .until(() -> simulatorLog().indexOf(all, from) >= 0);
  }

  /**
   * The most hosts of one failure domain between their first recorded transition and their end, at
   * any moment of {@code deployment} (as {@link #deploymentJson} returns it): what --max-per-rack bounds.
   */
  static int maxInFlightPerDomain(JsonNode deployment) {
    Map<String, String> domainOf = new HashMap<>();
    deployment.path("hosts").forEach(h -> domainOf.put(h.path("agentId").asText(), h.path("domain").asText()));
    Map<String, Integer> inFlight = new HashMap<>();
    Set<String> started = new HashSet<>();
    int max = 0;
    for (JsonNode t : deployment.path("transitions")) {
      String agent = t.path("agentId").asText();
      String domain = domainOf.get(agent);
      if (started.add(agent)) {
        max = Math.max(max, inFlight.merge(domain, 1, Integer::sum));
      }
      if (DONE.contains(t.path("phase").asText())) {
        inFlight.merge(domain, -1, Integer::sum);
      }
    }
    if (started.size() != domainOf.size()) {
      throw new AssertionError("transitions recorded for " + started.size() + " of " + domainOf.size() + " hosts");
    }
    return max;
  }

  private static final Set<String> DONE = Set.of("ACTIVE", "ROLLED_BACK", "FAILED", "UNREACHABLE", "TIMED_OUT",
      "SKIPPED", "UNHEALTHY");

  /**
   * A release of the sample app "web" to build and push, e.g.
   * {@code fleet.web("2").hook("postInstall", "exit 3").push()}. By default its activate hook
   * records the version beside the releases and its exec health check passes.
   */
  WebRelease web(String version) {
    return new WebRelease(version);
  }

  /** What web's activate hook does by default: record the version beside the releases. */
  static final String RECORD_VERSION = "echo \"$RACKROLL_VERSION\" > \"$RACKROLL_RELEASE_DIR/../../activated\"";

  final class WebRelease {
    private final String version;
    private String activate = RECORD_VERSION;
    private String health = "exit 0";
    private String manifest = "";
    private String healthDeadline = "3s";
    private int healthyAfter = 2;
    private int payloadBytes;
    private final Map<String, String> hooks = new LinkedHashMap<>();
    private final Map<String, String> files = new LinkedHashMap<>();
    private final Map<String, String> links = new LinkedHashMap<>();

    private WebRelease(String version) {
      this.version = version;
    }

    WebRelease activate(String body) {
      activate = body;
      return this;
    }

    /** The exec health check's body, a shell snippet (exit 0 is healthy). */
    WebRelease health(String body) {
      health = body;
      return this;
    }

    /** Another hook ({@code preInstall}, {@code postInstall}, {@code deactivate}) with its timeout. */
    WebRelease hook(String point, String body, String timeout) {
      hooks.put(point + "\n" + timeout, body);
      return this;
    }

    /** How many passing rounds in a row make the release healthy (2 unless set). */
    WebRelease healthyAfter(int rounds) {
      healthyAfter = rounds;
      return this;
    }

    /** How long the host gives the release to turn healthy after activation (3s unless set). */
    WebRelease healthDeadline(String duration) {
      healthDeadline = duration;
      return this;
    }

    /** More top-level manifest YAML, e.g. a {@code requires:} block. */
    WebRelease manifest(String yaml) {
      manifest = yaml;
      return this;
    }

    /** Another file in the release (a template, say), at {@code path} inside it. */
    WebRelease file(String path, String content) {
      files.put(path, content);
      return this;
    }

    /** A symbolic link in the release, at {@code path}, to {@code target} as written. */
    WebRelease link(String path, String target) {
      links.put(path, target);
      return this;
    }

    /** Random bytes in the release, to make downloads take time or fill disks. */
    WebRelease payload(int bytes) {
      payloadBytes = bytes;
      return this;
    }

    void push() throws IOException {
      Path artifact = pack();
      Cli push = rackroll("release", "push", artifact.toString());
      if (push.exit != 0) {
        throw new IllegalStateException("push of web@" + version + " failed:\n" + push);
      }
    }

    /** Builds the artifact (web-VERSION.tar.gz) without pushing it; returns where it is. */
    Path pack() throws IOException {
      Path src = Files.createDirectories(dir.resolve("releases").resolve("web-" + version));
      Files.createDirectories(src.resolve("hooks"));
      if (payloadBytes > 0) {
        byte[] payload = new byte[payloadBytes];
        new java.util.Random(payloadBytes).nextBytes(payload);
        Files.write(src.resolve("payload.bin"), payload);
      }
      StringBuilder yaml = new StringBuilder("name: web\nversion: \"" + version + "\"\nhooks:\n  activate: hooks/activate.sh\n");
      script(src.resolve("hooks/activate.sh"), activate);
      for (Map.Entry<String, String> f : files.entrySet()) {
        Files.createDirectories(src.resolve(f.getKey()).getParent());
        Files.writeString(src.resolve(f.getKey()), f.getValue());
      }
      for (Map.Entry<String, String> l : links.entrySet()) {
        Files.createDirectories(src.resolve(l.getKey()).getParent());
        Files.createSymbolicLink(src.resolve(l.getKey()), Path.of(l.getValue()));
      }
      for (Map.Entry<String, String> h : hooks.entrySet()) {
        String[] pointAndTimeout = h.getKey().split("\n");
        script(src.resolve("hooks/" + pointAndTimeout[0] + ".sh"), h.getValue());
        yaml.append("  ").append(pointAndTimeout[0]).append(": {run: hooks/").append(pointAndTimeout[0])
            .append(".sh, timeout: ").append(pointAndTimeout[1]).append("}\n");
      }
      script(src.resolve("hooks/health.sh"), health);
      yaml.append("health:\n  checks:\n    - exec: hooks/health.sh\n  interval: 200ms\n  timeout: 200ms\n"
          + "  healthyAfter: " + healthyAfter + "\n  deadline: " + healthDeadline + "\n").append(manifest);
      Files.writeString(src.resolve("rackroll.yaml"), yaml.toString());
      Path artifact = dir.resolve("web-" + version + ".tar.gz");
      Cli pack = rackroll("release", "pack", src.toString(), "-o", artifact.toString());
      if (pack.exit != 0) {
        throw new IllegalStateException("pack of web@" + version + " failed:\n" + pack);
      }
      return artifact;
    }
  }

  private static void script(Path file, String body) throws IOException {
    Files.writeString(file, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  /**
   * Starts {@code rackroll deploy RELEASE --selector SELECTOR OPTIONS...} without watching; returns
   * the deployment id.
   */
  String deploy(String release, String selector, String... options) {
    return started("deploy", release, selector, options);
  }

  /**
   * Starts {@code rackroll rollback APP --selector SELECTOR OPTIONS...} without watching; returns
   * the deployment id.
   */
  String rollback(String app, String selector, String... options) {
    return started("rollback", app, selector, options);
  }

  private String started(String command, String what, String selector, String... options) {
    List<String> args = new ArrayList<>(List.of(command, what, "--selector", selector));
    args.addAll(List.of(options));
    Cli r = rackroll(args.toArray(String[]::new));
    if (r.exit != 0) {
      throw new IllegalStateException(command + " " + what + " failed: " + r);
    }
    return r.out.split(" ")[2]; // "started deployment d-… of …"
  }

  /** {@code rackroll deployment show ID} output. */
  String deployment(String id) {
    return rackroll("deployment", "show", id).out;
  }

  /** {@code rackroll deployment show ID -o json}: the record with every host transition. */
  JsonNode deploymentJson(String id) throws IOException {
    Cli r = rackroll("deployment", "show", id, "-o", "json");
    return JSON.readTree(r.out);
  }

  private static final java.util.Set<String> ENDED = java.util.Set.of("completed", "failed", "rolled_back",
      "rollback_failed", "aborted");

  private static final java.util.regex.Pattern STATE = java.util.regex.Pattern.compile("hosts done, failures \\d+ of"
      + " \\d+ allowed: ([a-z_]+)");

  /** Waits until the deployment has ended and returns how it ended ({@code deployment show}, no transitions). */
  String awaitEnd(String deployment) {
    // One CLI following the deployment's stream until it ends, rather than a CLI started every
    // half second to ask: on 2 cores those JVMs were a good part of the suite's time.
    // The bound only catches a deployment that never ends: following it costs nothing while it runs.
    Cli watched;
    try {
      watched = runFor(Duration.ofMinutes(3), CONTROLLER_JAR, "deployment", "watch", deployment);
    } catch (IllegalStateException e) {
      throw new AssertionError(deployment + " did not end in 3 minutes: " + deployment(deployment), e);
    }
    String shown = deployment(deployment);
    java.util.regex.Matcher m = STATE.matcher(shown);
    if (!m.find() || !ENDED.contains(m.group(1))) {
      throw new AssertionError(deployment + " did not end: " + shown + "\n(watch said: " + watched + ")");
    }
    return shown;
  }

  /** The fleet as {@code rackroll agents -o json} prints it, by agent id. */
  Map<String, JsonNode> agents() throws IOException {
    Cli r = rackroll("agents", "-o", "json");
    if (r.exit != 0) {
      throw new IllegalStateException("rackroll agents failed: " + r);
    }
    Map<String, JsonNode> byId = new LinkedHashMap<>();
    for (JsonNode n : JSON.readTree(r.out)) {
      byId.put(n.get("agentId").asText(), n);
    }
    return byId;
  }

  /** {@code rackroll agents show ID -o json}: the controller's record of one host, its apps included. */
  JsonNode agentJson(String agentId) throws IOException {
    Cli r = rackroll("agents", "show", agentId, "-o", "json");
    if (r.exit != 0) {
      throw new IllegalStateException("rackroll agents show " + agentId + " failed: " + r);
    }
    return JSON.readTree(r.out);
  }

  String stateOf(String agentId) throws IOException {
    JsonNode n = agents().get(agentId);
    return n == null ? "absent" : n.get("state").asText();
  }

  long connectedCount() throws IOException {
    return agents().values().stream().filter(n -> n.get("state").asText().equals("connected")).count();
  }

  private static long connected(String agentsJson) {
    long n = 0;
    try {
      for (JsonNode a : JSON.readTree(agentsJson)) {
        n += a.get("state").asText().equals("connected") ? 1 : 0;
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("rackroll agents -o json printed no JSON: " + agentsJson, e);
    }
    return n;
  }

  /** Runs the operator CLI against this fleet's controller (RACKROLL_DATA points at it). */
  Cli rackroll(String... args) {
    return run(CONTROLLER_JAR, args);
  }

  /** Runs the agent CLI once (enroll, --help, ...), not as a service. */
  Cli rackrollAgent(String... args) {
    return run(AGENT_JAR, args);
  }

  /** The operator CLI with {@code input} on its standard input (a secret's value). */
  Cli rackrollWithInput(String input, String... args) {
    return run(CONTROLLER_JAR, input, args);
  }

  private Cli run(Path jar, String... args) {
    return run(jar, null, args);
  }

  /**
   * The operator CLI on a terminal of its own (a pseudo-terminal from util-linux's {@code script}),
   * with {@code env} added to its environment: what an operator at a shell sees, escape sequences
   * included. Its output is the terminal's, stdout and stderr together.
   */
  Cli rackrollOnTerminal(Map<String, String> env, String... args) {
    String line = String.join(" ", command(CONTROLLER_JAR, SMALL_JVM, args).command().stream()
        .map(word -> "'" + word.replace("'", "'\\''") + "'").toList());
    ProcessBuilder pb = new ProcessBuilder("script", "-qfec", line, "/dev/null");
    pb.environment().put("RACKROLL_DATA", data.toString());
    pb.environment().put("TERM", "xterm-256color");
    pb.environment().remove("NO_COLOR");
    pb.environment().putAll(env);
    try {
      Path out = Files.createTempFile(dir, "terminal", ".out");
      // stdin stays an open pipe: script ends the session when its input ends.
      Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
      try {
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IllegalStateException("CLI on a terminal did not finish in 120 s: " + line);
        }
      } finally {
        p.getOutputStream().close();
      }
      Cli r = new Cli(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), "");
      Files.delete(out);
      return r;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private Cli run(Path jar, String input, String... args) {
    return run(jar, cliJvm(jar), input, Duration.ofSeconds(60), args);
  }

  /** The CLI with a longer time than a minute to finish (it follows something to its end). */
  private Cli runFor(Duration limit, Path jar, String... args) {
    return run(jar, cliJvm(jar), null, limit, args);
  }

  private List<String> cliJvm(Path jar) {
    Path archive = cliArchive;
    List<String> jvm = new ArrayList<>(SMALL_JVM);
    if (jar.equals(CONTROLLER_JAR) && archive != null) {
      jvm.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds*=off"));
    }
    return jvm;
  }

  /** Dumps {@link #cliArchive} from a real admin call, once per JVM; a failure only leaves it unused. */
  private void archiveCliClasses() throws IOException {
    synchronized (Fleet.class) {
      if (cliArchiveTried) {
        return;
      }
      cliArchiveTried = true;
      Path dumped = Files.createTempDirectory("rackroll-cli-cds").resolve("cli.jsa");
      dumped.getParent().toFile().deleteOnExit();
      dumped.toFile().deleteOnExit();
      List<String> jvm = new ArrayList<>(SMALL_JVM);
      jvm.addAll(List.of("-XX:ArchiveClassesAtExit=" + dumped, "-Xlog:cds*=off"));
      if (run(CONTROLLER_JAR, jvm, null, "agents").exit == 0 && Files.exists(dumped)) {
        cliArchive = dumped;
      }
    }
  }

  private Cli run(Path jar, List<String> jvm, String input, String... args) {
    return run(jar, jvm, input, Duration.ofSeconds(60), args);
  }

  private Cli run(Path jar, List<String> jvm, String input, Duration limit, String... args) {
    ProcessBuilder pb = command(jar, jvm, args);
    List<String> cmd = pb.command();
    try {
      pb.environment().put("RACKROLL_DATA", data.toString());
      Path in = input == null ? null : Files.createTempFile(dir, "cli", ".in");
      if (in != null) {
        Files.writeString(in, input);
        pb.redirectInput(in.toFile());
      }
      Path out = Files.createTempFile(dir, "cli", ".out");
      Path err = Files.createTempFile(dir, "cli", ".err");
      Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("CLI did not finish in " + limit.toSeconds() + " s: " + cmd);
      }
      Cli r = new Cli(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
      Files.delete(out);
      Files.delete(err);
      if (in != null) {
        Files.delete(in);
      }
      return r;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@link ClockedController} from the controller's jar and these test classes: a controller on a clock the test moves. */
  private Process clocked(Path log) throws IOException {
    String tests;
    try {
      tests = Path.of(ClockedController.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (java.net.URISyntaxException e) {
      throw new IOException(e);
    }
    List<String> cmd = new ArrayList<>(List.of(javaBin()));
    cmd.addAll(controllerJvm);
    cmd.addAll(List.of("-cp", CONTROLLER_JAR + java.io.File.pathSeparator + tests, ClockedController.class.getName(),
        data.toString(), configFile().toString(), clockOffset.toString()));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  private Process java(Path log, Path jar, String... args) throws IOException {
    return java(log, SMALL_JVM, jar, args);
  }

  private Process java(Path log, List<String> jvm, Path jar, String... args) throws IOException {
    return command(jar, jvm, args).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
  }

  /** {@code java -jar JAR}, or for an installed fleet the package's launcher for that jar, with {@code jvm} options. */
  private ProcessBuilder command(Path jar, List<String> jvm, String... args) {
    List<String> cmd = new ArrayList<>();
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (installRoot == null && jar.equals(AGENT_JAR) && agentLauncher != null) {
      cmd.add(agentLauncher.toString());
      pb.environment().put("JAVA", javaBin());
      pb.environment().put("RACKROLL_AGENT_CLASS_ARCHIVE", agentClassArchive.toString());
    } else if (installRoot == null) {
      cmd.add(javaBin());
      cmd.addAll(jvm);
      cmd.addAll(List.of("-jar", jar.toString()));
    } else {
      cmd.add(installRoot.resolve("usr/bin").resolve(jar.equals(AGENT_JAR) ? "rackroll-agent" : "rackroll").toString());
      pb.environment().put("JAVA", javaBin());
      pb.environment().put("JAVA_OPTS", String.join(" ", jvm));
    }
    cmd.addAll(List.of(args));
    return pb;
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  @Override
  public void close() {
    List<Process> all = new ArrayList<>();
    agents.values().forEach(a -> all.add(a.process));
    if (simulator != null) {
      all.add(simulator);
    }
    if (controller != null) {
      all.add(controller);
    }
    nodes.forEach(n -> {
      if (n.process != null) {
        all.add(n.process);
      }
    });
    all.forEach(Process::destroy);
    for (Process p : all) {
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** One agent process and its files. */
  final class Agent {
    final String name;
    /** Where its log (and, for test agents, its config and state) lives. */
    final Path home;
    final Path config;
    final Path state;
    final Path pki;
    Process process;

    Agent(String name, Path home, Path config, Path state, Path pki, Process process) {
      this.name = name;
      this.home = home;
      this.config = config;
      this.state = state;
      this.pki = pki;
      this.process = process;
    }

    /** The id the controller assigned at enrollment, as the agent persisted it. */
    String id() throws IOException {
      for (String line : Files.readAllLines(state.resolve("identity.properties"))) {
        if (line.startsWith("id=")) {
          return line.substring(3);
        }
      }
      throw new IllegalStateException(name + " has no id yet");
    }

    String certificate() throws IOException {
      return Files.readString(pki.resolve("agent.crt"));
    }

    boolean enrolled() {
      return Files.exists(pki.resolve("agent.crt"));
    }

    void kill() throws InterruptedException {
      process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    /** Starts the same agent again: no token, so it must come back on the identity it kept. */
    void restart(String... options) throws IOException {
      List<String> args = new ArrayList<>(List.of("run", "--config", config.toString()));
      args.addAll(List.of(options));
      start(args);
    }

    /**
     * Starts the agent process with {@code RUNTIME_DIRECTORY} as its unit gives it (a directory
     * that outlives the process, on another file system than the state in a real host).
     */
    private void start(List<String> args) throws IOException {
      ProcessBuilder pb = command(AGENT_JAR, agentJvm, args.toArray(String[]::new));
      pb.environment().put("RUNTIME_DIRECTORY", Files.createDirectories(home.resolve("run")).toString());
      process = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("agent.log")
          .toFile())).start();
    }

    /** SIGTERM, as systemd stops the service; returns at once (the agent finishes its step first). */
    void terminate() {
      process.destroy();
    }

    /** SIGSTOP: the host freezes as a hung machine does, its connections open and silent. */
    void freeze() throws IOException, InterruptedException {
      signal("STOP");
    }

    /** SIGCONT: the frozen host goes on where it stopped. */
    void thaw() throws IOException, InterruptedException {
      signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
      if (kill.waitFor() != 0) {
        throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
      }
    }

    /** The agent's record of {@code app}'s last job ({@code apps/<app>/lifecycle.json}), or null before any. */
    JsonNode job(String app) throws IOException {
      try {
        return JSON.readTree(Files.readAllBytes(state.resolve("apps").resolve(app).resolve("lifecycle.json")));
      } catch (java.nio.file.NoSuchFileException e) {
        return null;
      }
    }

    /**
     * The lifecycle phase the agent last persisted for {@code app} ({@code apps/<app>/lifecycle.json}), or
     * "none". Read from the host's disk: cheap enough to poll inside a window of a few seconds, which a
     * new CLI process per poll is not on a busy machine.
     */
    String phase(String app) throws IOException {
      Path file = state.resolve("apps").resolve(app).resolve("lifecycle.json");
      try {
        return JSON.readTree(Files.readAllBytes(file)).path("phase").asText("none");
      } catch (java.nio.file.NoSuchFileException e) {
        return "none";
      }
    }

    /** The release {@code current} points to for {@code app}, read from the host's disk. */
    String current(String app) throws IOException {
      Path link = state.resolve("apps").resolve(app).resolve("current");
      return Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).getFileName().toString() : "none";
    }

    /** Bytes of unfinished downloads in the agent's cache. */
    long partialDownloadBytes() throws IOException {
      Path cache = state.resolve("cache");
      if (!Files.isDirectory(cache)) {
        return 0;
      }
      try (java.util.stream.Stream<Path> s = Files.list(cache)) {
        return s.filter(p -> p.toString().endsWith(".part")).mapToLong(p -> p.toFile().length()).sum();
      }
    }

    String log() throws IOException {
      return Files.readString(home.resolve("agent.log"));
    }

    /** {@code GET /metrics} from the agent itself. */
    String metrics() throws IOException, InterruptedException {
      return scrape(state.resolve("metrics.address"));
    }

    /** Artifact bytes this agent received since it started, by its own metric. */
    long downloadedBytes() throws IOException, InterruptedException {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^rackroll_agent_downloaded_bytes_total (\\S+)$")
          .matcher(metrics());
      if (!m.find()) {
        throw new AssertionError("no rackroll_agent_downloaded_bytes_total in the agent's metrics");
      }
      return (long) Double.parseDouble(m.group(1));
    }

    /** The exit status of the agent process, once it has stopped by itself. */
    int awaitExit() throws InterruptedException, IOException {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        // CI keeps no temporary directories: the failure carries what the agent said.
        List<String> lines = Files.readAllLines(home.resolve("agent.log"));
        throw new AssertionError(name + " still running after 60 s; the end of its log:\n"
            + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
      }
      return process.exitValue();
    }

    /** When the certificate the agent holds now expires. */
    java.time.Instant certificateNotAfter() throws Exception {
      try (var in = Files.newInputStream(pki.resolve("agent.crt"))) {
        var cert = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
            .generateCertificate(in);
        return cert.getNotAfter().toInstant();
      }
    }
  }

  /** What a CLI invocation did. */
  /** {@code r}, which must have exited 0 (else the test fails showing its output). */
  static Cli ok(Cli r) {
    org.assertj.core.api.Assertions.assertThat(r.exit()).as(r.toString()).isZero();
    return r;
  }

  record Cli(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }
}
