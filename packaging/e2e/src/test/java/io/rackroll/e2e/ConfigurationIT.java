package io.rackroll.e2e;

import static io.rackroll.e2e.Fleet.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Configuration kept per environment, not in the artifact: one release promoted through staging and
 * production renders its template with each environment's values on each host's disk, its hooks see
 * them, and production's secret reaches production's hosts and nowhere else: not the staging
 * host, not the controller's data directory, logs or audit, not any CLI output.
 */
class ConfigurationIT {
  private static final String PROD_SECRET = "prod-S3cret-7f1e9a";
  private static final String STAGING_SECRET = "staging-pw-2b4c";

  @TempDir Path dir;

  @Test
  void eachEnvironmentsValuesReachOnlyItsHosts() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      Fleet.Agent staging = fleet.startAgentWith("staging-1", "env=staging,rack=r1");
      Fleet.Agent prod = fleet.startAgentWith("prod-1", "env=prod,rack=r2");
      fleet.awaitConnected(2);
      List<Fleet.Cli> outputs = new ArrayList<>();

      Path file = dir.resolve("environments.yaml");
      Files.writeString(file, """
          lifecycle: [staging, production]
          environments:
            staging:
              selector: env=staging
              strategy: {healthGate: 1s}
              variables: {greeting: hello from staging, port: "8081"}
            production:
              selector: env=prod
              strategy: {healthGate: 1s}
              variables: {greeting: hello from production, port: "80"}
          """);
      outputs.add(ok(fleet.rackroll("env", "apply", "-f", file.toString())));
      outputs.add(ok(fleet.rackrollWithInput(PROD_SECRET + "\n", "env", "secret", "set", "production", "db.password")));
      outputs.add(ok(fleet.rackrollWithInput(STAGING_SECRET + "\n", "env", "secret", "set", "staging", "db.password")));
      Fleet.Cli empty = fleet.rackrollWithInput("", "env", "secret", "set", "staging", "api.key");
      assertThat(empty.exit()).isEqualTo(1);
      assertThat(empty.err().strip()).isEqualTo("rackroll: the value of secret api.key is empty; give it on standard input");

      fleet.web("1")
          .file("config/app.conf", "greeting=${greeting}\nlisten=0.0.0.0:${port}\npassword=${db.password}\nliteral=$${HOME}\n")
          .manifest("templates: [config/app.conf]\n")
          .hook("postInstall", "echo \"$RACKROLL_ENVIRONMENT: $RACKROLL_VAR_GREETING\" > ../../hook-saw", "10s")
          .health("! grep -q broken config/app.conf")
          .push();
      outputs.add(ok(fleet.rackroll("promote", "web@1", "--to", "staging", "--watch")));
      outputs.add(ok(fleet.rackroll("promote", "web@1", "--to", "production", "--watch")));

      // Rendered on each host's disk with its own environment's values; the hooks saw them too.
      assertThat(staging.state.resolve("apps/web/releases/1/config/app.conf")).hasContent(
          "greeting=hello from staging\nlisten=0.0.0.0:8081\npassword=" + STAGING_SECRET + "\nliteral=${HOME}\n");
      assertThat(prod.state.resolve("apps/web/releases/1/config/app.conf")).hasContent(
          "greeting=hello from production\nlisten=0.0.0.0:80\npassword=" + PROD_SECRET + "\nliteral=${HOME}\n");
      assertThat(staging.state.resolve("apps/web/hook-saw")).hasContent("staging: hello from staging\n");
      assertThat(prod.state.resolve("apps/web/hook-saw")).hasContent("production: hello from production\n");

      // A changed value changes no host by itself; 'env diff' names the hosts still on the old one.
      assertThat(ok(fleet.rackroll("env", "diff")).out().strip())
          .isEqualTo("every host runs with its environment's current values (2 app(s))");
      Files.writeString(file, Files.readString(file).replace("hello from staging", "hi from staging"));
      outputs.add(ok(fleet.rackroll("env", "apply", "-f", file.toString())));
      Fleet.Cli diff = ok(fleet.rackroll("env", "diff"));
      assertThat(diff.out()).containsPattern("staging +\\S+ \\(" + staging.id() + "\\) +web@1 +installed with earlier"
          + " values of staging's variables or secrets").contains("1 stale, 1 current");
      outputs.add(diff);
      assertThat(staging.state.resolve("apps/web/releases/1/config/app.conf")).content().contains("hello from staging");

      // A reconfigure rolls today's values out: the same version installed again beside the old one.
      Fleet.Cli noEnv = fleet.rackroll("deploy", "web", "--reconfigure");
      assertThat(noEnv.err().strip()).isEqualTo("rackroll: --reconfigure needs --env ENV: the environment whose values"
          + " to roll out");
      assertThat(fleet.rackroll("deploy", "web", "--reconfigure", "--env", "test").err().strip())
          .isEqualTo("rackroll: no environment \"test\" (defined: staging, production)");
      Fleet.Cli reconfigured = ok(fleet.rackroll("deploy", "web", "--reconfigure", "--env", "staging", "--watch"));
      assertThat(reconfigured.out()).contains("reconfigure", "on 1 host(s)", "completed");
      outputs.add(reconfigured);
      assertThat(staging.state.resolve("apps/web/current/config/app.conf")).content().contains("greeting=hi from staging");
      assertThat(staging.state.resolve("apps/web/releases/1/config/app.conf")).as("kept for the way back")
          .content().contains("greeting=hello from staging");
      assertThat(staging.current("web")).as("release 1 in its own directory").startsWith("1~");
      assertThat(prod.state.resolve("apps/web/current/config/app.conf")).content().contains("hello from production");
      assertThat(ok(fleet.rackroll("env", "diff")).out().strip())
          .isEqualTo("every host runs with its environment's current values (2 app(s))");

      // Values the release cannot run with: the host goes back to the ones it had, by itself.
      Files.writeString(file, Files.readString(file).replace("hi from staging", "broken greeting"));
      outputs.add(ok(fleet.rackroll("env", "apply", "-f", file.toString())));
      Fleet.Cli broken = fleet.rackroll("deploy", "web", "--reconfigure", "--env", "staging", "--watch");
      assertThat(broken.exit()).as(broken.toString()).isNotZero();
      assertThat(broken.out()).contains("[health_failed]", "web@1 (reconfigured) not healthy", "rolled back to 1");
      outputs.add(broken);
      assertThat(staging.state.resolve("apps/web/current/config/app.conf")).content().contains("greeting=hi from staging");

      // Shown by name, masked; the audit says a secret changed, never to what.
      Fleet.Cli show = ok(fleet.rackroll("env", "show", "production"));
      assertThat(show.out()).contains("variables  greeting=hello from production, port=80",
          "secrets    db.password=******** (set by admin at");
      outputs.add(show);
      outputs.add(ok(fleet.rackroll("envs", "-o", "json")));
      Fleet.Cli audit = ok(fleet.rackroll("audit"));
      assertThat(audit.out()).contains("secret set", "production/db.password");
      outputs.add(audit);
      outputs.add(ok(fleet.rackroll("deployments")));

      // Production's secret is on production's host, and nowhere else.
      assertThat(filesContaining(prod.state, PROD_SECRET)).isNotEmpty();
      assertThat(filesContaining(staging.home, PROD_SECRET)).as("the staging host").isEmpty();
      assertThat(filesContaining(fleet.data, PROD_SECRET)).as("the controller's data, database and log").isEmpty();
      assertThat(filesContaining(fleet.data, STAGING_SECRET)).isEmpty();
      assertThat(filesContaining(prod.home, STAGING_SECRET)).as("the production host").isEmpty();
      for (Fleet.Cli out : outputs) {
        assertThat(out.out() + out.err()).doesNotContain(PROD_SECRET, STAGING_SECRET);
      }
      assertThat(prod.log()).doesNotContain(PROD_SECRET);
    }
  }

  /** Every regular file under {@code root} whose bytes hold {@code text}. */
  private static List<Path> filesContaining(Path root, String text) throws IOException {
    byte[] needle = text.getBytes(StandardCharsets.UTF_8);
    try (Stream<Path> all = Files.walk(root)) {
      return all.filter(Files::isRegularFile).filter(p -> contains(p, needle)).toList();
    }
  }

  private static boolean contains(Path file, byte[] needle) {
    try {
      byte[] bytes = Files.readAllBytes(file);
      outer:
      for (int i = 0; i + needle.length <= bytes.length; i++) {
        for (int j = 0; j < needle.length; j++) {
          if (bytes[i + j] != needle[j]) {
            continue outer;
          }
        }
        return true;
      }
      return false;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
