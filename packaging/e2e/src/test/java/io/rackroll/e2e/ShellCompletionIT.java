package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The completion scripts the programs print (and the packages install) complete in bash and zsh. */
class ShellCompletionIT {
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  @TempDir Path dir;

  @Test
  void bashCompletesCommandsOptionsAndValues() throws Exception {
    Path rackroll = script(Fleet.CONTROLLER_JAR, "bash", "rackroll.bash");
    Path agent = script(Fleet.AGENT_JAR, "bash", "rackroll-agent.bash");
    // As bash calls a completion function: the words so far, the last one being completed.
    String complete = "c() { local f=$1; shift; COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\";"
        + " COMP_POINT=${#COMP_LINE}; COMPREPLY=(); $f 2>/dev/null; echo \"${COMPREPLY[*]}\"; };";
    Cmd r = Cmd.run("bash", "-c", "source " + rackroll + "; source " + agent + "; " + complete
        + " c _complete_rackroll rackroll dep;"
        + " c _complete_rackroll rackroll deploy --ba;"
        + " c _complete_rackroll rackroll completion '';"
        + " c _complete_rackroll-agent rackroll-agent en");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out().lines()).containsExactly("deploy deployment deployments", "--batch", "bash zsh", "enroll");
    assertThat(Files.readString(rackroll)).as("hidden commands stay hidden").doesNotContain("warm-up");
  }

  @Test
  void zshCompletesFromItsFunctionPath() throws Exception {
    assumeTrue(Cmd.run("sh", "-c", "command -v zsh").exit() == 0, "needs zsh");
    Path fpath = Files.createDirectories(dir.resolve("fpath"));
    script(Fleet.CONTROLLER_JAR, "zsh", "fpath/_rackroll");
    Path driver = dir.resolve("complete.zsh");
    Files.copy(Path.of(getClass().getResource("/completion/complete.zsh").toURI()), driver);
    Cmd r = Cmd.run("timeout", "60", "zsh", "-f", driver.toString(), fpath.toString());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out().trim().split("\\s+")).containsExactly("deploy", "deployment", "deployments");
  }

  /** What {@code JAR completion SHELL} prints, in {@code name} under the test's directory. */
  private Path script(Path jar, String shell, String name) throws Exception {
    Cmd r = Cmd.run(JAVA, "-jar", jar.toString(), "completion", shell);
    assertThat(r.exit()).as(r.toString()).isZero();
    return Files.writeString(dir.resolve(name), r.out());
  }
}
