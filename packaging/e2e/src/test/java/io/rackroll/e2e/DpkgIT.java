package io.rackroll.e2e;

import static io.rackroll.e2e.Cmd.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code .deb} packages through dpkg itself, on this machine, as configuration management
 * runs them: installed, the controller initialized as its service user, a host enrolled, then a
 * newer build of each (whose shipped config file changed, as new defaults do) installed
 * non-interactively with no terminal to answer a question. Nothing may ask, nothing may be lost:
 * the same CA, the same agent id, reconnected. Then both are purged.
 *
 * <p>Needs root and dpkg with the packages' dependencies installed (the CI machine has them);
 * elsewhere it is skipped with the reason. It installs into the real system, so it refuses to run
 * where Rackroll is installed already.
 */
class DpkgIT {
  private static final Path DATA = Path.of("/var/lib/rackroll/controller");
  private static final Path AGENT_CONFIG = Path.of("/etc/rackroll/agent.yaml");
  @TempDir Path dir;
  private final List<Process> started = new ArrayList<>();

  @Test
  void newerBuildsInstallWithoutAQuestionAndKeepWhoEveryoneIs() throws Exception {
    assumeTrue(run("id", "-u").out().trim().equals("0"), "installs packages: needs root");
    assumeTrue(run("sh", "-c", "command -v dpkg runuser").exit() == 0, "needs dpkg and runuser");
    for (String p : List.of("rackroll-controller", "rackroll-agent")) {
      assumeTrue(!run("dpkg-query", "-W", "-f=${Status}", p).out().contains("installed"),
          p + " is installed on this machine; this test installs and purges it, so it runs only where it is not");
    }
    // It removes these and the user at the end: only where nothing of Rackroll was (a .tar.gz install, say).
    for (Path p : List.of(Path.of("/var/lib/rackroll"), Path.of("/etc/rackroll"))) {
      assumeTrue(!Files.exists(p), p + " exists on this machine; this test removes it at the end, so it runs only"
          + " where it does not");
    }
    assumeTrue(run("getent", "passwd", "rackroll").exit() != 0, "a user rackroll exists on this machine; this test"
        + " removes it at the end, so it runs only where it does not");
    try {
      // The controller, as the README says: install, init as the service user, start.
      Cmd install = dpkgInstall(Packages.deb("rackroll-controller"));
      assumeTrue(!install.err().contains("dependency problems"), "the packages' dependencies are not installed: "
          + install.err());
      assertThat(install.exit()).as(install.toString()).isZero();
      // The CLI's class-data archive, made by postinst with one admin call against a throwaway server.
      assertThat(Path.of("/var/cache/rackroll/rackroll-cli.jsa")).isNotEmptyFile();
      assertThat(install.out() + install.err()).doesNotContain("class-data archive");
      Cmd init = run("runuser", "-u", "rackroll", "--", "rackroll", "controller", "init", "--data", DATA.toString(),
          "--config", "/etc/rackroll/controller.yaml", "--san", "localhost");
      assertThat(init.exit()).as(init.toString()).isZero();
      // Commands that write into the data directory, run as root, are refused before they write.
      Cmd asRoot = run("rackroll", "controller", "init", "--data", DATA.toString(), "--config",
          "/etc/rackroll/controller.yaml");
      assertThat(asRoot.exit()).isEqualTo(1);
      assertThat(asRoot.err().trim()).isEqualTo("rackroll: " + DATA + " belongs to rackroll, and what 'rackroll controller"
          + " init' writes there must too, or the controller cannot read it; run it as rackroll: sudo -u rackroll"
          + " rackroll controller init ...");
      String ca = Files.readString(DATA.resolve("pki/ca.crt"));
      startController();
      Cmd token = run("rackroll", "token", "create", "--labels", "rack=r1");
      assertThat(token.exit()).as("the CLI as root, as the README says: " + token).isZero();

      // An agent host: install, enroll, run the service's command.
      Cmd agentInstall = dpkgInstall(Packages.deb("rackroll-agent"));
      assertThat(agentInstall.exit()).as(agentInstall.toString()).isZero();
      for (String file : List.of("bash-completion/completions/rackroll", "bash-completion/completions/rackroll-agent",
          "zsh/vendor-completions/_rackroll", "zsh/vendor-completions/_rackroll-agent", "rackroll/monitoring/rackroll-alerts.yml",
          "rackroll/monitoring/rackroll-dashboard.json", "man/man1/rackroll.1", "man/man1/rackroll-deploy.1",
          "man/man1/rackroll-web-login.1", "man/man1/rackroll-agent.1", "man/man1/rackroll-agent-enroll.1")) {
        assertThat(Path.of("/usr/share", file)).as("installed by the packages").isNotEmptyFile();
      }
      // The manual pages read as such ('man' is there on most hosts; groff renders them where it is not).
      if (Files.isExecutable(Path.of("/usr/bin/man"))) {
        Cmd man = run("man", "-P", "cat", "rackroll-deploy");
        assertThat(man.exit()).as(man.toString()).isZero();
        assertThat(man.out()).contains("RACKROLL-DEPLOY(1)", "SYNOPSIS", "--health-gate");
      }
      // The agent's class-data archive, made by postinst with one deploy from a throwaway local server.
      assertThat(Path.of("/var/cache/rackroll/rackroll-agent.jsa")).isNotEmptyFile();
      assertThat(agentInstall.out() + agentInstall.err()).doesNotContain("class-data archive");
      try (var left = Files.list(Path.of("/var/cache/rackroll"))) {
        assertThat(left.map(p -> p.getFileName().toString()).toList()).as("the warm-up's scratch directory is gone")
            .containsExactlyInAnyOrder("rackroll-cli.jsa", "rackroll-agent.jsa");
      }
      String shipped = Files.readString(AGENT_CONFIG);
      Cmd enroll = run("rackroll-agent", "enroll", "--controller", controllerAddress(), "--token", token.out().trim());
      assertThat(enroll.exit()).as(enroll.toString()).isZero();
      assertThat(Files.readString(AGENT_CONFIG)).as("enrollment leaves the conffile alone").isEqualTo(shipped);
      String id = agentId();
      startAgent();
      awaitConnected(id);

      // Newer builds, with new defaults in their conffiles; installed with no one to answer.
      stop();
      for (String name : List.of("rackroll-controller", "rackroll-agent")) {
        Cmd upgrade = dpkgInstall(newerBuild(name));
        assertThat(upgrade.exit()).as(upgrade.toString()).isZero();
        assertThat(upgrade.out() + upgrade.err()).doesNotContain("Configuration file");
        assertThat(run("dpkg-query", "-W", "-f=${Status} ${Version}", name).out())
            .isEqualTo("install ok installed " + Packages.debVersion(Packages.deb(name)) + "+newer");
      }
      assertThat(Files.readString(AGENT_CONFIG)).as("the new defaults, taken silently").contains("# newer build");
      assertThat(Files.readString(DATA.resolve("pki/ca.crt"))).as("the same CA").isEqualTo(ca);
      startController();
      startAgent();
      awaitConnected(id);
      assertThat(agentId()).isEqualTo(id);
      assertThat(run("rackroll", "agents").out()).as("one host, the same").containsOnlyOnce(id);

      // A CA rotation run as root is refused, naming the user; as that user it begins, and the
      // controller still starts (everything it writes is readable by the service).
      Cmd rotateAsRoot = run("rackroll", "controller", "rotate-ca");
      assertThat(rotateAsRoot.exit()).isEqualTo(1);
      assertThat(rotateAsRoot.err()).contains("run it as rackroll: sudo -u rackroll rackroll controller rotate-ca ...");
      Cmd rotate = run("runuser", "-u", "rackroll", "--", "rackroll", "controller", "rotate-ca");
      assertThat(rotate.exit()).as(rotate.toString()).isZero();
      stop();
      try (var files = Files.walk(DATA)) {
        assertThat(files.filter(f -> !owner(f).equals("rackroll")).toList())
            .as("files in the data directory the service user does not own").isEmpty();
      }
      startController();
      startAgent();
      awaitConnected(id);
    } finally {
      stop();
      Cmd purge = run("dpkg", "--purge", "rackroll-agent", "rackroll-controller");
      run("rm", "-rf", "/var/lib/rackroll", "/etc/rackroll");
      run("deluser", "--system", "rackroll");
      assertThat(purge.exit()).as(purge.toString()).isZero();
      assertThat(Path.of("/var/cache/rackroll")).as("the class-data archive goes with the package").doesNotExist();
    }
  }

  /** {@code dpkg -i} as configuration management runs it: no terminal, nothing to answer with. */
  private Cmd dpkgInstall(Path deb) throws Exception {
    return run(Map.of("DEBIAN_FRONTEND", "noninteractive"), "dpkg", "-i", deb.toString());
  }

  /**
   * The same package rebuilt as a newer version whose shipped config file changed (a new default
   * documented), as the next release would be.
   */
  private Path newerBuild(String name) throws Exception {
    Path tree = dir.resolve(name);
    assertThat(run("dpkg-deb", "-R", Packages.deb(name).toString(), tree.toString()).exit()).isZero();
    Path control = tree.resolve("DEBIAN/control");
    String version = Packages.debVersion(Packages.deb(name));
    Files.writeString(control, Files.readString(control).replace("Version: " + version, "Version: " + version + "+newer"));
    Path conffile = tree.resolve(name.equals("rackroll-agent") ? "etc/rackroll/agent.yaml" : "etc/rackroll/controller.yaml");
    Files.writeString(conffile, Files.readString(conffile) + "# newer build\n");
    Files.deleteIfExists(tree.resolve("DEBIAN/md5sums"));
    Path deb = dir.resolve(name + "-newer.deb");
    Cmd build = run("dpkg-deb", "--root-owner-group", "-b", tree.toString(), deb.toString());
    assertThat(build.exit()).as(build.toString()).isZero();
    return deb;
  }

  /** What the controller's unit runs, as its user, on a port of this test's choosing. */
  private void startController() throws Exception {
    Files.deleteIfExists(DATA.resolve("controller.address"));
    int port = Fleet.freePort();
    Process p = start(dir.resolve("controller.log"), "runuser", "-u", "rackroll", "--", "rackroll", "controller", "run",
        "--data", DATA.toString(), "--config", "/etc/rackroll/controller.yaml", "--listen", "127.0.0.1:" + port);
    try {
      await("controller listening").atMost(Duration.ofSeconds(60)).failFast("controller exited", () -> !p.isAlive())
          .until(() -> Files.exists(DATA.resolve("controller.address")));
    } catch (org.awaitility.core.TerminalFailureException | org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "; its log:\n" + Files.readString(dir.resolve("controller.log")), e);
    }
  }

  /** What the agent's unit runs. */
  private void startAgent() throws Exception {
    start(dir.resolve("agent.log"), "rackroll-agent", "run");
  }

  private static String owner(Path file) {
    try {
      return Files.getOwner(file, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private String controllerAddress() throws IOException {
    return Files.readString(DATA.resolve("controller.address")).trim();
  }

  private static String agentId() throws IOException {
    for (String line : Files.readAllLines(Path.of("/var/lib/rackroll/identity.properties"))) {
      if (line.startsWith("id=")) {
        return line.substring(3);
      }
    }
    throw new AssertionError("no agent id");
  }

  private void awaitConnected(String id) {
    await(id + " connected").atMost(Duration.ofSeconds(90)).pollInterval(Fleet.CLI_POLL)
        .until(() -> run("rackroll", "agents").out().lines().anyMatch(l -> l.startsWith(id) && l.contains("connected")));
  }

  private Process start(Path log, String... command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    started.add(p);
    return p;
  }

  /** SIGTERM to everything started, as systemd stops a service; SIGKILL after 30 s. */
  private void stop() throws InterruptedException {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
    for (Process p : started) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    started.clear();
  }
}
