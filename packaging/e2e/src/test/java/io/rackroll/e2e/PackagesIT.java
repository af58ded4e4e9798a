package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built .deb and .tar.gz packages: what they install where, their metadata, their systemd units. */
class PackagesIT {
  private static final Path SOURCES = Path.of(System.getProperty("rackroll.package.sources"));

  @TempDir Path dir;

  @Test
  void controllerDebInstallsLauncherJarUnitAndConffileAndCreatesItsUser() throws Exception {
    Packages.Deb deb = check("controller", "rackroll");
    assertThat(deb.field("Depends")).contains("adduser");
    String postinst = deb.control().get("postinst").text();
    assertThat(postinst).contains("adduser --system --group", "rackroll",
        "install -d -m 0700 -o rackroll -g rackroll /var/lib/rackroll/controller",
        "systemctl try-restart rackroll-controller.service");
    String unit = deb.data().get("lib/systemd/system/rackroll-controller.service").text();
    assertThat(unit).contains("User=rackroll", "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
        "--config /etc/rackroll/controller.yaml");
  }

  @Test
  void agentDebInstallsLauncherJarUnitAndConffileAndNeverTouchesState() throws Exception {
    Packages.Deb deb = check("agent", "rackroll-agent");
    String unit = deb.data().get("lib/systemd/system/rackroll-agent.service").text();
    assertThat(unit).contains("KillMode=process", "ExecStart=/usr/bin/rackroll-agent run --config /etc/rackroll/agent.yaml")
        .doesNotContain("User=", "ProtectSystem=");
    assertThat(deb.control().get("postinst").text()).contains("systemctl try-restart rackroll-agent.service");
    assertThat(deb.control().get("postrm").text()).contains("never /var/lib/rackroll/apps")
        .doesNotContain("rm -rf /var/lib/rackroll\n", "rm -rf /var/lib/rackroll/apps");
  }

  /** What both packages share; returns the package for checks of its own. */
  private Packages.Deb check(String name, String launcher) throws Exception {
    Path file = Packages.deb("rackroll-" + name);
    Packages.Deb deb = Packages.read(file);

    assertThat(deb.field("Package")).isEqualTo("rackroll-" + name);
    assertThat(deb.field("Architecture")).isEqualTo("all");
    assertThat(deb.field("Version")).startsWith(Packages.VERSION.replace("-SNAPSHOT", "~")).matches("[0-9][0-9A-Za-z.+~-]*");
    assertThat(deb.field("Depends")).contains("default-jre-headless (>= 2:1.17) | java17-runtime-headless");
    assertThat(deb.control().get("conffiles").text()).isEqualTo("/etc/rackroll/" + name + ".yaml\n");

    assertThat(deb.data().get("usr/bin/" + launcher).mode()).isEqualTo(0755);
    assertThat(deb.data().get("usr/bin/" + launcher).text()).startsWith("#!/bin/sh")
        .contains("/../share/rackroll/rackroll-" + name + ".jar");
    assertThat(deb.data().get("usr/share/rackroll/rackroll-" + name + ".jar").size()).isGreaterThan(1 << 20);
    assertThat(deb.data().get("usr/share/rackroll/rackroll-" + name + ".jar").mode()).isEqualTo(0644);
    assertThat(deb.data().get("lib/systemd/system/rackroll-" + name + ".service").text())
        .isEqualTo(Files.readString(SOURCES.resolve("systemd/rackroll-" + name + ".service")))
        .contains("Restart=always", "RestartPreventExitStatus=78", "WantedBy=multi-user.target");
    assertThat(deb.data().get("etc/rackroll/" + name + ".yaml").text())
        .isEqualTo(Files.readString(SOURCES.resolve("etc/" + name + ".yaml")));
    assertThat(deb.data().keySet()).as("state, keys and releases are never in a package")
        .noneMatch(p -> p.startsWith("var") || p.startsWith("etc/rackroll/pki"));

    String md5sums = deb.control().get("md5sums").text();
    deb.data().values().stream().filter(e -> !e.directory()).forEach(e -> assertThat(md5sums).contains(e.path()));
    for (String script : List.of("postinst", "prerm", "postrm")) {
      Packages.Entry e = deb.control().get(script);
      assertThat(e.mode()).as(script).isEqualTo(0755);
      Path copy = dir.resolve(name + "." + script);
      Files.writeString(copy, e.text());
      assertThat(run("sh", "-n", copy.toString())).as("sh -n " + script).isEmpty();
    }

    if (onPath("dpkg-deb")) {
      // The Debian tools agree with what we read.
      assertThat(run("dpkg-deb", "--field", file.toString(), "Package")).isEqualTo("rackroll-" + name + "\n");
      assertThat(run("dpkg-deb", "--contents", file.toString())).contains("./usr/bin/" + launcher,
          "./etc/rackroll/" + name + ".yaml");
    }
    return deb;
  }

  @Test
  void tarballsHoldTheSameFilesAsTheDebs() throws Exception {
    for (String name : List.of("controller", "agent")) {
      Path root = dir.resolve(name);
      Packages.unpack(Packages.tarball("rackroll-" + name), root);
      List<String> files;
      try (Stream<Path> s = Files.walk(root)) {
        files = s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
      }
      List<String> inDeb = Packages.read(Packages.deb("rackroll-" + name)).data().values().stream()
          .filter(e -> !e.directory()).map(Packages.Entry::path).sorted().toList();
      assertThat(files).isEqualTo(inDeb);
      String launcher = name.equals("agent") ? "rackroll-agent" : "rackroll";
      assertThat(Files.isExecutable(root.resolve("usr/bin/" + launcher))).isTrue();
    }
  }

  @Test
  void unitFilesPassSystemdAnalyzeVerify() throws Exception {
    assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not installed here");
    // The units as installed: a root holding both packages and the system's own targets and slices.
    Path root = dir.resolve("root");
    Packages.unpack(Packages.tarball("rackroll-controller"), root);
    Packages.unpack(Packages.tarball("rackroll-agent"), root);
    Path system = Path.of("/lib/systemd/system");
    try (Stream<Path> s = Files.list(system)) {
      for (Path unit : s.filter(p -> p.toString().endsWith(".target") || p.toString().endsWith(".slice")).toList()) {
        Files.copy(unit, root.resolve("lib/systemd/system").resolve(unit.getFileName()));
      }
    }
    Process p = new ProcessBuilder("systemd-analyze", "verify", "--root=" + root,
        "/lib/systemd/system/rackroll-controller.service", "/lib/systemd/system/rackroll-agent.service")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    // Any warning fails, except systemd < 254 not knowing the restart back-off keys (it ignores them).
    assertThat(out.lines().filter(l -> !l.isBlank())
        .filter(l -> !l.matches(".*Unknown key '(RestartSteps|RestartMaxDelaySec)' in section \\[Service], ignoring\\.")))
        .as(out).isEmpty();
  }

  @Test
  void packagedControllerConfigIsExactlyWhatInitWrites() throws Exception {
    Path data = dir.resolve("data");
    run(javaBin(), "-jar", Fleet.CONTROLLER_JAR.toString(), "controller", "init", "--data", data.toString());
    assertThat(Files.readString(SOURCES.resolve("etc/controller.yaml"))).isEqualTo(Files.readString(data.resolve("controller.yaml")));
  }

  private static boolean onPath(String tool) {
    return Stream.of(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Runs a command to completion; its stdout, or an assertion error with everything it said. */
  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", cmd) + " failed: " + out + err);
    }
    return out + err;
  }
}
