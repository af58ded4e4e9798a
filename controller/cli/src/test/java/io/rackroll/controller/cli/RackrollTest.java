package io.rackroll.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The CLI builds only the command asked for; help and mistakes still see every command. */
class RackrollTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream stdout;
  private PrintStream stderr;

  @BeforeEach
  void capture() {
    stdout = System.out;
    stderr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    System.setOut(stdout);
    System.setErr(stderr);
  }

  @Test
  void everyCommandsHelpFormatsCleanly() {
    java.util.List<picocli.CommandLine> all = new java.util.ArrayList<>();
    java.util.Deque<picocli.CommandLine> todo = new java.util.ArrayDeque<>();
    picocli.CommandLine root = new picocli.CommandLine(new Rackroll());
    Rackroll.COMMANDS.forEach(root::addSubcommand);
    todo.add(root);
    while (!todo.isEmpty()) {
      picocli.CommandLine c = todo.pop();
      all.add(c);
      todo.addAll(c.getSubcommands().values());
    }
    for (picocli.CommandLine c : all) {
      assertThat(c.getUsageMessage()).as(c.getCommandSpec().qualifiedName()).isNotBlank();
    }
    assertThat(all).hasSizeGreaterThan(20);
    assertThat(err.toString(StandardCharsets.UTF_8)).as("picocli's warnings (an unescaped %, say)").isEmpty();
  }

  @Test
  void aMissingSelectorIsAUsageError() {
    assertThat(Rackroll.run("deploy", "web@1")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8).strip()).isEqualTo("rackroll: deploy needs --selector EXPR"
        + " (which agents), e.g. -l 'role=web,rack=r1' (see 'rackroll deploy --help')");
  }

  @Test
  void theWarmUpMakesARealAdminCallAndLeavesNothingBehindNorInTheHelp() throws Exception {
    java.nio.file.Path tmp = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"));
    java.util.Set<String> before;
    try (var files = java.nio.file.Files.list(tmp)) {
      before = files.map(java.nio.file.Path::toString).filter(f -> f.contains("rackroll-warm-up"))
          .collect(java.util.stream.Collectors.toSet());
    }
    assertThat(Rackroll.run("warm-up")).isZero();
    AdminClient.release();
    try (var files = java.nio.file.Files.list(tmp)) {
      assertThat(files.map(java.nio.file.Path::toString).filter(f -> f.contains("rackroll-warm-up")))
          .containsExactlyInAnyOrderElementsOf(before);
    }
    assertThat(Rackroll.run("--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("warm-up");
  }

  @Test
  void helpListsEveryCommand() {
    assertThat(Rackroll.run("--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("controller", "token", "agents", "deploy", "rollback",
        "deployments", "promote", "flags", "status", "demo", "simulate", "help");
  }

  @Test
  void aCommandsOwnHelpAndHelpForACommandWork() {
    assertThat(Rackroll.run("--debug", "flag", "set", "--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("Usage: rackroll flag set", "--env");
    out.reset();
    assertThat(Rackroll.run("help", "promote")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("Usage: rackroll promote");
  }

  @Test
  void aMistypedCommandIsAnsweredWithTheOnesThatExist() {
    assertThat(Rackroll.run("deplyo", "web@1")).isEqualTo(Rackroll.EXIT_USAGE);
    assertThat(err.toString(StandardCharsets.UTF_8).strip()).isEqualTo("rackroll: Unmatched arguments from index 0:"
        + " 'deplyo', 'web@1'; did you mean deploy or deployment or deployments? (see 'rackroll --help')");
    err.reset();
    assertThat(Rackroll.run("deployment", "shwo", "d-1")).isEqualTo(Rackroll.EXIT_USAGE);
    assertThat(err.toString(StandardCharsets.UTF_8).strip()).isEqualTo("rackroll: Unmatched arguments from index 1:"
        + " 'shwo', 'd-1'; did you mean show? (see 'rackroll deployment --help')");
  }
}
