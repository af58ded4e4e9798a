package io.rackroll.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.rackroll.wire.ReleaseUpload;
import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.testing.TestController;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.GetReleaseRequest;
import io.rackroll.proto.v1.ListReleasesRequest;
import io.rackroll.proto.v1.PushReleaseRequest;
import io.rackroll.proto.v1.PushReleaseResponse;
import io.rackroll.proto.v1.PushStart;
import io.rackroll.proto.v1.ReleaseRecord;
import io.rackroll.release.Artifact;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pushing releases to a real controller over TLS, with the CLI's own streaming upload. */
class ReleasePushTest {
  @TempDir Path dir;
  private TestController controller;

  @BeforeEach
  void start() throws Exception {
    controller = TestController.start(dir.resolve("data"), c -> c.withMaxArtifactSize(8L << 20), JdbcStore::embedded);
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  private Path pack(String name, String version, String extraManifest, byte[] payload) throws Exception {
    Path src = Files.createDirectories(dir.resolve(name + "-" + version + "-" + System.nanoTime()));
    Files.writeString(src.resolve("rackroll.yaml"), "name: " + name + "\nversion: " + version + "\n" + extraManifest);
    Files.write(src.resolve("payload.bin"), payload);
    Path out = dir.resolve(src.getFileName() + ".tar.gz");
    Artifact.pack(src, out);
    return out;
  }

  private PushReleaseResponse push(Path artifact) throws Exception {
    return ReleaseUpload.upload(AdminGrpc.newStub(controller.admin().getChannel()), artifact, Files.size(artifact));
  }

  private long incomingFiles() throws Exception {
    try (Stream<Path> s = Files.list(dir.resolve("data/artifacts/incoming"))) {
      return s.count();
    }
  }

  @Test
  void pushStoresTheArtifactByDigestAndRecordsTheRelease() throws Exception {
    byte[] payload = new byte[3 << 20]; // many chunks: flow control is exercised
    new Random(1).nextBytes(payload);
    Path artifact = pack("web", "1.0.0", "", payload);

    PushReleaseResponse r = push(artifact);

    assertThat(r.getAlreadyPresent()).isFalse();
    ReleaseRecord rel = r.getRelease();
    assertThat(rel.getName() + "@" + rel.getVersion()).isEqualTo("web@1.0.0");
    assertThat(rel.getDigest()).isEqualTo(ReleaseCommand.sha256(artifact));
    assertThat(rel.getSizeBytes()).isEqualTo(Files.size(artifact));
    assertThat(rel.getPushedBy()).isEqualTo("admin");
    Path stored = dir.resolve("data/artifacts/sha256").resolve(rel.getDigest());
    assertThat(Files.readAllBytes(stored)).isEqualTo(Files.readAllBytes(artifact));
    assertThat(incomingFiles()).isZero();
    assertThat(controller.admin().getRelease(GetReleaseRequest.newBuilder().setName("web").setVersion("1.0.0").build())
        .getManifest()).isEqualTo("name: web\nversion: 1.0.0\n");
    assertThat(controller.admin().listReleases(ListReleasesRequest.newBuilder().setName("web").build()).getReleasesList())
        .extracting(ReleaseRecord::getVersion).containsExactly("1.0.0");
  }

  @Test
  void sameBytesAgainIsANoOpDifferentBytesAreRefused() throws Exception {
    Path artifact = pack("web", "2.0.0", "", new byte[] {1});
    push(artifact);
    assertThat(push(artifact).getAlreadyPresent()).isTrue();

    Path changed = pack("web", "2.0.0", "", new byte[] {2});
    assertThatThrownBy(() -> push(changed)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
      assertThat(e.getStatus().getDescription()).startsWith("web@2.0.0 already exists with different content")
          .endsWith("releases never change: give this one a new version");
    });
    assertThat(controller.admin().getRelease(GetReleaseRequest.newBuilder().setName("web").setVersion("2.0.0").build())
        .getDigest()).isEqualTo(ReleaseCommand.sha256(artifact));
  }

  /** An archive 'release pack' would refuse to build, as a hand-rolled tar would be. */
  private Path unchecked(String manifest) throws Exception {
    Path out = dir.resolve("unchecked-" + System.nanoTime() + ".tar.gz");
    byte[] bytes = manifest.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(
        new org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream(Files.newOutputStream(out)))) {
      var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("rackroll.yaml");
      e.setSize(bytes.length);
      tar.putArchiveEntry(e);
      tar.write(bytes);
      tar.closeArchiveEntry();
    }
    return out;
  }

  @Test
  void badManifestIsRefusedWithKeyAndLineAndNothingIsKept() throws Exception {
    Path artifact = unchecked("name: web\nversion: 3.0.0\nrequires:\n  minMemory: lots\n");
    assertThatThrownBy(() -> push(artifact)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription())
          .isEqualTo("rackroll.yaml line 4: requires.minMemory: lots (expected: a size such as 512MiB, 8GiB or 2GB)");
    });
    assertThat(controller.admin().listReleases(ListReleasesRequest.getDefaultInstance()).getReleasesCount()).isZero();
    assertThat(incomingFiles()).isZero();
  }

  @Test
  void somethingThatIsNotAnArtifactIsRefused() throws Exception {
    Path junk = Files.writeString(dir.resolve("junk.tar.gz"), "definitely not gzip");
    assertThatThrownBy(() -> push(junk)).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getDescription()).startsWith("artifact is not a readable .tar.gz"));
  }

  @Test
  void artifactsOverTheSizeLimitAreRefusedBeforeAnyByteIsStored() throws Exception {
    byte[] big = new byte[9 << 20];
    new Random(2).nextBytes(big);
    Path artifact = pack("big", "1", "", big);
    assertThatThrownBy(() -> push(artifact)).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getDescription()).contains("raise maxArtifactSize in controller.yaml"));
    assertThat(incomingFiles()).isZero();
  }

  @Test
  void pushThatDeliversFewerBytesThanAnnouncedIsRefused() {
    CompletableFuture<PushReleaseResponse> done = new CompletableFuture<>();
    StreamObserver<PushReleaseRequest> req = AdminGrpc.newStub(controller.admin().getChannel())
        .pushRelease(observer(done));
    req.onNext(PushReleaseRequest.newBuilder().setStart(PushStart.newBuilder().setSize(100)).build());
    req.onNext(PushReleaseRequest.newBuilder().setChunk(ByteString.copyFromUtf8("short")).build());
    req.onCompleted();
    assertThatThrownBy(done::join).hasCauseInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("artifact is 5 bytes, 100 were announced");
  }

  @Test
  void pushAbandonedMidwayLeavesNothingBehind() throws Exception {
    CompletableFuture<PushReleaseResponse> done = new CompletableFuture<>();
    StreamObserver<PushReleaseRequest> req = AdminGrpc.newStub(controller.admin().getChannel())
        .pushRelease(observer(done));
    req.onNext(PushReleaseRequest.newBuilder().setStart(PushStart.newBuilder().setSize(1 << 20)).build());
    req.onNext(PushReleaseRequest.newBuilder().setChunk(ByteString.copyFrom(new byte[1000])).build());
    await("upload in progress").until(() -> incomingFiles() == 1);

    req.onError(Status.CANCELLED.withDescription("operator hit Ctrl-C").asRuntimeException());

    await("partial upload removed").until(() -> incomingFiles() == 0);
  }

  private static StreamObserver<PushReleaseResponse> observer(CompletableFuture<PushReleaseResponse> done) {
    return new StreamObserver<>() {
      @Override public void onNext(PushReleaseResponse v) { done.complete(v); }
      @Override public void onError(Throwable t) { done.completeExceptionally(t); }
      @Override public void onCompleted() { }
    };
  }
}
