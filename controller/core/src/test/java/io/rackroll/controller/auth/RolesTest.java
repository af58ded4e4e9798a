package io.rackroll.controller.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.controller.testing.TestController;
import io.rackroll.proto.v1.AdminGrpc.AdminBlockingStub;
import io.rackroll.proto.v1.AdminRecord;
import io.rackroll.proto.v1.AuditRecord;
import io.rackroll.proto.v1.CreateTokenRequest;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.ListAdminsRequest;
import io.rackroll.proto.v1.ListAgentsRequest;
import io.rackroll.proto.v1.ListAuditRequest;
import io.rackroll.proto.v1.PromoteRequest;
import io.rackroll.proto.v1.RevokeAdminRequest;
import io.rackroll.proto.v1.SetSecretRequest;
import io.rackroll.trust.Keys;
import io.rackroll.trust.PeerIdentity;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Named admins over real mutual TLS: each role's calls, refusals that name the role, revocation at once. */
class RolesTest {
  @TempDir Path dir;
  private TestController controller;

  @BeforeEach
  void start() throws Exception {
    controller = TestController.start(dir.resolve("data"));
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  private static String refusal(Executable call) {
    try {
      call.execute();
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    throw new AssertionError("not refused");
  }

  private static DeployRequest deploy(String selector) {
    return DeployRequest.newBuilder().setName("web").setVersion("1").setSelector(selector).build();
  }

  @Test
  void eachRoleMayDoItsJobAndNoMoreAndEveryRefusalNamesTheRoleItNeeds() {
    AdminBlockingStub vera = controller.addAdmin("vera", "viewer");
    AdminBlockingStub dave = controller.addAdmin("dave", "deployer");
    AdminBlockingStub olga = controller.addAdmin("olga", "operator");

    // A viewer reads.
    assertThat(vera.listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList()).isEmpty();
    assertThat(vera.listAdmins(ListAdminsRequest.getDefaultInstance()).getAdminsList()).extracting(AdminRecord::getName)
        .containsExactly("admin", "dave", "olga", "vera");
    assertThat(refusal(() -> vera.deploy(deploy("rack=r1")))).isEqualTo("PERMISSION_DENIED: admin vera (viewer) may"
        + " not call Deploy: needs the deployer role or above");

    // A deployer deploys (refused here only because nothing matches), but no override, token or secret.
    assertThat(refusal(() -> dave.deploy(deploy("rack=r1")))).startsWith("FAILED_PRECONDITION: no release web@1");
    assertThat(refusal(() -> dave.deploy(deploy("rack=r1").toBuilder().setOverrideWindowReason("urgent").build())))
        .isEqualTo("PERMISSION_DENIED: admin dave (deployer) may not go ahead outside change windows"
            + " (--override-window): that needs the operator role or above");
    assertThat(refusal(() -> dave.promote(PromoteRequest.newBuilder().setName("web").setVersion("1")
        .setEnvironment("production").setForceReason("hotfix").build())))
        .isEqualTo("PERMISSION_DENIED: admin dave (deployer) may not promote past the lifecycle (--force): that needs"
            + " the operator role or above");
    assertThat(refusal(() -> dave.createToken(CreateTokenRequest.newBuilder().putLabels("rack", "r1").build())))
        .isEqualTo("PERMISSION_DENIED: admin dave (deployer) may not call CreateToken: needs the operator role or"
            + " above");

    // An operator runs the fleet, and forces past a window; people and secrets stay with owners.
    assertThat(olga.createToken(CreateTokenRequest.newBuilder().putLabels("rack", "r1").build()).getToken()).isNotEmpty();
    assertThat(refusal(() -> olga.deploy(deploy("rack=r1").toBuilder().setOverrideWindowReason("urgent").build())))
        .startsWith("FAILED_PRECONDITION: no release web@1");
    assertThat(refusal(() -> olga.setSecret(SetSecretRequest.newBuilder().setEnvironment("production")
        .setName("db.password").setValue("x").build()))).isEqualTo("PERMISSION_DENIED: admin olga (operator) may not"
            + " call SetSecret: needs the owner role or above");

    // Who did what is in the audit under their own names, refusals included.
    List<AuditRecord> olgas = controller.admin().listAudit(ListAuditRequest.newBuilder().setWho("olga").build())
        .getEntriesList();
    assertThat(olgas).extracting(AuditRecord::getAction).containsExactly("refused", "token create");
    assertThat(olgas.get(0).getTarget()).isEqualTo("SetSecret");
    assertThat(controller.admin().listAudit(ListAuditRequest.newBuilder().setWho("vera").build()).getEntriesList())
        .singleElement().satisfies(e -> assertThat(e.getDetail()).isEqualTo("needs the deployer role or above;"
            + " vera is viewer"));
    assertThat(controller.admin().listAudit(ListAuditRequest.newBuilder().setWho("admin").build()).getEntriesList())
        .extracting(AuditRecord::getAction).containsOnly("admin add");
  }

  /**
   * Every call of the admin service, by every role, over the wire: refused for its role exactly
   * when the table says so, and every call of the service is in the table (deny by default would
   * make a forgotten one unusable).
   */
  @Test
  void everyCallIsAllowedOrRefusedToEachRoleAsTheTableSays() {
    java.util.Map<AdminRole, AdminBlockingStub> as = new java.util.EnumMap<>(AdminRole.class);
    for (AdminRole role : AdminRole.values()) {
      as.put(role, controller.addAdmin("sweep-" + role.label(), role.label()));
    }
    int checked = 0;
    for (io.grpc.MethodDescriptor<?, ?> m : io.rackroll.proto.v1.AdminGrpc.getServiceDescriptor().getMethods()) {
      String name = m.getBareMethodName();
      AdminRole needed = Permissions.required(name).orElseThrow(() -> new AssertionError(name + " is in no role's"
          + " table: nobody may call it"));
      if (m.getType() != io.grpc.MethodDescriptor.MethodType.UNARY) {
        continue; // PushRelease streams: its role is checked before any message, like every call's
      }
      for (AdminRole role : AdminRole.values()) {
        String outcome = unary(as.get(role), m);
        String denied = "PERMISSION_DENIED: admin sweep-" + role.label() + " (" + role.label() + ") may not call "
            + name + ": needs the " + needed.label() + " role or above";
        if (role.atLeast(needed)) {
          assertThat(outcome).as("%s by a %s", name, role.label()).doesNotStartWith(denied);
        } else {
          assertThat(outcome).as("%s by a %s", name, role.label()).isEqualTo(denied);
        }
        checked++;
      }
    }
    assertThat(checked).as("calls swept, four roles each").isGreaterThanOrEqualTo(4 * 30);
  }

  /** Calls unary {@code m} with an empty request; "OK" or "CODE: description". */
  @SuppressWarnings("unchecked")
  private static String unary(AdminBlockingStub stub, io.grpc.MethodDescriptor<?, ?> m) {
    io.grpc.MethodDescriptor<Object, Object> method = (io.grpc.MethodDescriptor<Object, Object>) m;
    Object empty = ((io.grpc.MethodDescriptor.PrototypeMarshaller<Object>) method.getRequestMarshaller())
        .getMessagePrototype();
    try {
      io.grpc.stub.ClientCalls.blockingUnaryCall(stub.getChannel(), method,
          io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS), empty);
      return "OK";
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    }
  }

  @Test
  void aRevokedAdminIsRefusedAtOnceAndAfterARestartAndANameGivenAgainGetsANewCertificate() throws Exception {
    KeyPair key = Keys.newKeyPair();
    var certificate = controller.issueAdmin("dave", "deployer", key);
    AdminBlockingStub dave = controller.adminWith(key.getPrivate(), certificate);
    assertThat(dave.listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList()).isEmpty();

    assertThat(controller.admin().revokeAdmin(RevokeAdminRequest.newBuilder().setName("dave").setReason("left")
        .build()).getSerialsList()).hasSize(1);
    // The same connection, the next call: refused.
    assertThat(refusal(() -> dave.listAgents(ListAgentsRequest.getDefaultInstance())))
        .startsWith("PERMISSION_DENIED: certificate ").endsWith(" of admin dave was revoked; ask an owner for a new one"
            + " (rackroll admin add)");
    assertThat(refusal(() -> controller.admin().revokeAdmin(RevokeAdminRequest.newBuilder().setName("dave").build())))
        .isEqualTo("NOT_FOUND: no active admin dave (see 'rackroll admin list')");
    assertThat(refusal(() -> controller.admin().revokeAdmin(RevokeAdminRequest.newBuilder().setName("admin").build())))
        .isEqualTo("FAILED_PRECONDITION: an owner cannot revoke itself; another owner must ('rackroll admin revoke"
            + " admin')");

    controller = controller.restart();
    AdminBlockingStub daveAfterRestart = controller.adminWith(key.getPrivate(), certificate);
    assertThat(refusal(() -> daveAfterRestart.listAgents(ListAgentsRequest.getDefaultInstance()))).contains("was revoked");
    AdminBlockingStub again = controller.addAdmin("dave", "viewer");
    assertThat(again.listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList()).isEmpty();
    assertThat(refusal(() -> controller.adminWith(key.getPrivate(), certificate)
        .listAgents(ListAgentsRequest.getDefaultInstance()))).as("the old certificate stays refused").contains("was revoked");
    assertThat(controller.admin().listAdmins(ListAdminsRequest.getDefaultInstance()).getAdminsList())
        .filteredOn(a -> a.getName().equals("dave")).singleElement()
        .satisfies(a -> assertThat(a.getRole()).isEqualTo("viewer"));
  }

  @Test
  void anAdminRenewsItsOwnCertificateForTheSameKeyNameAndRole() throws Exception {
    KeyPair key = Keys.newKeyPair();
    var first = controller.issueAdmin("dave", "deployer", key);
    var renewed = controller.adminWith(key.getPrivate(), first).renewAdmin(
        io.rackroll.proto.v1.RenewAdminRequest.getDefaultInstance());
    var second = io.rackroll.trust.Pem.certificates(renewed.getCertificatePem());
    assertThat(second.get(0).getSerialNumber()).isNotEqualTo(first.get(0).getSerialNumber());
    assertThat(second.get(0).getPublicKey()).isEqualTo(key.getPublic());
    assertThat(PeerIdentity.of(second.get(0))).contains(PeerIdentity.admin("dave"));

    AdminBlockingStub dave = controller.adminWith(key.getPrivate(), second);
    assertThat(refusal(() -> dave.createToken(CreateTokenRequest.newBuilder().putLabels("rack", "r1").build())))
        .as("the role stays").contains("(deployer) may not call CreateToken");
    assertThat(controller.admin().listAdmins(ListAdminsRequest.getDefaultInstance()).getAdminsList())
        .filteredOn(a -> a.getName().equals("dave")).singleElement()
        .satisfies(a -> assertThat(a.getCertificates()).isEqualTo(2));
    assertThat(controller.admin().listAudit(ListAuditRequest.newBuilder().setWho("dave").build()).getEntriesList())
        .extracting(AuditRecord::getAction).contains("admin renew");

    // Revoking the name refuses both certificates: renewal made no way around it.
    assertThat(controller.admin().revokeAdmin(RevokeAdminRequest.newBuilder().setName("dave").build())
        .getSerialsList()).hasSize(2);
    assertThat(refusal(() -> dave.listAgents(ListAgentsRequest.getDefaultInstance()))).contains("was revoked");
  }

  @Test
  void aCertificateOfTheCaForSomeoneNeverAddedIsRefusedAndTheFirstAdminIsAnOwner() {
    // A certificate the CA signed (say, by hand with its key) for a name no owner added.
    KeyPair pair = Keys.newKeyPair();
    var cert = controller.pki.ca().issueClient(PeerIdentity.admin("mallory"), pair.getPublic(), ControllerPki.ADMIN_LIFETIME);
    AdminBlockingStub mallory = controller.adminWith(pair.getPrivate(), List.of(cert));
    assertThat(refusal(() -> mallory.listAgents(ListAgentsRequest.getDefaultInstance()))).isEqualTo("PERMISSION_DENIED:"
        + " admin mallory is not an admin of this controller (revoked, or never added); ask an owner: rackroll admin add"
        + " mallory");
    assertThat(controller.admin().listAdmins(ListAdminsRequest.getDefaultInstance()).getAdminsList()).singleElement()
        .satisfies(a -> {
          assertThat(a.getName()).isEqualTo("admin");
          assertThat(a.getRole()).isEqualTo("owner");
          assertThat(a.getCertificates()).as("the init certificate, recorded at start").isEqualTo(1);
        });
    assertThat(refusal(() -> controller.admin().addAdmin(io.rackroll.proto.v1.AddAdminRequest.newBuilder()
        .setName("eve").setRole("root").setCsrPem("x").build()))).isEqualTo("FAILED_PRECONDITION: role \"root\""
            + " (expected: viewer, deployer, operator or owner)");
    assertThat(refusal(() -> controller.admin().addAdmin(io.rackroll.proto.v1.AddAdminRequest.newBuilder()
        .setName("eve").setRole("viewer").setCsrPem("not a request").build())))
        .startsWith("FAILED_PRECONDITION: the certificate request is not a valid PKCS#10 request");
  }
}
