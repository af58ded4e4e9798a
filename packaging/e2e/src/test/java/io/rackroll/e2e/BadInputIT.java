package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every mistake an operator can make at the terminal gets one line on stderr that says what was
 * wrong and what to do, a non-zero exit code, no stack trace, and changes nothing.
 * One controller is shared: none of these may change the fleet.
 */
class BadInputIT {
  @TempDir static Path dir;
  private static Fleet fleet;

  @BeforeAll
  static void start() throws Exception {
    fleet = Fleet.start(dir);
  }

  @AfterAll
  static void stop() {
    if (fleet != null) {
      fleet.close();
    }
  }

  private static void assertOneLineError(Fleet.Cli r, int exit, String... fragments) {
    assertThat(r.exit()).as(r.toString()).isEqualTo(exit);
    assertThat(r.err().strip().lines()).as(r.toString()).hasSize(1);
    assertThat(r.err()).as(r.toString()).contains(fragments).doesNotContain("Exception", "\tat ");
    assertThat(r.out()).as(r.toString()).isEmpty();
  }

  @Test
  void malformedSelectorPointsAtTheCharacter() {
    assertOneLineError(fleet.rackroll("agents", "--selector", "rack in r1"), 1,
        "rackroll: selector \"rack in r1\" at column 9: expected '(' to open the value list");
  }

  @Test
  void malformedLabelsAreRefusedBeforeAnyTokenExists() {
    assertOneLineError(fleet.rackroll("token", "create", "--labels", "rack"), 1,
        "rackroll: label \"rack\" (expected: key=value, e.g. rack=r1)");
    assertOneLineError(fleet.rackroll("token", "create", "--ttl", "forever"), 1, "--ttl: forever (expected:");
    assertOneLineError(fleet.rackroll("token", "create", "--uses", "0"), 1, "--uses: 0 (expected: >= 1)");
  }

  @Test
  void unknownAgentIsNamed() {
    assertOneLineError(fleet.rackroll("agents", "show", "ag-nope"), 1, "rackroll: no agent ag-nope; list agents with 'rackroll agents'");
    assertOneLineError(fleet.rackroll("agents", "ping", "ag-nope"), 1, "rackroll: agent ag-nope is not connected");
  }

  @Test
  void unreachableControllerSaysSo() {
    assertOneLineError(fleet.rackroll("agents", "--controller", "127.0.0.1:1"), 1,
        "rackroll: cannot reach the controller", "is it running?");
  }

  /** Several addresses: the first that answers serves, with a note on the one that did not. */
  @Test
  void aListOfControllersIsTriedInOrder() throws Exception {
    Fleet.Cli r = fleet.rackroll("agents", "--controller", "127.0.0.1:1," + fleet.controllerAddress());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).startsWith("ID ");
    assertThat(r.err().strip()).isEqualTo("rackroll: note: controller 127.0.0.1:1 does not answer; using "
        + fleet.controllerAddress());
    assertOneLineError(fleet.rackroll("agents", "--controller", "127.0.0.1:1,127.0.0.1:2"), 1,
        "rackroll: cannot reach the controller", "is it running?");
    assertOneLineError(fleet.rackroll("agents", "--controller", " , "), 2,
        "--controller: empty (expected HOST:PORT, or several separated by commas)");
  }

  @Test
  void missingDataDirectorySaysWhatToPass() {
    assertOneLineError(fleet.rackroll("agents", "--data", dir.resolve("nowhere").toString()), 1,
        "rackroll: no controller data directory at", "pass --data DIR");
  }

  @Test
  void usageErrorsExitTwoAndPointAtHelp() {
    assertOneLineError(fleet.rackroll("agents", "--output", "xml"), 2, "--output", "see 'rackroll agents --help'");
    assertOneLineError(fleet.rackroll("deploy-everything"), 2, "Unmatched argument", "see 'rackroll --help'");
  }

  /** {@code agents --wait-connected}: a wait that runs out, a controller that never answers, bad numbers. */
  @Test
  void aWaitForAgentsThatRunsOutSaysHowManyCame() {
    assertOneLineError(fleet.rackroll("agents", "--wait-connected", "1", "--timeout", "1s", "-l", "rack=r9"), 1,
        "rackroll: 0 of the 1 agent(s) awaited are connected after 1s (selector 'rack=r9'); 'rackroll agents' lists"
            + " the others with their last contact");
    assertOneLineError(fleet.rackroll("agents", "--wait-connected", "1", "--timeout", "1s", "--controller",
        "127.0.0.1:1"), 1, "rackroll: cannot reach the controller", "is it running?");
    assertOneLineError(fleet.rackroll("agents", "--wait-connected", "-1"), 2,
        "--wait-connected: -1 (expected a number of agents, 0 or more)", "see 'rackroll agents --help'");
    assertOneLineError(fleet.rackroll("agents", "--wait-connected", "1", "--timeout", "forever"), 2,
        "--timeout: forever (expected: a number and a unit");
  }

  @Test
  void debugShowsTheStackTrace() {
    Fleet.Cli r = fleet.rackroll("agents", "--selector", "rack in r1", "--debug");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("\tat ");
  }

  @Test
  void controllerRefusesToOverwriteAnExistingCa() throws Exception {
    String before = Files.readString(fleet.data.resolve("pki").resolve("ca.crt"));
    assertOneLineError(fleet.rackroll("controller", "init", "--data", fleet.data.toString()), 1,
        "already holds a CA; refusing to overwrite it");
    assertThat(Files.readString(fleet.data.resolve("pki").resolve("ca.crt"))).isEqualTo(before);
  }

  @Test
  void secondControllerOnTheSameDataDirectoryIsRefused() {
    assertOneLineError(fleet.rackroll("controller", "run", "--data", fleet.data.toString()), 1,
        "another controller is already running with data directory");
  }

  @Test
  void agentWithoutEnrollmentOrTokenSaysHowToEnroll() throws Exception {
    Path home = dir.resolve("unenrolled");
    assertOneLineError(fleet.rackrollAgent("run", "--config", home.resolve("agent.yaml").toString(),
            "--state", home.resolve("state").toString(), "--controller", fleet.controllerAddress()), 78,
        "this host is not enrolled; run 'rackroll-agent enroll --controller");
    // The same as the package's service would start before enrollment: no address anywhere yet.
    assertOneLineError(fleet.rackrollAgent("run", "--config", home.resolve("agent.yaml").toString(),
            "--state", home.resolve("state").toString()), 78,
        "this host is not enrolled; run 'rackroll-agent enroll --controller HOST:PORT --token TOKEN'");
  }

  @Test
  void controllerRunBeforeInitSaysToInitAndIsNotRestartedBySystemd() {
    Path empty = dir.resolve("never-initialized");
    assertOneLineError(fleet.rackroll("controller", "run", "--data", empty.toString()), 78,
        "rackroll: no controller in " + empty + "; run 'rackroll controller init --data " + empty + "' first");
  }

  @Test
  void controllerWhoseDatabaseIsNotThereSaysWhichAndWhatToCheck() throws Exception {
    Path data = dir.resolve("no-database");
    assertThat(fleet.rackroll("controller", "init", "--data", data.toString(), "--listen", "127.0.0.1:0").exit()).isZero();
    Files.writeString(data.resolve("controller.yaml"), "listen: 127.0.0.1:0\nmetrics: \"off\"\n"
        + "database: jdbc:postgresql://127.0.0.1:1/rackroll?password=hunter2\n");
    Fleet.Cli run = fleet.rackroll("controller", "run", "--data", data.toString());
    assertOneLineError(run, 1, "rackroll: cannot connect to the database jdbc:postgresql://127.0.0.1:1/rackroll?...: ",
        "; check database, databaseUser and databasePasswordFile in the controller's configuration");
    assertThat(run.err()).doesNotContain("hunter2");
    assertThat(data.resolve("db")).as("no embedded store made instead").doesNotExist();
  }

  @Test
  void agentWithAUsedTokenIsToldToGetANewOne() throws Exception {
    String token = fleet.token("rack=r9", 1);
    Path first = dir.resolve("first");
    Fleet.Cli ok = fleet.rackrollAgent("enroll", "--config", first.resolve("agent.yaml").toString(),
        "--state", first.resolve("state").toString(), "--controller", fleet.controllerAddress(), "--token", token);
    assertThat(ok.exit()).as(ok.toString()).isZero();
    assertThat(ok.out()).contains("Enrolled agent ag-", "labels       {rack=r9}");
    assertThat(first.resolve("agent.yaml")).as("enrollment leaves the config file alone").doesNotExist();
    assertThat(first.resolve("state/identity.properties")).content()
        .contains("controller=" + fleet.controllerAddress().replace(":", "\\:"));

    Path second = dir.resolve("second");
    assertOneLineError(fleet.rackrollAgent("enroll", "--config", second.resolve("agent.yaml").toString(),
            "--state", second.resolve("state").toString(), "--controller", fleet.controllerAddress(), "--token", token), 1,
        "rackroll-agent: enrollment refused by", "has already been used; create a new one with 'rackroll token create'");
    assertThat(second.resolve("pki").resolve("agent.crt")).doesNotExist();
  }

  @Test
  void agentWithAMangledTokenSaysWhichPart() {
    Path home = dir.resolve("mangled");
    assertOneLineError(fleet.rackrollAgent("enroll", "--config", home.resolve("agent.yaml").toString(),
            "--controller", "127.0.0.1:1", "--token", "rr1.abc"), 1,
        "rackroll-agent: token is not a Rackroll token");
  }

  @Test
  void agentConfigTypoIsNamedWithItsLine() throws Exception {
    Path config = dir.resolve("typo.yaml");
    Files.writeString(config, "controller: 127.0.0.1:1\nstatedir: /tmp/x\n");
    assertOneLineError(fleet.rackrollAgent("run", "--config", config.toString()), 1,
        "line 2: unknown key \"statedir\"");
  }

  @Test
  void reconfigureAndFlagMistakesSayWhatToGive() {
    assertOneLineError(fleet.rackroll("deploy", "web@1", "--reconfigure", "--env", "staging"), 1,
        "rackroll: --reconfigure redeploys the version staging runs: give the application name only (web)");
    assertOneLineError(fleet.rackroll("deploy", "web", "--reconfigure", "--env", "staging", "-l", "rack=r1"), 1,
        "rackroll: --reconfigure takes the environment's hosts; leave out --selector");
    // Usage errors: status 2, as the README says, with where to read more.
    assertOneLineError(fleet.rackroll("deploy", "web@1", "--env", "staging"), 2,
        "rackroll: --env goes with --reconfigure; to deploy to an environment use 'rackroll promote web@1 --to staging'"
            + " (see 'rackroll deploy --help')");
    assertOneLineError(fleet.rackroll("deploy", "web@1"), 2,
        "rackroll: deploy needs --selector EXPR (which agents), e.g. -l 'role=web,rack=r1' (see 'rackroll deploy --help')");
    assertOneLineError(fleet.rackroll("flag", "set", "web", "a=1", "a=2", "--env", "staging"), 1,
        "rackroll: flag a is given twice; give each flag once");
    assertOneLineError(fleet.rackroll("flag", "unset", "web", "9a", "--env", "staging"), 1,
        "rackroll: flag name \"9a\": expected a letter");
    assertOneLineError(fleet.rackroll("flag", "set", "web", "a=1"), 2, "--env");
    assertOneLineError(fleet.rackroll("flag", "set", "web", "a=1", "--env", "staging"), 1,
        "rackroll: no environment \"staging\" (defined: none; apply an environments file with 'rackroll env apply -f FILE')");
  }

  @Test
  void noneOfThisChangedTheFleet() throws Exception {
    await("controller answering").atMost(Duration.ofSeconds(30)).until(() -> fleet.rackroll("agents").exit() == 0);
    assertThat(fleet.agents().keySet()).allSatisfy(id -> assertThat(id).startsWith("ag-"));
  }
}
