package io.rackroll.controller.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.rackroll.wire.ReleaseUpload;
import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.ArtifactChunk;
import io.rackroll.proto.v1.ArtifactsGrpc;
import io.rackroll.proto.v1.FetchRequest;
import io.rackroll.release.Artifact;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Agents download artifacts from a real controller over TLS: whole, resumed, refused, limited. */
class ArtifactFetchTest {
  @TempDir Path dir;
  private TestController controller;
  private ArtifactsGrpc.ArtifactsBlockingStub agent;
  private String digest;
  private byte[] bytes;

  @BeforeEach
  void start() throws Exception {
    controller = TestController.start(dir.resolve("data"), c -> c.withTransfers(1, 0), JdbcStore::embedded);
    Path src = Files.createDirectories(dir.resolve("src"));
    Files.writeString(src.resolve("rackroll.yaml"), "name: big\nversion: 1\n");
    byte[] payload = new byte[2 << 20];
    new Random(7).nextBytes(payload); // incompressible: the artifact is about 2 MiB, several chunks
    Files.write(src.resolve("payload.bin"), payload);
    Path artifact = dir.resolve("big.tar.gz");
    Artifact.pack(src, artifact);
    bytes = Files.readAllBytes(artifact);
    digest = ReleaseUpload.upload(AdminGrpc.newStub(controller.admin().getChannel()), artifact, bytes.length)
        .getRelease().getDigest();
    RawAgent a = new RawAgent("ag-fetcher");
    a.enroll(controller, controller.token(Map.of("rack", "r1"), 1));
    agent = ArtifactsGrpc.newBlockingStub(a.channel(controller)).withDeadlineAfter(30, TimeUnit.SECONDS);
    // Downloads are for hosts a deployment chose (this one is not connected: it is recorded unreachable).
    chooseForDeployment(controller, "big", "1", "rack=r1");
  }

  private static void chooseForDeployment(TestController c, String app, String version, String selector) {
    c.admin().deploy(io.rackroll.proto.v1.DeployRequest.newBuilder().setName(app).setVersion(version)
        .setSelector(selector).build());
  }

  @Test
  void agentsNotChosenByADeploymentCannotDownload() throws Exception {
    RawAgent outsider = new RawAgent("ag-outsider");
    outsider.enroll(controller, controller.token(Map.of("rack", "r9"), 1));
    var stub = ArtifactsGrpc.newBlockingStub(outsider.channel(controller)).withDeadlineAfter(30, TimeUnit.SECONDS);
    assertThatThrownBy(() -> stub.fetch(FetchRequest.newBuilder().setDigest(digest).build()).hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("was not chosen by any deployment");
        });
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  private static byte[] drain(Iterator<ArtifactChunk> chunks, long[] expectedStart) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long next = expectedStart[0];
    while (chunks.hasNext()) {
      ArtifactChunk c = chunks.next();
      assertThat(c.getOffset()).isEqualTo(next);
      assertThat(c.getData().size()).isBetween(1, 1 << 20);
      next += c.getData().size();
      out.writeBytes(c.getData().toByteArray());
    }
    return out.toByteArray();
  }

  @Test
  void wholeArtifactArrivesInOrderedChunks() {
    byte[] got = drain(agent.fetch(FetchRequest.newBuilder().setDigest(digest).build()), new long[] {0});
    assertThat(got).isEqualTo(bytes);
  }

  @Test
  void resumesFromAnOffset() {
    int from = bytes.length / 2 + 17;
    byte[] got = drain(agent.fetch(FetchRequest.newBuilder().setDigest(digest).setOffset(from).build()), new long[] {from});
    assertThat(got).isEqualTo(Arrays.copyOfRange(bytes, from, bytes.length));
  }

  @Test
  void unknownDigestsAndBadOffsetsAreRefused() {
    assertThatThrownBy(() -> agent.fetch(FetchRequest.newBuilder().setDigest("0".repeat(64)).build()).hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThatThrownBy(() -> agent.fetch(FetchRequest.newBuilder().setDigest(digest).setOffset(bytes.length + 1).build()).hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE));
    assertThatThrownBy(() -> agent.fetch(FetchRequest.newBuilder().setDigest("../../etc/passwd").build()).hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void adminCertificateCannotDownload() {
    var asAdmin = ArtifactsGrpc.newBlockingStub(controller.admin().getChannel());
    assertThatThrownBy(() -> asAdmin.fetch(FetchRequest.newBuilder().setDigest(digest).build()).hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
  }

  @Test
  void perTransferRateLimitPacesTheDownload() throws Exception {
    try (TestController limited = TestController.start(dir.resolve("limited"), c -> c.withTransfers(4, 1L << 20),
        JdbcStore::embedded)) {
      String d = ReleaseUpload.upload(AdminGrpc.newStub(limited.admin().getChannel()), dir.resolve("big.tar.gz"),
          bytes.length).getRelease().getDigest();
      RawAgent a = new RawAgent("ag-slow");
      a.enroll(limited, limited.token(Map.of("rack", "r1"), 1));
      chooseForDeployment(limited, "big", "1", "rack=r1");
      long started = System.nanoTime();
      byte[] got = drain(ArtifactsGrpc.newBlockingStub(a.channel(limited)).withDeadlineAfter(30, TimeUnit.SECONDS)
          .fetch(FetchRequest.newBuilder().setDigest(d).build()), new long[] {0});
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertThat(got).isEqualTo(bytes);
      // A lower bound, not a speed check: ~2 MiB at 1 MiB/s cannot finish within the first second.
      assertThat(elapsedMs).isGreaterThanOrEqualTo(1000);
    }
  }

  @Test
  void transfersBeyondTheLimitAreToldToRetry() throws Exception {
    // A slow agent holds the only transfer slot: it asks for one chunk and then stops reading.
    CompletableFuture<ArtifactChunk> first = new CompletableFuture<>();
    ArtifactsGrpc.newStub(agent.getChannel()).fetch(FetchRequest.newBuilder().setDigest(digest).build(),
        new ClientResponseObserver<FetchRequest, ArtifactChunk>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<FetchRequest> call) {
            call.disableAutoRequestWithInitial(1);
          }

          @Override public void onNext(ArtifactChunk c) { first.complete(c); }
          @Override public void onError(Throwable t) { first.completeExceptionally(t); }
          @Override public void onCompleted() { }
        });
    assertThat(first.get(10, TimeUnit.SECONDS).getOffset()).isZero();

    assertThatThrownBy(() -> agent.fetch(FetchRequest.newBuilder().setDigest(digest).build()).hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.getTrailers().keys()).contains("retry-after-ms");
        });
  }
}
