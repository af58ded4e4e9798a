package io.rackroll.agent.lifecycle;

import io.rackroll.release.HostFit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.rackroll.agent.artifact.ArtifactCache;
import io.rackroll.agent.artifact.ArtifactSource;
import io.rackroll.agent.testing.Tmpfs;
import io.rackroll.release.Artifact;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lifecycle on real files and real hook processes. Artifacts come from a local map instead of
 * the controller (downloads have their own tests); everything else is what runs on a host.
 */
class LifecycleTest {
  @TempDir Path dir;
  private Path apps;
  /** Hooks append here: "activate 1", "deactivate 1", ... */
  private Path events;
  /** Health checks pass while this file exists. */
  private Path healthy;
  private final Map<String, Path> artifacts = new HashMap<>();
  private final Map<String, String> digests = new HashMap<>();
  private final List<Phase> seen = new ArrayList<>();
  private Lifecycle lifecycle;
  /** What the lifecycle last told its artifact source to keep. */
  private java.util.Set<String> keptArtifacts;
  private final List<Flags.Change> flagChanges = new ArrayList<>();
  /** While positive, each fetch fails as if the controller were away, and counts down. */
  private int controllerAwayFor;
  /** How many times the lifecycle asked for an artifact. */
  private int fetches;

  @BeforeEach
  void setUp() throws Exception {
    apps = dir.resolve("apps");
    events = dir.resolve("events.log");
    healthy = dir.resolve("healthy");
    Files.createFile(healthy);
    lifecycle = lifecycle(3);
  }

  private Lifecycle lifecycle(int keep) {
    ArtifactSource source = new ArtifactSource() {
      @Override
      public Path fetch(String digest, long size, java.util.function.LongConsumer progress) throws IOException {
        fetches++;
        if (controllerAwayFor > 0) {
          controllerAwayFor--;
          throw new ArtifactCache.DownloadException(ArtifactCache.DownloadException.Kind.UNREACHABLE,
              "download of " + digest.substring(0, 12) + " broke off (UNAVAILABLE)", null);
        }
        Path p = artifacts.get(digest);
        if (p == null) {
          throw new IOException("no artifact " + digest);
        }
        return p;
      }

      @Override
      public void keepOnly(java.util.Set<String> needed) {
        keptArtifacts = needed;
      }
    };
    return new Lifecycle(apps, source, () -> new HostFit.Host("x86_64", "linux", 2, 4L << 30),
        Map.of("rack", "r1"), keep, Clock.systemUTC(), new Lifecycle.Listener() {
          @Override
          public void transition(Job job) {
            seen.add(job.phase());
          }

          @Override
          public void flags(Flags.Change change) {
            flagChanges.add(change);
          }
        });
  }

  /** Packs web@version whose hooks log to the events file and whose health follows the healthy file. */
  private String release(String version, String extraManifest, Map<String, String> hookBodies) throws Exception {
    Path src = Files.createDirectories(dir.resolve("src-" + version));
    Files.createDirectories(src.resolve("hooks"));
    Map<String, String> bodies = new HashMap<>(Map.of(
        "activate", "echo \"activate $RACKROLL_VERSION prev=$RACKROLL_PREVIOUS_VERSION rack=$RACKROLL_LABEL_RACK\" >> " + events,
        "deactivate", "echo \"deactivate $RACKROLL_VERSION\" >> " + events,
        "health", "test -f " + healthy));
    bodies.putAll(hookBodies);
    for (Map.Entry<String, String> h : bodies.entrySet()) {
      Path script = src.resolve("hooks/" + h.getKey() + ".sh");
      Files.writeString(script, "#!/bin/sh\n" + h.getValue() + "\n");
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    StringBuilder manifest = new StringBuilder("name: web\nversion: \"" + version + "\"\nhooks:\n"
        + "  activate: hooks/activate.sh\n  deactivate: hooks/deactivate.sh\n");
    for (String extra : List.of("preInstall", "postInstall", "flagsChanged")) {
      if (bodies.containsKey(extra)) {
        manifest.append("  ").append(extra).append(": {run: hooks/").append(extra).append(".sh, timeout: 2s}\n");
      }
    }
    manifest.append("health:\n  checks:\n    - exec: hooks/health.sh\n  interval: 100ms\n  timeout: 100ms\n"
        + "  healthyAfter: 2\n  deadline: 2s\n").append(extraManifest);
    Files.writeString(src.resolve("rackroll.yaml"), manifest.toString());
    Path out = dir.resolve("web-" + version + ".tar.gz");
    Artifact.pack(src, out);
    String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(out)));
    artifacts.put(digest, out);
    digests.put(version, digest);
    return digest;
  }

  private Job deploy(String version) throws Exception {
    return lifecycle.deploy("d-test", "web", version, digests.get(version), Files.size(artifacts.get(digests.get(version))));
  }

  private List<String> events() throws IOException {
    return Files.exists(events) ? Files.readAllLines(events) : List.of();
  }

  @Test
  void firstInstallWalksEveryPhaseAndActivatesWithTheDocumentedEnvironment() throws Exception {
    release("1", "", Map.of());
    Job job = deploy("1");
    assertThat(job.phase()).isEqualTo(Phase.ACTIVE);
    assertThat(seen).containsExactly(Phase.DOWNLOADING, Phase.VERIFYING, Phase.CHECKING_HOST, Phase.INSTALLING,
        Phase.ACTIVATING, Phase.CHECKING_HEALTH, Phase.ACTIVE);
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
    assertThat(Files.readSymbolicLink(apps.resolve("web/current"))).isEqualTo(Path.of("releases/1"));
    assertThat(events()).containsExactly("activate 1 prev= rack=r1");
    assertThat(lifecycle.releases().job("web")).contains(job);
  }

  @Test
  void templatesAreRenderedWithTheEnvironmentsVariablesBeforePostInstallAndHooksSeeThem() throws Exception {
    Path src = Files.createDirectories(dir.resolve("src-1"));
    Files.writeString(src.resolve("app.conf"), "greeting=${greeting}\npassword=${db.password}\nshell=$${HOME}\n");
    release("1", "templates: [app.conf]\n", Map.of("postInstall",
        "echo \"post $RACKROLL_ENVIRONMENT $RACKROLL_VAR_GREETING $(head -1 app.conf)\" >> " + events));
    Job job = lifecycle.deploy("d-test", "web", "1", digests.get("1"), Files.size(artifacts.get(digests.get("1"))),
        new ReleaseConfig("staging", Map.of("greeting", "hi", "db.password", "pw-staging"), "c0ffee", Map.of()));
    assertThat(job.phase()).isEqualTo(Phase.ACTIVE);
    Path release = apps.resolve("web/releases/1");
    assertThat(release.resolve("app.conf")).hasContent("greeting=hi\npassword=pw-staging\nshell=${HOME}\n");
    // It may hold secrets: readable by the agent's user only, unless the manifest says otherwise.
    assertThat(Files.getPosixFilePermissions(release.resolve("app.conf")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(events()).contains("post staging hi greeting=hi");
    // What it was installed with stays beside it, for root only: its hooks see the same values on every run.
    assertThat(Files.getPosixFilePermissions(release.resolve(ReleaseConfig.FILE)))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(ReleaseConfig.read(release)).isEqualTo(new ReleaseConfig("staging",
        Map.of("greeting", "hi", "db.password", "pw-staging"), "c0ffee", Map.of()));
    assertThat(lifecycle.releases().currentConfigDigest("web")).isEqualTo("c0ffee");
    assertThat(ReleaseConfig.read(release).toString()).doesNotContain("pw-staging");
  }

  /**
   * Deploys web@1 with {@code file} holding {@code content} and {@code templates} in its manifest,
   * configured for {@code environment} with {@code variables}.
   */
  private Job deployTemplated(String file, String content, String templates, String environment,
      Map<String, String> variables) throws Exception {
    Path src = Files.createDirectories(dir.resolve("src-1"));
    Files.writeString(src.resolve(file), content);
    release("1", templates, Map.of());
    return lifecycle.deploy("d-test", "web", "1", digests.get("1"), Files.size(artifacts.get(digests.get("1"))),
        new ReleaseConfig(environment, variables, "c0ffee", Map.of()));
  }

  @Test
  void aTemplateGetsTheModeAndGroupItsManifestAsksFor() throws Exception {
    Job job = deployTemplated("site.conf", "greeting=${greeting}\n",
        "templates:\n  - path: site.conf\n    mode: 0640\n    group: root\n", "staging", Map.of("greeting", "hi"));
    assertThat(job.phase()).isEqualTo(Phase.ACTIVE);
    Path conf = apps.resolve("web/releases/1/site.conf");
    assertThat(Files.getPosixFilePermissions(conf)).isEqualTo(PosixFilePermissions.fromString("rw-r-----"));
    assertThat(Files.readAttributes(conf, java.nio.file.attribute.PosixFileAttributes.class).group().getName())
        .isEqualTo("root");
  }

  @Test
  void aTemplateForAUserTheHostDoesNotHaveFailsTheInstallSayingSo() throws Exception {
    Job job = deployTemplated("site.conf", "x\n", "templates:\n  - path: site.conf\n    owner: no-such-user-here\n",
        "staging", Map.of());
    assertThat(job.phase()).isEqualTo(Phase.FAILED);
    assertThat(job.failureKind()).isEqualTo("config_failed");
    assertThat(job.failure()).isEqualTo("web@1: site.conf: no user or group 'no-such-user-here' on this host"
        + " (expected: the owner and group the manifest names to exist before the install)");
    assertThat(apps.resolve("web/releases/1")).doesNotExist();
  }

  @Test
  void aReleaseThatBringsADirectoryNamedFlagsJsonFailsTheInstallSayingSo() throws Exception {
    // Found by hand: the refusal was the bare path of a DirectoryNotEmptyException.
    Path src = Files.createDirectories(dir.resolve("src-1").resolve(Flags.FILE));
    Files.writeString(src.resolve("keep"), "x");
    release("1", "", Map.of());
    Job job = deploy("1");
    assertThat(job.phase()).isEqualTo(Phase.FAILED);
    assertThat(job.failure()).endsWith("the release brings a directory named flags.json; that name belongs to the"
        + " agent in every release (remove it from the artifact)");
    assertThat(apps.resolve("web/releases/1")).doesNotExist();
  }

  @Test
  void aTemplateWithoutItsVariableFailsTheInstallNamingTemplateLineAndVariable() throws Exception {
    Job job = deployTemplated("app.conf", "greeting=${greeting}\npassword=${db.password}\n", "templates: [app.conf]\n",
        "production", Map.of("greeting", "hello"));
    assertThat(job.phase()).isEqualTo(Phase.FAILED);
    assertThat(job.failureKind()).isEqualTo("config_failed");
    assertThat(job.failure()).isEqualTo("web@1: template app.conf line 2: no variable \"db.password\" in environment"
        + " production; set it in the environments file (variables) or as a secret");
    assertThat(apps.resolve("web/releases/1")).doesNotExist();
    assertThat(lifecycle.releases().currentVersion("web")).isEmpty();
  }

  private Job deploy(String deploymentId, String version, String greeting, String digest) throws Exception {
    return lifecycle.deploy(deploymentId, "web", version, digests.get(version),
        Files.size(artifacts.get(digests.get(version))), new ReleaseConfig("staging", Map.of("greeting", greeting), digest, Map.of()));
  }

  @Test
  void theSameVersionWithOtherValuesIsInstalledBesideTheOldAndSwitchedToAtomically() throws Exception {
    Path src = Files.createDirectories(dir.resolve("src-1"));
    Files.writeString(src.resolve("app.conf"), "greeting=${greeting}\n");
    release("1", "templates: [app.conf]\n", Map.of());
    deploy("d-1", "1", "hi", "aaaa1111bbbb2222");

    Job reconfigured = deploy("d-2", "1", "hello", "cccc3333dddd4444");

    assertThat(reconfigured.phase()).isEqualTo(Phase.ACTIVE);
    assertThat(reconfigured.version()).isEqualTo("1~cccc3333dddd");
    assertThat(reconfigured.previous()).isEqualTo("1");
    assertThat(apps.resolve("web/current/app.conf")).hasContent("greeting=hello\n");
    assertThat(apps.resolve("web/releases/1/app.conf")).as("the old values stay for the way back")
        .hasContent("greeting=hi\n");
    // What the controller sees: the version, not the directory.
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
    assertThat(lifecycle.releases().keptVersions("web")).containsExactly("1");
    assertThat(lifecycle.releases().currentConfigDigest("web")).isEqualTo("cccc3333dddd4444");
    assertThat(events()).endsWith("deactivate 1", "activate 1 prev=1 rack=r1");

    // The controller reverts a reconfigure with "the release before": the old values come back.
    Job back = lifecycle.rollback("d-2:revert", "web", "");
    assertThat(back.phase()).isEqualTo(Phase.ACTIVE);
    assertThat(apps.resolve("web/current/app.conf")).hasContent("greeting=hi\n");
    assertThat(lifecycle.releases().currentConfigDigest("web")).isEqualTo("aaaa1111bbbb2222");

    // Going back to the first values reuses their directory.
    assertThat(deploy("d-3", "1", "hi", "aaaa1111bbbb2222").version()).isEqualTo("1");
    // A revert names the values to return to, so it is exact whatever ran in between.
    assertThat(deploy("d-4", "1", "hello", "cccc3333dddd4444").version()).isEqualTo("1~cccc3333dddd");
    assertThat(lifecycle.rollback("d-4:revert", "web", "1", "aaaa1111bbbb2222").version()).isEqualTo("1");
    assertThat(apps.resolve("web/current/app.conf")).hasContent("greeting=hi\n");
  }

  @Test
  void aReconfigureThatFailsHealthReturnsToTheOldValuesByItself() throws Exception {
    Path src = Files.createDirectories(dir.resolve("src-1"));
    Files.writeString(src.resolve("app.conf"), "greeting=${greeting}\n");
    release("1", "templates: [app.conf]\n", Map.of("health", "grep -q greeting=hi app.conf"));
    deploy("d-1", "1", "hi", "aaaa1111");

    Job job = deploy("d-2", "1", "broken", "bbbb2222");

    assertThat(job.phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(job.failure()).startsWith("web@1 (reconfigured) not healthy").endsWith("rolled back to 1");
    assertThat(apps.resolve("web/current/app.conf")).hasContent("greeting=hi\n");
    assertThat(lifecycle.releases().currentConfigDigest("web")).isEqualTo("aaaa1111");
  }

  @Test
  void aRollbackToAVersionPicksTheDirectoryTheHostRanBefore() throws Exception {
    Path src = Files.createDirectories(dir.resolve("src-1"));
    Files.writeString(src.resolve("app.conf"), "greeting=${greeting}\n");
    release("1", "templates: [app.conf]\n", Map.of());
    release("2", "", Map.of());
    deploy("d-1", "1", "hi", "aaaa1111");
    deploy("d-2", "1", "hello", "bbbb2222");
    deploy("d-3", "2", "hello", "bbbb2222");

    Job back = lifecycle.rollback("d-3:revert", "web", "1");

    assertThat(back.version()).isEqualTo("1~bbbb2222");
    assertThat(apps.resolve("web/current/app.conf")).hasContent("greeting=hello\n");
  }

  private Flags flags() {
    return lifecycle.flags();
  }

  @Test
  void aFlagChangeReachesTheRunningReleaseRunsItsHookAndChecksHealth() throws Exception {
    release("1", "", Map.of("flagsChanged", "echo \"flags $(cat flags.json | tr -d ' \\n') $RACKROLL_FLAGS_FILE\" >> " + events));
    deploy("1");
    assertThat(apps.resolve("web/current/flags.json")).as("every release links the app's flags").hasContent("{}");

    Flags.Change c = flags().set("d-f1", "web", Map.of("checkout.v2", "true", "color", "\"blue\""));

    assertThat(c.phase()).isEqualTo(FlagPhase.ACTIVE);
    assertThat(flagChanges).extracting(Flags.Change::phase).containsExactly(FlagPhase.APPLYING, FlagPhase.ACTIVE);
    assertThat(apps.resolve("web/current/flags.json")).hasContent("{\n  \"checkout.v2\" : true,\n  \"color\" : \"blue\"\n}");
    assertThat(events()).last().isEqualTo("flags {\"checkout.v2\":true,\"color\":\"blue\"} "
        + apps.resolve("web/flags.json").toAbsolutePath());
    // Other flags stay; null removes one.
    flags().set("d-f2", "web", Map.of("color", "null", "rate", "0.5"));
    assertThat(flags().current("web")).containsExactly(Map.entry("checkout.v2", "true"), Map.entry("rate", "0.5"));
    // A new release sees the same flags.
    release("2", "", Map.of());
    deploy("2");
    assertThat(apps.resolve("web/current/flags.json")).content().contains("\"rate\" : 0.5");
  }

  @Test
  void aFlagChangeThatBreaksHealthIsPutBackByTheHostAndTheControllerCanRevertOne() throws Exception {
    release("1", "", Map.of("flagsChanged", "echo changed >> " + events,
        "health", "test -f " + healthy + " && ! grep -q '\"broken\" : true' flags.json"));
    deploy("1");
    flags().set("d-f1", "web", Map.of("checkout.v2", "true"));

    Flags.Change broken = flags().set("d-f2", "web", Map.of("broken", "true"));

    assertThat(broken.phase()).isEqualTo(FlagPhase.ROLLED_BACK);
    assertThat(broken.failureKind()).isEqualTo("health_failed");
    assertThat(broken.failure()).startsWith("web with flags broken=true checkout.v2=true: not healthy")
        .endsWith("; flags put back");
    assertThat(flags().current("web")).containsExactly(Map.entry("checkout.v2", "true"));
    assertThat(events()).endsWith("changed", "changed");

    // The controller undoes d-f1 on a host where it applied; undoing it again, or one that never
    // applied, changes nothing.
    assertThat(flags().revert("d-f1:revert", "web", "d-f2").phase()).isEqualTo(FlagPhase.ACTIVE);
    assertThat(flags().current("web")).containsExactly(Map.entry("checkout.v2", "true"));
    flags().set("d-f3", "web", Map.of("color", "\"red\""));
    assertThat(flags().revert("d-f3:revert", "web", "d-f3").phase()).isEqualTo(FlagPhase.ACTIVE);
    assertThat(flags().current("web")).containsExactly(Map.entry("checkout.v2", "true"));
    assertThat(flags().revert("d-f3:revert", "web", "d-f3").after()).as("sent again: reported, not redone")
        .containsExactly(Map.entry("checkout.v2", "true"));
  }

  @Test
  void aFlagChangeInterruptedByARestartIsPutBackAndAHostWithoutTheAppRefusesOne() throws Exception {
    release("1", "", Map.of());
    deploy("1");
    flags().set("d-f1", "web", Map.of("a", "1"));
    // SIGKILL after the new flags were written, before health was checked.
    Files.writeString(apps.resolve("web/flags.json"), "{\"a\": 2}");
    Files.write(apps.resolve("web").resolve(HostLayout.FLAG_CHANGE), new ObjectMapper().writeValueAsBytes(new Flags.Change(
        "d-f2", "web", FlagPhase.APPLYING, Map.of("a", "1"), Map.of("a", "2"), "", "", 0)));

    flags().recover();

    assertThat(flags().current("web")).containsExactly(Map.entry("a", "1"));
    assertThat(flags().last("web").orElseThrow()).satisfies(c -> {
      assertThat(c.phase()).isEqualTo(FlagPhase.ROLLED_BACK);
      assertThat(c.failureKind()).isEqualTo("interrupted");
    });
    assertThat(flags().set("d-f3", "api", Map.of("a", "true"))).satisfies(c -> {
      assertThat(c.phase()).isEqualTo(FlagPhase.FAILED);
      assertThat(c.failure()).isEqualTo("api is not installed on this host; deploy it first");
    });
  }

  @Test
  void aHostNewToTheAppStartsWithItsEnvironmentsFlagsAndOneWithFlagsKeepsThem() throws Exception {
    release("1", "", Map.of("flagsChanged", "echo changed >> " + events, "health", "grep -q checkout flags.json"));
    Map<String, String> production = Map.of("checkout.v2", "true");

    Job first = lifecycle.deploy("d-1", "web", "1", digests.get("1"), Files.size(artifacts.get(digests.get("1"))),
        new ReleaseConfig("production", Map.of(), "c1", production));

    assertThat(first.phase()).as("its health reads the flags it started with").isEqualTo(Phase.ACTIVE);
    assertThat(apps.resolve("web/current/flags.json")).hasContent("{\n  \"checkout.v2\" : true\n}");
    assertThat(flagChanges).as("reported, as a change by the deployment that installed it")
        .extracting(Flags.Change::deploymentId, Flags.Change::phase, Flags.Change::after)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("d-1", FlagPhase.ACTIVE, production));
    assertThat(events()).as("nothing ran yet to be told").doesNotContain("changed");

    // The host's own flags win over the environment's from then on.
    flags().set("d-f1", "web", Map.of("color", "\"red\""));
    release("2", "", Map.of("health", "true"));
    lifecycle.deploy("d-2", "web", "2", digests.get("2"), Files.size(artifacts.get(digests.get("2"))),
        new ReleaseConfig("production", Map.of(), "c1", Map.of("checkout.v2", "false")));
    assertThat(flags().current("web")).containsExactly(Map.entry("checkout.v2", "true"), Map.entry("color", "\"red\""));
    assertThat(flagChanges).extracting(Flags.Change::deploymentId).containsExactly("d-1", "d-f1", "d-f1");
  }

  @Test
  void periodicHealthReportsEachCheckOfTheActiveRelease() throws Exception {
    release("1", "", Map.of());
    assertThat(lifecycle.health().now("web")).isEmpty(); // nothing active yet
    deploy("1");

    var healthy = lifecycle.health().now("web").orElseThrow();
    assertThat(healthy.getHealthy()).isTrue();
    assertThat(healthy.getVersion()).isEqualTo("1");
    assertThat(healthy.getChecksList()).singleElement().satisfies(c -> assertThat(c.getCheck()).isEqualTo("exec hooks/health.sh"));

    Files.delete(this.healthy);
    var sick = lifecycle.health().now("web").orElseThrow();
    assertThat(sick.getHealthy()).isFalse();
    assertThat(sick.getChecks(0).getDetail()).isEqualTo("exec hooks/health.sh exited with 1");
  }

  @Test
  void upgradeStopsTheOldReleaseBeforeStartingTheNew() throws Exception {
    release("1", "", Map.of());
    release("2", "", Map.of());
    deploy("1");
    Job job = deploy("2");
    assertThat(job.phase()).isEqualTo(Phase.ACTIVE);
    assertThat(job.previous()).isEqualTo("1");
    assertThat(events()).containsExactly("activate 1 prev= rack=r1", "deactivate 1", "activate 2 prev=1 rack=r1");
  }

  @Test
  void failingHealthRollsBackToThePreviousReleaseByItself() throws Exception {
    release("1", "", Map.of());
    release("2", "", Map.of("health", "exit 1"));
    deploy("1");

    Job job = deploy("2");

    assertThat(job.phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(job.failureKind()).isEqualTo("health_failed");
    assertThat(job.failure()).contains("web@2 not healthy within 2s", "exec hooks/health.sh exited with 1",
        "rolled back to 1");
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
    assertThat(events()).endsWith("activate 2 prev=1 rack=r1", "deactivate 2", "activate 1 prev=2 rack=r1");
  }

  @Test
  void aRollbackStopsWhatTheFailedReleaseStartedAndADeactivateThatFailsIsReportedNotFatal() throws Exception {
    Path pid = dir.resolve("pid-2");
    release("1", "", Map.of());
    release("2", "", Map.of(
        "activate", "sleep 300 > /dev/null 2>&1 &\necho $! > " + pid,
        "deactivate", "kill $(cat " + pid + ")\necho \"deactivate $RACKROLL_VERSION\" >> " + events,
        "health", "exit 1"));
    deploy("1");

    Job job = deploy("2");

    assertThat(job.phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
    long started = Long.parseLong(Files.readString(pid).trim());
    await().atMost(10, TimeUnit.SECONDS).until(() -> ProcessHandle.of(started).map(p -> !p.isAlive()).orElse(true));
    assertThat(events()).endsWith("deactivate 2", "activate 1 prev=2 rack=r1");

    release("3", "", Map.of("deactivate", "echo cannot stop >&2; exit 4", "health", "exit 1"));
    Job three = deploy("3");
    assertThat(three.phase()).as("the host still goes back").isEqualTo(Phase.ROLLED_BACK);
    assertThat(three.failure()).contains("deactivate hook hooks/deactivate.sh of web@3", "rolled back to 1");
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
  }

  @Test
  void firstInstallThatNeverGetsHealthyLeavesNothingSwitched() throws Exception {
    release("1", "", Map.of("health", "exit 3"));
    Job job = deploy("1");
    assertThat(job.phase()).isEqualTo(Phase.FAILED);
    assertThat(job.failure()).endsWith("no previous release to roll back to");
    assertThat(apps.resolve("web/current")).doesNotExist();
    assertThat(events()).containsExactly("activate 1 prev= rack=r1", "deactivate 1");
  }

  @Test
  void failingPreInstallHookStopsBeforeAnythingChanges() throws Exception {
    release("1", "", Map.of());
    release("2", "", Map.of("preInstall", "echo 'schema check failed' >&2; exit 4"));
    deploy("1");

    Job job = deploy("2");

    assertThat(job.phase()).isEqualTo(Phase.FAILED);
    assertThat(job.failureKind()).isEqualTo("hook_failed");
    assertThat(job.failure()).isEqualTo("preInstall hook hooks/preInstall.sh of web@2 exited with 4; output: schema check failed");
    assertThat(apps.resolve("web/releases/2")).doesNotExist();
    assertThat(apps.resolve("web/releases/.2.staging")).doesNotExist();
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
  }

  @Test
  void readOnlyDiskFailsTheJobWithThatReasonAndChangesNothing() throws Exception {
    try (Tmpfs disk = Tmpfs.mount(apps, "8m")) {
      release("1", "", Map.of());
      release("2", "", Map.of());
      deploy("1");
      disk.readOnly();
      seen.clear();

      Job job = deploy("2");

      assertThat(job.phase()).isEqualTo(Phase.FAILED);
      assertThat(job.failureKind()).isEqualTo("disk_read_only");
      assertThat(job.failure()).startsWith("web@2: cannot record its state: " + apps.resolve("web"))
          .endsWith("Read-only file system");
      assertThat(seen).as("the failure is reported though it cannot be persisted").containsExactly(Phase.FAILED);
      assertThat(lifecycle.releases().currentVersion("web")).contains("1");
      assertThat(lifecycle.releases().job("web").orElseThrow().phase()).isEqualTo(Phase.ACTIVE);
      disk.writable();
    }
  }

  @Test
  void aJobThatFailedOnAFullDiskIsNotResumedWhenTheDiskHasRoomAgain() throws Exception {
    Path running = dir.resolve("post-install-running");
    Path proceed = dir.resolve("post-install-may-finish");
    Path runtime = dir.resolve("run");
    try (Tmpfs disk = Tmpfs.mount(apps, "8m")) {
      lifecycle = new Lifecycle(apps, runtime, (digest, size, progress) -> artifacts.get(digest),
          () -> new HostFit.Host("x86_64", "linux", 2, 4L << 30), Map.of("rack", "r1"), 3, Clock.systemUTC(),
          job -> seen.add(job.phase()));
      release("1", "", Map.of());
      release("2", "", Map.of("postInstall", "touch " + running + "\nwhile [ ! -f " + proceed + " ]; do sleep 0.05;"
          + " done"));
      deploy("1");
      java.util.concurrent.CompletableFuture<Job> deploying = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return deploy("2");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      await().atMost(30, TimeUnit.SECONDS).until(() -> Files.exists(running));
      // The disk fills up mid-INSTALLING, as persisted: the install cannot finish, nor its end be recorded.
      Path filler = apps.resolve("filler");
      try (var out = Files.newOutputStream(filler)) {
        byte[] block = new byte[64 * 1024];
        while (true) {
          out.write(block);
        }
      } catch (IOException full) {
        assertThat(full.getMessage()).contains("No space left");
      }
      Files.createFile(proceed);
      Job failed = deploying.get(30, TimeUnit.SECONDS);
      assertThat(failed.phase()).isEqualTo(Phase.FAILED);
      assertThat(failed.failureKind()).isEqualTo("disk_full");
      Files.delete(filler);
      assertThat(lifecycle.releases().job("web").orElseThrow().phase()).as("the disk kept the old phase")
          .isEqualTo(Phase.INSTALLING);

      // The agent restarts with its disk back: the job it was told had failed stays failed.
      seen.clear();
      Lifecycle restarted = new Lifecycle(apps, runtime, (digest, size, progress) -> artifacts.get(digest),
          () -> new HostFit.Host("x86_64", "linux", 2, 4L << 30), Map.of("rack", "r1"), 3, Clock.systemUTC(),
          job -> seen.add(job.phase()));
      assertThat(restarted.recover()).singleElement().extracting(Job::phase).isEqualTo(Phase.FAILED);
      assertThat(seen).containsExactly(Phase.FAILED);
      assertThat(restarted.releases().job("web").orElseThrow().phase()).isEqualTo(Phase.FAILED);
      assertThat(restarted.releases().currentVersion("web")).contains("1");
    }
  }

  @Test
  void afterAFailedDeployTheRackRollbackGoesToTheReleaseActiveBeforeAndHealthIsStillReported() throws Exception {
    release("1.0.0", "", Map.of());
    release("1.1.0", "", Map.of());
    release("1.2.0", "", Map.of("health", "exit 1"));
    deploy("1.0.0");
    deploy("1.1.0");
    assertThat(deploy("1.2.0").phase()).isEqualTo(Phase.ROLLED_BACK);
    assertThat(lifecycle.releases().currentVersion("web")).contains("1.1.0");

    // The release the host went back to is still reported on.
    assertThat(lifecycle.health().now("web")).hasValueSatisfying(r -> {
      assertThat(r.getVersion()).isEqualTo("1.1.0");
      assertThat(r.getHealthy()).isTrue();
    });

    // "Previous" is the release active before the current one, whatever the last job was.
    Job back = lifecycle.rollback("d-rack", "web", "");
    assertThat(back.phase()).isEqualTo(Phase.ACTIVE);
    assertThat(lifecycle.releases().currentVersion("web")).contains("1.0.0");
    // A rollback undoes: the release it left is not where the next one goes (that would bring back
    // what was just judged bad). With nothing further back, the host says so.
    assertThat(lifecycle.releases().history("web")).containsExactly("1.0.0");
    Job none = lifecycle.rollback("d-rack2", "web", "");
    assertThat(none.phase()).isEqualTo(Phase.FAILED);
    assertThat(none.failure()).isEqualTo("web has no previous release on this host to roll back to");
    assertThat(lifecycle.releases().currentVersion("web")).contains("1.0.0");
  }

  @Test
  void aReleaseItsDeploymentTookBackIsNotWhereTheNextRollbackGoes() throws Exception {
    release("1", "", Map.of());
    release("2", "", Map.of());
    release("3", "", Map.of());
    deploy("1");
    deploy("2");
    deploy("3"); // healthy here; then its deployment failed elsewhere and sent this host back
    assertThat(lifecycle.rollback("d-3:revert", "web", "2").phase()).isEqualTo(Phase.ACTIVE);
    assertThat(lifecycle.releases().history("web")).containsExactly("1", "2");

    // The rack rollback goes back to 1, not forward to the release just taken back.
    assertThat(lifecycle.rollback("d-rack", "web", "").version()).isEqualTo("1");
    // Forward again is a deploy, which goes into the history as ever.
    deploy("3");
    assertThat(lifecycle.releases().history("web")).containsExactly("1", "3");
  }

  @Test
  void pruningKeepsTheHistoryBeforeNewerReleasesThatFailed() throws Exception {
    for (String v : List.of("1", "2", "3", "5")) {
      release(v, "", Map.of());
    }
    release("4", "", Map.of("health", "exit 1"));
    deploy("1");
    deploy("2");
    deploy("3");
    assertThat(deploy("4").phase()).isEqualTo(Phase.ROLLED_BACK); // newer than 2, never active for long
    deploy("5");
    assertThat(lifecycle.rollback("d-5:revert", "web", "3").phase()).isEqualTo(Phase.ACTIVE);

    // Three kept: 3 (current), 2 (previous) and the next one back in the history, before 4 or 5.
    assertThat(lifecycle.releases().keptVersions("web")).containsExactlyInAnyOrder("3", "2", "5");
    assertThat(lifecycle.rollback("d-rack", "web", "").version()).isEqualTo("2");
  }

  @Test
  void theHostKeepsOnlyTheArtifactsAndHookLogsOfItsKeptReleasesAndEachLogIsBounded() throws Exception {
    for (String v : List.of("1", "2", "3", "4")) {
      // Each postInstall writes 3 MB of output, as a chatty migration would.
      release(v, "", Map.of("postInstall", "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo done " + v));
      assertThat(deploy(v).phase()).isEqualTo(Phase.ACTIVE);
    }
    assertThat(lifecycle.releases().keptVersions("web")).containsExactlyInAnyOrder("4", "3", "2");
    assertThat(keptArtifacts).as("the artifacts of the kept releases, no more")
        .containsExactlyInAnyOrder(digests.get("4"), digests.get("3"), digests.get("2"));
    try (var logs = Files.list(apps.resolve("web/logs"))) {
      List<Path> all = logs.toList();
      assertThat(all).extracting(p -> p.getFileName().toString()).allMatch(n -> !n.startsWith("1-"))
          .anyMatch(n -> n.startsWith("4-postInstall"));
      for (Path log : all) {
        assertThat(Files.size(log)).as(log.toString()).isLessThanOrEqualTo(HookRunner.MAX_LOG_BYTES + 100);
      }
    }
    Path last = apps.resolve("web/logs/4-postInstall.log");
    assertThat(Files.readString(last)).startsWith("[rackroll: the first ").endsWith("done 4\n");
  }

  @Test
  void keepReleasesHoldsAfterFailedDeploysAndNeverRemovesTheCurrentOrThePreviousRelease() throws Exception {
    release("1", "", Map.of());
    release("2", "", Map.of());
    deploy("1");
    deploy("2");
    for (String v : List.of("3", "4", "5", "6")) {
      release(v, "", Map.of("health", "exit 1"));
      assertThat(deploy(v).phase()).isEqualTo(Phase.ROLLED_BACK);
      try (var dirs = Files.list(apps.resolve("web/releases"))) {
        assertThat(dirs.filter(d -> !d.getFileName().toString().startsWith(".")).map(d -> d.getFileName().toString()))
            .as("after the failed " + v).hasSizeLessThanOrEqualTo(3).contains("2", "1");
      }
    }
    assertThat(lifecycle.rollback("d-back", "web", "").phase()).as("the previous release is still there")
        .isEqualTo(Phase.ACTIVE);
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
  }

  @Test
  void withinItsBakeTimeAnUnhealthyReleaseIsRolledBackByTheHostAndAfterItNever() throws Exception {
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(
        java.time.Instant.parse("2026-06-01T10:00:00Z").toEpochMilli());
    Clock moved = new Clock() {
      @Override
      public java.time.ZoneId getZone() {
        return java.time.ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public java.time.Instant instant() {
        return java.time.Instant.ofEpochMilli(now.get());
      }
    };
    lifecycle = new Lifecycle(apps, (digest, size, progress) -> artifacts.get(digest),
        () -> new HostFit.Host("x86_64", "linux", 2, 4L << 30), Map.of("rack", "r1"), 3, moved,
        job -> seen.add(job.phase()));
    release("1", "  bake: 10m\n", Map.of());
    release("2", "  bake: 10m\n", Map.of());
    deploy("1");
    deploy("2");
    // An unhealthy periodic report within the bake time (the service calls this on one): back by itself.
    assertThat(lifecycle.bakeFailed("web")).isPresent();
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
    Job back = lifecycle.releases().job("web").orElseThrow();
    assertThat(back.deploymentId()).isEqualTo("d-test" + Lifecycle.BAKE);
    assertThat(back.phase()).isEqualTo(Phase.ACTIVE);
    assertThat(lifecycle.bakeFailed("web")).as("a rollback is not baked: no going back and forth").isEmpty();

    // After the bake time, a host never changes releases by itself.
    deploy("2");
    now.addAndGet(java.time.Duration.ofMinutes(11).toMillis());
    assertThat(lifecycle.bakeFailed("web")).isEmpty();
    assertThat(lifecycle.releases().currentVersion("web")).contains("2");
  }

  @Test
  void hookThatHangsIsKilledAtItsTimeout() throws Exception {
    release("1", "", Map.of("postInstall", "echo started; sleep 60"));
    Job job = deploy("1");
    assertThat(job.phase()).isEqualTo(Phase.FAILED);
    assertThat(job.failureKind()).isEqualTo("hook_timed_out");
    assertThat(job.failure()).isEqualTo("postInstall hook hooks/postInstall.sh of web@1 timed out after 2s and was killed;"
        + " output: started");
    assertThat(apps.resolve("web/releases/1")).doesNotExist();
  }

  @Test
  void hostThatCannotTakeTheReleaseRefusesItWithTheReason() throws Exception {
    release("1", "requires:\n  minMemory: 64GiB\n  minCores: 8\n", Map.of());
    Job job = deploy("1");
    assertThat(job.phase()).isEqualTo(Phase.FAILED);
    assertThat(job.failureKind()).isEqualTo("refused");
    assertThat(job.failure()).isEqualTo("needs 8 cores, has 2; needs 64.0 GiB memory, has 4.0 GiB");
    assertThat(apps.resolve("web/releases/1")).doesNotExist();
  }

  @Test
  void keepsTheNewestReleasesSoRollbackNeverDownloads() throws Exception {
    lifecycle = lifecycle(2);
    for (String v : List.of("1", "2", "3")) {
      release(v, "", Map.of());
      assertThat(deploy(v).phase()).isEqualTo(Phase.ACTIVE);
      Files.setLastModifiedTime(apps.resolve("web/releases/" + v),
          java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + Integer.parseInt(v) * 1000L));
    }
    deploy("3");
    try (var s = Files.list(apps.resolve("web/releases"))) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("2", "3");
    }
  }

  @Test
  void restartDuringActivationRollsBack() throws Exception {
    release("1", "", Map.of());
    release("2", "", Map.of());
    deploy("1");
    // As if the agent died right after switching current to 2: release installed, link moved, state ACTIVATING.
    Files.createDirectories(apps.resolve("web/releases/2"));
    Files.copy(dir.resolve("src-2/rackroll.yaml"), apps.resolve("web/releases/2/rackroll.yaml"));
    Files.createDirectories(apps.resolve("web/releases/2/hooks"));
    for (String hook : List.of("activate", "deactivate", "health")) {
      Files.copy(dir.resolve("src-2/hooks/" + hook + ".sh"), apps.resolve("web/releases/2/hooks/" + hook + ".sh"));
    }
    Files.createFile(apps.resolve("web/releases/2/" + InstallStep.INSTALLED));
    Files.createSymbolicLink(apps.resolve("web/current.new"), Path.of("releases/2"));
    Files.move(apps.resolve("web/current.new"), apps.resolve("web/current"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    writeJob(new Job("d-test", "web", "2", digests.get("2"), 1, "1", Phase.ACTIVATING, 0, "", "", 0));

    List<Job> recovered = lifecycle.recover();

    assertThat(recovered).singleElement().satisfies(j -> {
      assertThat(j.phase()).isEqualTo(Phase.ROLLED_BACK);
      assertThat(j.failure()).isEqualTo("agent restarted during activation of 2; rolled back to 1");
    });
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
    assertThat(events()).as("what 2's activate may have started is stopped first").endsWith("deactivate 2",
        "activate 1 prev=2 rack=r1");
  }

  @Test
  void aStopLetsTheStepUnderWayFinishAndTheRestartGoesOnFromTheNextOne() throws Exception {
    Path running = dir.resolve("activate-running");
    Path proceed = dir.resolve("activate-may-finish");
    release("1", "", Map.of());
    release("2", "", Map.of("activate", "touch " + running + "\nwhile [ ! -f " + proceed + " ]; do sleep 0.05; done\n"
        + "echo \"activate $RACKROLL_VERSION prev=$RACKROLL_PREVIOUS_VERSION rack=$RACKROLL_LABEL_RACK\" >> " + events));
    deploy("1");
    java.util.concurrent.CompletableFuture<Job> deploying = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return deploy("2");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    await().atMost(30, TimeUnit.SECONDS).until(() -> Files.exists(running));
    lifecycle.stop(); // SIGTERM: the agent is being stopped in the middle of the activate hook
    Files.createFile(proceed);

    Job stopped = deploying.get(30, TimeUnit.SECONDS);
    assertThat(stopped.phase()).as("the activation finished; health is left to the restart")
        .isEqualTo(Phase.CHECKING_HEALTH);
    assertThat(stopped.stopped()).isTrue();
    assertThat(lifecycle.releases().currentVersion("web")).contains("2");

    List<Job> resumed = lifecycle(3).recover();
    assertThat(resumed).singleElement().satisfies(j -> {
      assertThat(j.phase()).as("no rollback after a clean stop").isEqualTo(Phase.ACTIVE);
      assertThat(j.entries()).isZero();
    });
    assertThat(events()).containsExactly("activate 1 prev= rack=r1", "deactivate 1", "activate 2 prev=1 rack=r1");
  }

  @Test
  void aRollbackInterruptedDuringActivationGoesOnToItsTargetNotBackToWhatItRemoves() throws Exception {
    release("1", "", Map.of());
    release("2", "", Map.of());
    deploy("1");
    deploy("2");
    // As if a SIGKILL hit a revert to 1 during its activation (current may point at either).
    writeJob(new Job("d-test:revert", "web", "1", "", 0, "2", Phase.ACTIVATING, 0, "", "", 0));

    List<Job> recovered = lifecycle.recover();

    assertThat(recovered).singleElement().satisfies(j -> {
      assertThat(j.phase()).isEqualTo(Phase.ACTIVE);
      assertThat(j.version()).isEqualTo("1");
    });
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
  }

  @Test
  void restartDuringInstallFinishesTheInstall() throws Exception {
    release("1", "", Map.of());
    // As if the agent died mid-unpack: a half-written staging directory and the job in INSTALLING.
    Files.createDirectories(apps.resolve("web/releases/.1.staging/hooks"));
    Files.writeString(apps.resolve("web/releases/.1.staging/hooks/activate.sh"), "#!/bin/sh\nexit 9\n");
    writeJob(new Job("d-test", "web", "1", digests.get("1"), Files.size(artifacts.get(digests.get("1"))), "", Phase.INSTALLING,
        0, "", "", 0));

    assertThat(lifecycle.recover()).singleElement().extracting(Job::phase).isEqualTo(Phase.ACTIVE);
    assertThat(events()).containsExactly("activate 1 prev= rack=r1");
  }

  @Test
  void restartBetweenUnpackAndPostInstallRunsTheInstallAgain() throws Exception {
    release("1", "", Map.of("postInstall", "echo \"postInstall $RACKROLL_VERSION\" >> " + events));
    // As if the agent died after renaming the release into place but before postInstall finished.
    Files.createDirectories(apps.resolve("web/releases/1"));
    Files.writeString(apps.resolve("web/releases/1/rackroll.yaml"), "name: web\nversion: \"1\"\n");
    writeJob(new Job("d-test", "web", "1", digests.get("1"), Files.size(artifacts.get(digests.get("1"))), "",
        Phase.INSTALLING, 0, "", "", 0));

    assertThat(lifecycle.recover()).singleElement().extracting(Job::phase).isEqualTo(Phase.ACTIVE);
    assertThat(events()).containsExactly("postInstall 1", "activate 1 prev= rack=r1");
  }

  @Test
  void aHookLeftRunningByAKilledAgentIsEndedBeforeTheStepRunsAgain() throws Exception {
    Path leftoverPid = dir.resolve("leftover.pid");
    Path childPid = dir.resolve("child.pid");
    release("1", "", Map.of("postInstall", "if kill -0 $(cat " + leftoverPid + ") 2>/dev/null"
        + " || kill -0 $(cat " + childPid + ") 2>/dev/null; then echo overlap >> " + events + "; fi\n"
        + "echo \"postInstall $RACKROLL_VERSION\" >> " + events));
    // As if the agent was SIGKILLed during postInstall: the release is in place, the job says
    // INSTALLING, and the hook (a shell with a child of its own) is still running in its group.
    Files.createDirectories(apps.resolve("web/releases/1"));
    Files.writeString(apps.resolve("web/releases/1/rackroll.yaml"), "name: web\nversion: \"1\"\n");
    writeJob(new Job("d-test", "web", "1", digests.get("1"), Files.size(artifacts.get(digests.get("1"))), "",
        Phase.INSTALLING, 0, "", "", 0));
    Process leftover = new ProcessBuilder("/usr/bin/setsid", "sh", "-c", "sleep 300 & echo $! > " + childPid + "; wait")
        .start();
    Files.writeString(leftoverPid, Long.toString(leftover.pid()));
    await().atMost(10, TimeUnit.SECONDS).until(() -> Files.exists(childPid) && !Files.readString(childPid).isBlank());
    long child = Long.parseLong(Files.readString(childPid).trim());
    new ObjectMapper().writeValue(apps.resolve("web/hook.json").toFile(), new HookRunner.Running(leftover.pid(),
        leftover.toHandle().info().startInstant().orElseThrow().toEpochMilli(), "postInstall", "1"));

    assertThat(lifecycle.recover()).singleElement().extracting(Job::phase).isEqualTo(Phase.ACTIVE);

    assertThat(leftover.isAlive()).isFalse();
    assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)).as("its child too").isFalse();
    assertThat(events()).as("never two runs at once").containsExactly("postInstall 1", "activate 1 prev= rack=r1");
    assertThat(apps.resolve("web/hook.json")).doesNotExist();
  }

  @Test
  void aCommandSentAgainForTheSameDeploymentIsReportedNotRunAgain() throws Exception {
    release("1", "", Map.of());
    Job first = deploy("1");
    seen.clear();

    Job again = deploy("1");

    assertThat(again).isEqualTo(first);
    assertThat(seen).as("reported once more, nothing re-run").containsExactly(Phase.ACTIVE);
    assertThat(events()).containsExactly("activate 1 prev= rack=r1");
    assertThat(lifecycle.deploy("d-other", "web", "1", digests.get("1"), Files.size(artifacts.get(digests.get("1"))))
        .deploymentId()).as("another deployment of the same version does run").isEqualTo("d-other");
  }

  @Test
  void explicitRollbackSwitchesToTheKeptPreviousRelease() throws Exception {
    release("1", "", Map.of());
    release("2", "", Map.of());
    deploy("1");
    deploy("2");

    Job job = lifecycle.rollback("d-rb", "web", "");

    assertThat(job.phase()).isEqualTo(Phase.ACTIVE);
    assertThat(job.version()).isEqualTo("1");
    assertThat(lifecycle.releases().currentVersion("web")).contains("1");
    assertThat(events()).endsWith("deactivate 2", "activate 1 prev=2 rack=r1");
    assertThat(lifecycle.rollback("d-rb2", "web", "7").failure()).isEqualTo("web@7 is not kept on this host (kept: 2, 1); deploy it instead");
  }

  @Test
  void aPhaseEnteredTooOftenFailsInsteadOfLooping() throws Exception {
    release("1", "", Map.of());
    writeJob(new Job("d-test", "web", "1", digests.get("1"), 1, "", Phase.INSTALLING, Lifecycle.MAX_ENTRIES, "", "", 0));
    assertThat(lifecycle.recover()).singleElement().satisfies(j -> {
      assertThat(j.phase()).isEqualTo(Phase.FAILED);
      assertThat(j.failureKind()).isEqualTo("crashed_loop");
    });
  }

  @Test
  void transitionsOutsideTheTableAreBugs() {
    assertThatThrownBy(() -> Phase.ACTIVE.checkTransition(Phase.INSTALLING)).hasMessage("illegal lifecycle transition ACTIVE -> INSTALLING");
    assertThatThrownBy(() -> Phase.DOWNLOADING.checkTransition(Phase.ACTIVE)).isInstanceOf(IllegalStateException.class);
    for (Phase p : Phase.values()) {
      assertThat(Phase.NEXT).containsKey(p);
    }
  }

  private void writeJob(Job job) throws IOException {
    Files.createDirectories(apps.resolve("web"));
    Files.write(apps.resolve("web/lifecycle.json"), new ObjectMapper().writeValueAsBytes(job));
  }

  @Test
  void aDownloadWaitsForItsControllerHoweverLongItIsAway() throws Exception {
    release("1", "", Map.of());
    List<java.time.Duration> pauses = new ArrayList<>();
    lifecycle.pauseDownloadsWith(p -> {
      pauses.add(p);
      return false;
    });
    controllerAwayFor = 12; // far past the five attempts a corrupt transfer gets

    assertThat(deploy("1").phase()).isEqualTo(Phase.ACTIVE);
    assertThat(pauses).hasSize(12).startsWith(java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(2))
        .endsWith(DownloadStep.MAX_PAUSE).allSatisfy(p -> assertThat(p).isLessThanOrEqualTo(DownloadStep.MAX_PAUSE));
  }

  @Test
  void anAgentStoppingWhileItsControllerIsAwayLeavesTheDownloadToItsRestart() throws Exception {
    release("1", "", Map.of());
    lifecycle.pauseDownloadsWith(p -> {
      lifecycle.stop(); // SIGTERM during the wait
      return true;
    });
    controllerAwayFor = 1_000;

    Job stopped = deploy("1");
    assertThat(stopped.phase()).isEqualTo(Phase.DOWNLOADING);
    assertThat(stopped.failure()).isEmpty();

    controllerAwayFor = 0; // back
    assertThat(lifecycle(3).recover()).singleElement().extracting(Job::phase).isEqualTo(Phase.ACTIVE);
  }

  @Test
  void aHostThatCannotTakeAReleaseRefusesBeforeItDownloadsAnything() throws Exception {
    release("1", "", Map.of());
    String digest = digests.get("1");
    long size = Files.size(artifacts.get(digest));
    var requires = new io.rackroll.release.Manifest.Requirements(List.of("aarch64"), "", 0, 0, 1L << 50);

    Job job = lifecycle.deploy("d-big", "web", "1", digest, size, 10_000, 3, ReleaseConfig.NONE, requires);

    assertThat(job.phase()).isEqualTo(Phase.FAILED);
    assertThat(job.failureKind()).isEqualTo("refused");
    assertThat(job.failure()).startsWith("needs architecture aarch64, host is x86_64; needs 1.0 PiB free on ")
        .endsWith(" (checked before the download)");
    assertThat(fetches).as("nothing downloaded").isZero();
    assertThat(seen).containsExactly(Phase.FAILED);
    assertThat(lifecycle.releases().currentRelease("web")).isEmpty();

    // What the host can take goes ahead as before.
    assertThat(lifecycle.deploy("d-ok", "web", "1", digest, size, 0, 0, ReleaseConfig.NONE,
        io.rackroll.release.Manifest.Requirements.NONE).phase()).isEqualTo(Phase.ACTIVE);
  }
}
