package io.rackroll.controller.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.controller.env.Environments;
import io.rackroll.controller.env.EnvironmentsFile;
import io.rackroll.controller.store.DeploymentStore.EnvironmentRun;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromotionsTest {
  private static final Instant T = Instant.parse("2026-11-23T10:00:00Z");
  private static final Environments ENVS = EnvironmentsFile.parse("""
      lifecycle: [dev, test, production]
      environments:
        dev: {selector: env=dev}
        test: {selector: env=test}
        production: {selector: env=prod}
        lab: {selector: env=lab}
      """, "envs.yaml", 1, "admin", T);

  private static EnvironmentRun run(String version, String env, String state, int hosts, int failed) {
    return new EnvironmentRun("d-" + env + version + state, version, env, state, T, hosts, failed);
  }

  @Test
  void theFirstEnvironmentTakesAnyRelease() {
    assertThat(Promotions.refusal(ENVS, "dev", "web", "1.4.2", List.of())).isEmpty();
  }

  @Test
  void eachLaterOneNeedsACompletedPromotionInTheOneBefore() {
    assertThat(Promotions.refusal(ENVS, "test", "web", "1.4.2", List.of(run("1.4.2", "dev", "completed", 3, 0))))
        .isEmpty();
    // Completed once is enough, even if a later attempt failed (the release itself proved good there).
    assertThat(Promotions.refusal(ENVS, "production", "web", "1.4.2", List.of(run("1.4.2", "test", "aborted", 12, 0),
        run("1.4.2", "test", "completed", 12, 0)))).isEmpty();
    // Another version's success, or this version's success two steps back, does not count.
    assertThat(Promotions.refusal(ENVS, "production", "web", "1.4.2", List.of(run("1.4.1", "test", "completed", 12, 0),
        run("1.4.2", "dev", "completed", 3, 0))))
        .contains("web@1.4.2 has not been promoted to test (before production in the lifecycle); promote it there"
            + " first: rackroll promote web@1.4.2 --to test");
  }

  @Test
  void theRefusalSaysHowTheLastAttemptEnded() {
    assertThat(Promotions.refusal(ENVS, "production", "web", "1.4.2", List.of(run("1.4.2", "test", "failed", 12, 2))))
        .contains("web@1.4.2 has not completed in test; last attempt failed on 2 of 12 hosts (deployment d-test1.4.2failed)");
    assertThat(Promotions.refusal(ENVS, "production", "web", "1.4.2", List.of(run("1.4.2", "test", "aborted", 12, 0))))
        .contains("web@1.4.2 has not completed in test; last attempt was aborted (deployment d-test1.4.2aborted)");
    assertThat(Promotions.refusal(ENVS, "production", "web", "1.4.2", List.of(run("1.4.2", "test", "running", 12, 0))))
        .contains("web@1.4.2 is still rolling out in test (deployment d-test1.4.2running, running); promote it once"
            + " that completes");
  }

  @Test
  void onlyDeclaredEnvironmentsInTheLifecycle() {
    assertThat(Promotions.refusal(ENVS, "staging", "web", "1", List.of()))
        .contains("no environment \"staging\" (defined: dev, test, production, lab)");
    assertThat(Promotions.refusal(ENVS, "lab", "web", "1", List.of())).contains("lab is not in the lifecycle"
        + " (dev -> test -> production); add it to \"lifecycle\" in the environments file, or deploy to its agents"
        + " with 'rackroll deploy'");
    assertThat(Promotions.refusal(Environments.NONE, "production", "web", "1", List.of()))
        .contains("no environments are defined; apply a file first with 'rackroll env apply -f FILE'");
  }
}
