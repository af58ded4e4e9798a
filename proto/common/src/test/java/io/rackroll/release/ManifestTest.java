package io.rackroll.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.release.Manifest.HealthCheck;
import io.rackroll.release.Manifest.HookPoint;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ManifestTest {
  private static final String FULL = """
      name: web
      version: 1.4.2
      requires:
        arch: [x86_64, aarch64]
        minCores: 4
        minMemory: 8GiB
        minFreeDisk: 2GiB
        os: linux
      hooks:
        preInstall: hooks/check.sh
        postInstall: {run: hooks/migrate.sh, timeout: 5m}
        activate: ./hooks/start.sh
        deactivate: hooks/stop.sh
      health:
        checks:
          - http: http://127.0.0.1:8080/healthz
          - tcp: 127.0.0.1:8080
          - exec: hooks/health.sh
        interval: 2s
        timeout: 1s
        healthyAfter: 3
      """;

  @Test
  void readsTheBriefsManifest() throws Exception {
    Manifest m = Manifest.parse(FULL);
    assertThat(m.ref()).isEqualTo("web@1.4.2");
    assertThat(m.requires().arch()).containsExactly("x86_64", "aarch64");
    assertThat(m.requires().minCores()).isEqualTo(4);
    assertThat(m.requires().minMemoryBytes()).isEqualTo(8L << 30);
    assertThat(m.requires().minFreeDiskBytes()).isEqualTo(2L << 30);
    assertThat(m.requires().os()).isEqualTo("linux");
    assertThat(m.hook(HookPoint.PRE_INSTALL).orElseThrow().timeout()).isEqualTo(Manifest.DEFAULT_HOOK_TIMEOUT);
    assertThat(m.hook(HookPoint.POST_INSTALL).orElseThrow().timeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(m.hook(HookPoint.ACTIVATE).orElseThrow().path()).isEqualTo("hooks/start.sh");
    assertThat(m.health().checks()).containsExactly(new HealthCheck.Http(URI.create("http://127.0.0.1:8080/healthz")),
        new HealthCheck.Tcp("127.0.0.1", 8080), new HealthCheck.Exec("hooks/health.sh"));
    assertThat(m.health().healthyAfter()).isEqualTo(3);
    assertThat(m.text()).isEqualTo(FULL);
  }

  @Test
  void flowStyleAsInTheReadmeReadsTheSame() throws Exception {
    Manifest m = Manifest.parse("""
        name: web
        version: 1.4.2
        requires: {arch: [x86_64, aarch64], os: linux, minCores: 4, minMemory: 8GiB, minFreeDisk: 2GiB}
        hooks:
          preInstall: hooks/check.sh
          postInstall: hooks/migrate.sh
          activate: hooks/start.sh
          deactivate: hooks/stop.sh
        health:
          checks: [{http: "http://127.0.0.1:8080/healthz"}, {tcp: "127.0.0.1:8080"}, {exec: hooks/health.sh}]
          interval: 2s
          timeout: 1s
          healthyAfter: 3
          deadline: 60s
        """);
    Manifest block = Manifest.parse(FULL);
    assertThat(m.requires()).isEqualTo(block.requires());
    assertThat(m.health().checks()).isEqualTo(block.health().checks());
    assertThat(m.hooks().keySet()).isEqualTo(block.hooks().keySet());
  }

  @Test
  void aBakeTimeIsHowLongAHostWatchesTheReleaseByItself() throws Exception {
    Manifest m = Manifest.parse("name: web\nversion: 1\nhealth:\n  checks: [{tcp: \"127.0.0.1:8080\"}]\n  bake: 10m\n");
    assertThat(m.health().bake()).isEqualTo(java.time.Duration.ofMinutes(10));
    assertThat(Manifest.parse("name: web\nversion: 1\n").health().bake()).as("none unless asked").isZero();
    assertProblems("name: web\nversion: 1\nhealth:\n  bake: a while\n",
        "rackroll.yaml line 4: health.bake: a while (expected: a duration such as 500ms, 2s or 5m)");
  }

  @Test
  void minimalManifestNeedsOnlyNameAndVersion() throws Exception {
    Manifest m = Manifest.parse("name: tool\nversion: '2'\n");
    assertThat(m.hooks()).isEmpty();
    assertThat(m.health().checks()).isEmpty();
    assertThat(m.requires()).isEqualTo(Manifest.Requirements.NONE);
  }

  @Test
  void unknownKeysAreNamedWithTheirLineAndTheKeysThatExist() {
    assertProblems("name: web\nversion: 1\nrequries:\n  os: linux\n",
        "rackroll.yaml line 3: unknown key \"requries\" (expected one of: name, version, requires, hooks, health, templates)");
    assertProblems("name: web\nversion: 1\nhooks:\n  postinstall: x.sh\n",
        "rackroll.yaml line 4: unknown key \"hooks.postinstall\" (expected one of: preInstall, postInstall, activate, deactivate, flagsChanged)");
  }

  @Test
  void badSizesDurationsAndCountsSayWhatIsExpected() {
    assertProblems("name: web\nversion: 1\nrequires:\n  minMemory: 8 gigs\n",
        "rackroll.yaml line 4: requires.minMemory: 8 gigs (expected: a size such as 512MiB, 8GiB or 2GB)");
    assertProblems("name: web\nversion: 1\nhealth:\n  interval: often\n",
        "rackroll.yaml line 4: health.interval: often (expected: a duration such as 500ms, 2s or 5m)");
    assertProblems("name: web\nversion: 1\nrequires:\n  minCores: 0\n",
        "rackroll.yaml line 4: requires.minCores: 0 (expected: a whole number >= 1)");
    assertProblems("name: web\nversion: 1\nhealth:\n  interval: 1s\n  timeout: 2s\n",
        "rackroll.yaml line 5: health.timeout: 2s (expected: at most health.interval 1s)");
    assertProblems("name: web\nversion: 1\nhooks:\n  activate: {run: a.sh, timeout: 0s}\n",
        "rackroll.yaml line 4: hooks.activate.timeout: 0s (expected: a duration such as 500ms, 2s or 5m)");
  }

  @Test
  void namesVersionsPathsAndChecksAreChecked() {
    assertProblems("version: 1\n", "rackroll.yaml: name: missing (expected: a-z, 0-9, '.', '_', '-', up to 63 characters)");
    assertProblems("name: Web App\nversion: 1\n",
        "rackroll.yaml line 1: name: Web App (expected: a-z, 0-9, '.', '_', '-', up to 63 characters)");
    assertProblems("name: web\nversion: 1\nhooks:\n  activate: ../../etc/evil.sh\n",
        "rackroll.yaml line 4: hooks.activate: ../../etc/evil.sh (expected: a relative path inside the release, e.g. hooks/start.sh)");
    assertProblems("name: web\nversion: 1\nhooks:\n  activate: /usr/bin/start\n",
        "rackroll.yaml line 4: hooks.activate: /usr/bin/start (expected: a relative path inside the release, e.g. hooks/start.sh)");
    assertProblems("name: web\nversion: 1\nhealth:\n  checks:\n    - ping: host\n",
        "rackroll.yaml line 5: health.checks: unknown check \"ping\" (expected one of: http, tcp, exec)");
    assertProblems("name: web\nversion: 1\nhealth:\n  checks:\n    - http: ftp://x/\n",
        "rackroll.yaml line 5: health.checks.http: ftp://x/ (expected: an http:// or https:// URL with a host)");
    assertProblems("name: web\nversion: 1\nrequires:\n  arch: sparc\n",
        "rackroll.yaml line 4: requires.arch: sparc (expected: one or more of aarch64, armv7l, ppc64le, riscv64, s390x, x86_64)");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    assertThatThrownBy(() -> Manifest.parse("name: web\nversion: 1\nrequires:\n  minCores: x\n  os: plan9\n"))
        .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.problems()).hasSize(2));
  }

  @Test
  void brokenYamlIsReportedWithItsLine() {
    assertThatThrownBy(() -> Manifest.parse("name: web\nversion: [1\n"))
        .hasMessageStartingWith("rackroll.yaml line 3: not valid YAML");
  }

  @Test
  void filesTheManifestNamesMustBeInTheArtifact() throws Exception {
    Manifest m = Manifest.parse(FULL);
    assertThatThrownBy(() -> m.checkFiles(Set.of("rackroll.yaml", "hooks/check.sh", "hooks/migrate.sh", "hooks/start.sh")))
        .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.problems()).containsExactly(
            "rackroll.yaml: hooks.deactivate: hooks/stop.sh is not in the artifact",
            "rackroll.yaml: health.checks: exec hooks/health.sh is not in the artifact"));
  }

  @Test
  void aTemplateMayAskForItsModeOwnerAndGroup() throws Exception {
    Manifest m = Manifest.parse("name: web\nversion: \"1\"\ntemplates:\n  - path: public/site.conf\n    mode: 0644\n"
        + "  - path: db.conf\n    mode: \"0640\"\n    owner: www-data\n    group: web\n");
    assertThat(m.templates()).containsExactly(new Manifest.TemplateFile("public/site.conf", 0644, "", ""),
        new Manifest.TemplateFile("db.conf", 0640, "www-data", "web"));
    assertThatThrownBy(() -> Manifest.parse("name: web\nversion: \"1\"\ntemplates:\n  - path: a\n    mode: 4755\n"
        + "  - path: b\n    owner: ../root\n  - mode: 0600\n  - path: c\n    colour: red\n"))
        .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.problems()).containsExactly(
            "rackroll.yaml line 5: templates.mode: 4755 (expected: an octal mode from 0000 to 0777, e.g. 0640)",
            "rackroll.yaml line 7: templates.owner: ../root (expected: a user or group name on the host: a-z, 0-9,"
                + " '_', '-', up to 32 characters)",
            "rackroll.yaml line 8: templates: missing \"path\" (expected: the file's path in the release)",
            "rackroll.yaml line 10: unknown key \"templates.colour\" (expected one of: path, mode, owner, group)"));
  }

  @Test
  void templatesAreFilesOfTheRelease() throws Exception {
    Manifest m = Manifest.parse("name: web\nversion: \"1\"\ntemplates: [config/app.conf, ./run.env]\n");
    assertThat(m.templates()).containsExactly(Manifest.TemplateFile.ownerOnly("config/app.conf"),
        Manifest.TemplateFile.ownerOnly("run.env"));
    assertThatThrownBy(() -> m.checkFiles(Set.of("rackroll.yaml", "run.env")))
        .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.problems()).containsExactly(
            "rackroll.yaml: templates: config/app.conf is not in the artifact"));
    assertThatThrownBy(() -> Manifest.parse("name: web\nversion: \"1\"\ntemplates: [../etc/passwd, a, a]\n"))
        .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.problems()).containsExactly(
            "rackroll.yaml line 3: templates: ../etc/passwd (expected: a relative path inside the release, e.g."
                + " hooks/start.sh)",
            "rackroll.yaml line 3: templates: a is listed twice"));
    assertThatThrownBy(() -> Manifest.parse("name: web\nversion: \"1\"\ntemplates: config/app.conf\n"))
        .hasMessageContaining("rackroll.yaml line 3: templates: expected a list of files, e.g. [config/app.conf]");
  }

  @Test
  void sizesParseAndFormat() {
    assertThat(Sizes.parse("512MiB")).isEqualTo(512L << 20);
    assertThat(Sizes.parse("2GB")).isEqualTo(2_000_000_000L);
    assertThat(Sizes.parse("1.5GiB")).isEqualTo(3L << 29);
    assertThat(Sizes.parse("1024")).isEqualTo(1024);
    assertThat(Sizes.parse("lots")).isEqualTo(-1);
    assertThat(Sizes.format(2L << 30)).isEqualTo("2.0 GiB");
    assertThat(Sizes.format(700)).isEqualTo("700 B");
  }

  private static void assertProblems(String yaml, String... expected) {
    assertThatThrownBy(() -> Manifest.parse(yaml))
        .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.problems()).isEqualTo(List.of(expected)));
  }
}
