package io.rackroll.controller.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.rackroll.proto.v1.CreateTokenRequest;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.RollbackRequest;
import io.rackroll.proto.v1.SetFlagsRequest;
import io.rackroll.proto.v1.SetSecretRequest;
import org.junit.jupiter.api.Test;

/** The door every admin request passes: names by field, one table, one line per refusal. */
class RequestNamesTest {
  @Test
  void namesThatCouldBecomePathsAreRefusedWithOneLine() {
    assertThat(RequestNames.problem(RollbackRequest.newBuilder().setName("../../../x").setSelector("rack=r1").build()))
        .contains("app name: ../../../x (expected: 1-63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit)");
    assertThat(RequestNames.problem(SetFlagsRequest.newBuilder().setApp("../x").setEnvironment("prod")
        .putChanges("a", "\"b\"").build())).get().asString().startsWith("app name: ../x");
    assertThat(RequestNames.problem(SetFlagsRequest.newBuilder().setApp("web").setEnvironment("prod")
        .putChanges("../a", "1").build())).get().asString().startsWith("flag name: ../a");
    assertThat(RequestNames.problem(DeployRequest.newBuilder().setName("a".repeat(10_000)).setVersion("1").build()))
        .get().asString().hasSizeLessThan(250).contains("(10000 characters)");
    assertThat(RequestNames.problem(DeployRequest.newBuilder().setName("web").setVersion("1.0/../../x").build()))
        .get().asString().startsWith("version: 1.0/../../x");
    assertThat(RequestNames.problem(CreateTokenRequest.newBuilder().putLabels("rack", "r1;rm").build()))
        .get().asString().startsWith("label value: r1;rm");
  }

  @Test
  void wellFormedRequestsAndFieldsThatAreNotNamesPass() {
    assertThat(RequestNames.problem(DeployRequest.newBuilder().setName("web").setVersion("1.4.2+b7")
        .setSelector("rack in (r1,r2)").putOptions("batch", "2").build())).isEmpty();
    // A secret's name is a variable name, not an app name: the table has the exception.
    assertThat(RequestNames.problem(SetSecretRequest.newBuilder().setEnvironment("prod").setName("DB_PASSWORD")
        .setValue("s3cret/../x").build())).isEmpty();
  }

  @Test
  void longDescriptionsAreShortenedBeforeTheyBecomeAHeader() {
    Status s = RequestNames.shorten(Status.NOT_FOUND.withDescription("x".repeat(50_000)));
    assertThat(s.getDescription()).hasSizeLessThan(RequestNames.MAX_DESCRIPTION + 40).endsWith("(50000 characters)");
    assertThat(RequestNames.shorten(Status.OK)).isSameAs(Status.OK);
  }
}
