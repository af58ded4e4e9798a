package io.rackroll.controller.release;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import io.rackroll.controller.testing.WireFleet;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.CreateTokenRequest;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.GetReleaseRequest;
import io.rackroll.proto.v1.ListAuditRequest;
import io.rackroll.proto.v1.PlanRequest;
import io.rackroll.proto.v1.PlannedHost;
import io.rackroll.proto.v1.PushKeyStatementRequest;
import io.rackroll.proto.v1.PushReleaseResponse;
import io.rackroll.proto.v1.ReleaseTrust;
import io.rackroll.release.Artifact;
import io.rackroll.trust.KeyStatement;
import io.rackroll.trust.ReleaseKey;
import io.rackroll.trust.ReleaseSignature;
import io.rackroll.wire.ReleaseUpload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller's part in signed releases, at the wire: it keeps a release's signature and
 * sends it with the deploy, hands key statements to every host (in each welcome, and at once to
 * connected ones), gives a token's keys at enrollment, and tells from reported facts which hosts
 * would refuse. It never decides trust: that is the hosts' (see SigningIT).
 */
class SignedReleasesTest {
  @TempDir Path dir;
  private TestController controller;
  private WireFleet hosts;
  private final KeyPair key = ReleaseKey.generate();

  @BeforeEach
  void start() throws Exception {
    controller = TestController.start(dir.resolve("data"));
    hosts = new WireFleet(controller);
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  private Path pack(String version) throws Exception {
    Path src = Files.createDirectories(dir.resolve("web-" + version));
    Files.writeString(src.resolve("rackroll.yaml"), "name: web\nversion: \"" + version + "\"\n");
    Path artifact = dir.resolve("web-" + version + ".tar.gz");
    Artifact.pack(src, artifact);
    return artifact;
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  private PushReleaseResponse push(Path artifact, String signature) throws Exception {
    return ReleaseUpload.upload(AdminGrpc.newStub(controller.admin().getChannel()), artifact, Files.size(artifact),
        signature);
  }

  private static Facts trusting(boolean required, String... keyIds) {
    return RawAgent.facts("host", "serial").toBuilder().setReleaseTrust(ReleaseTrust.newBuilder()
        .setRequireSigned(required).addAllKeyIds(java.util.List.of(keyIds))).build();
  }

  @Test
  void aSignatureIsKeptSentWithTheDeployAndReplacedByAPushOfTheSameBytes() throws Exception {
    Path v1 = pack("1");
    String signature = ReleaseSignature.sign(key.getPrivate(), "web", "1", sha256(v1)).format();
    String keyId = ReleaseKey.of(key.getPublic()).id();
    assertThat(push(v1, "").getRelease().getSignedBy()).isEmpty();
    PushReleaseResponse signed = push(v1, signature);
    assertThat(signed.getAlreadyPresent()).isTrue();
    assertThat(signed.getRelease().getSignedBy()).isEqualTo(keyId);
    assertThat(signed.getSignatureWarning()).isEmpty();
    assertThat(controller.admin().getRelease(GetReleaseRequest.newBuilder().setName("web").setVersion("1").build())
        .getSignedBy()).isEqualTo(keyId);
    assertThat(controller.admin().listAudit(ListAuditRequest.getDefaultInstance()).getEntriesList())
        .anyMatch(a -> a.getAction().equals("release sign") && a.getDetail().equals("key " + keyId));

    RawAgent.Stream s = hosts.connect("a1", Map.of("rack", "r1"));
    controller.admin().deploy(DeployRequest.newBuilder().setName("web").setVersion("1").setSelector("rack=r1").build());
    Deploy d = WireFleet.command(s);
    assertThat(ReleaseSignature.parse(d.getSignature()).keyId()).isEqualTo(keyId);

    // A signature of the wrong form is refused at push; another release's is kept with a warning.
    try {
      push(pack("2"), "not a signature");
      throw new AssertionError("accepted");
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).startsWith("the release signature does not start with");
    }
    assertThat(push(pack("3"), signature).getSignatureWarning()).startsWith("the signature is for web@1 (sha256 ")
        .endsWith("not this artifact: hosts that require signatures will refuse web@3; sign this artifact and push it"
            + " again with its signature");
  }

  @Test
  void planNamesTheHostsWhoseOwnPolicyWillRefuseTheRelease() throws Exception {
    Path v1 = pack("1");
    push(v1, ReleaseSignature.sign(key.getPrivate(), "web", "1", sha256(v1)).format());
    push(pack("2"), "");
    String keyId = ReleaseKey.of(key.getPublic()).id();
    hosts.connect("strict", Map.of("rack", "r1"), trusting(true, keyId));
    hosts.connect("other-key", Map.of("rack", "r1"), trusting(true, "0123456789abcdef"));
    hosts.connect("loose", Map.of("rack", "r1"), trusting(false));
    assertThat(plan("1")).extracting(PlannedHost::getAgentId, PlannedHost::getNote).containsExactly(
        org.assertj.core.groups.Tuple.tuple("other-key", "does not trust key " + keyId + ", which signed web@1"));
    assertThat(plan("2")).extracting(PlannedHost::getAgentId).containsExactlyInAnyOrder("strict", "other-key");
    assertThat(plan("2")).allSatisfy(h -> assertThat(h.getNote()).isEqualTo("requires signed releases; web@2 is"
        + " unsigned"));
  }

  private java.util.List<PlannedHost> plan(String version) {
    return controller.admin().plan(PlanRequest.newBuilder().setDeploy(DeployRequest.newBuilder().setName("web")
        .setVersion(version).setSelector("rack=r1")).build()).getWouldRefuseList();
  }

  @Test
  void keyStatementsReachConnectedHostsAtOnceAndEveryHostAtItsWelcome() throws Exception {
    RawAgent.Stream connected = hosts.connect("a1", Map.of("rack", "r1"));
    ReleaseKey next = ReleaseKey.of(ReleaseKey.generate().getPublic());
    String statement = KeyStatement.sign(key.getPrivate(), KeyStatement.Action.TRUST, next, Instant.now()).format();
    var pushed = controller.admin().pushKeyStatement(PushKeyStatementRequest.newBuilder().setStatement(statement)
        .build());
    assertThat(pushed.getStatementsList()).singleElement().satisfies(r -> {
      assertThat(r.getAction()).isEqualTo("trust");
      assertThat(r.getSubjectKey()).isEqualTo(next.id());
      assertThat(r.getSignedBy()).isEqualTo(ReleaseKey.of(key.getPublic()).id());
      assertThat(r.getPushedBy()).isEqualTo("admin");
    });
    assertThat(trustKeys(connected)).containsExactly(statement);
    // The same statement again is kept once.
    controller.admin().pushKeyStatement(PushKeyStatementRequest.newBuilder().setStatement(statement).build());
    assertThat(trustKeys(connected)).containsExactly(statement);

    // A host that connects later, or after a restart of the controller, gets it in its welcome.
    controller = controller.restart();
    RawAgent late = new RawAgent("late");
    late.enroll(controller, controller.token(Map.of("rack", "r2"), 1));
    RawAgent.Stream s = late.connect(controller, late.id, RawAgent.facts("late", "s"));
    ControllerMessage welcome = s.next();
    assertThat(welcome.getWelcome().getKeyStatementsList()).containsExactly(statement);

    try {
      controller.admin().pushKeyStatement(PushKeyStatementRequest.newBuilder().setStatement("trust me").build());
      throw new AssertionError("accepted");
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getDescription()).startsWith("the key statement does not start with");
    }
  }

  private static java.util.List<String> trustKeys(RawAgent.Stream s) throws InterruptedException {
    while (true) {
      ControllerMessage m = s.next();
      if (m.hasCommand() && m.getCommand().getKindCase() == Command.KindCase.TRUST_KEYS) {
        return m.getCommand().getTrustKeys().getStatementsList();
      }
    }
  }

  @Test
  void aTokenGivesTheHostItEnrollsItsReleaseKeys() throws Exception {
    String line = ReleaseKey.of(key.getPublic()).format("release-2026");
    String token = controller.admin().createToken(CreateTokenRequest.newBuilder().putLabels("rack", "r1")
        .addReleaseKeys(line).build()).getToken();
    var enrolled = new RawAgent("h").enroll(controller, token);
    assertThat(enrolled.getReleaseKeysList()).containsExactly(ReleaseKey.of(key.getPublic()).format(""));
    try {
      controller.admin().createToken(CreateTokenRequest.newBuilder().putLabels("rack", "r1").addReleaseKeys("ssh-rsa x")
          .build());
      throw new AssertionError("accepted");
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).startsWith("a release key is one line");
    }
  }
}
