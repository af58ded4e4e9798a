package io.rackroll.agent.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.rackroll.agent.artifact.ArtifactCache.DownloadException;
import io.rackroll.agent.identity.ThrowawayPki;
import io.rackroll.agent.testing.Tmpfs;
import io.rackroll.proto.v1.ArtifactChunk;
import io.rackroll.proto.v1.ArtifactsGrpc;
import io.rackroll.proto.v1.FetchRequest;
import io.rackroll.trust.MutualTls;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's downloads against a scripted artifact server over real mTLS: resume, verify, refuse. */
class ArtifactCacheTest {
  @TempDir Path dir;
  private final byte[] artifact = new byte[1_000_000];
  private String digest;
  /** What the server does; changed by tests. */
  private volatile int cutAfterBytes = Integer.MAX_VALUE;
  private volatile boolean corrupt;
  private final List<Long> requestedOffsets = new CopyOnWriteArrayList<>();
  /** Every progress report, in order (reports are not throttled here). */
  private final List<Long> progress = new CopyOnWriteArrayList<>();
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    new Random(3).nextBytes(artifact);
    digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(artifact));
    ThrowawayPki pki = new ThrowawayPki("ag-cache");
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(MutualTls.server(pki.serverKey.getPrivate(), List.of(pki.serverCert, pki.ca), List.of(pki.ca)))
        .addService(new ArtifactsGrpc.ArtifactsImplBase() {
          @Override
          public void fetch(FetchRequest request, StreamObserver<ArtifactChunk> out) {
            requestedOffsets.add(request.getOffset());
            if (!request.getDigest().equals(digest)) {
              out.onError(Status.NOT_FOUND.withDescription("no artifact sha256 " + request.getDigest()).asRuntimeException());
              return;
            }
            int sent = 0;
            for (int pos = (int) request.getOffset(); pos < artifact.length; pos += 64 * 1024) {
              if (sent >= cutAfterBytes) {
                out.onError(Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
                return;
              }
              int n = Math.min(64 * 1024, artifact.length - pos);
              byte[] chunk = java.util.Arrays.copyOfRange(artifact, pos, pos + n);
              if (corrupt) {
                chunk[0] ^= 1;
              }
              out.onNext(ArtifactChunk.newBuilder().setOffset(pos).setTotalSize(artifact.length)
                  .setData(ByteString.copyFrom(chunk)).build());
              sent += n;
            }
            out.onCompleted();
          }
        }).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
        .sslContext(MutualTls.client(pki.agentKey.getPrivate(), List.of(pki.agentCert), List.of(pki.ca))).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private ArtifactCache cache(Path where) {
    return new ArtifactCache(where, channel, Duration.ofSeconds(30), Duration.ZERO);
  }

  @Test
  void downloadsVerifiesAndThenServesFromTheCache() throws Exception {
    ArtifactCache cache = cache(dir);
    Path got = cache.fetch(digest, artifact.length, progress::add);
    assertThat(Files.readAllBytes(got)).isEqualTo(artifact);
    assertThat(got).isEqualTo(dir.resolve(digest));
    assertThat(cache.downloadedBytes()).isEqualTo(artifact.length);

    cache.fetch(digest, artifact.length, progress::add);
    assertThat(cache.downloadedBytes()).as("served from the cache, not downloaded again").isEqualTo(artifact.length);
    assertThat(requestedOffsets).as("the second fetch used the cache").containsExactly(0L);
    assertThat(progress).as("one report per 64 KiB chunk, the last at the full size").hasSize(16)
        .isSorted().startsWith(65_536L).endsWith(1_000_000L);
  }

  @Test
  void brokenTransferResumesFromTheBytesAlreadyOnDisk() throws Exception {
    cutAfterBytes = 300 * 1024;
    assertThatThrownBy(() -> cache(dir).fetch(digest, artifact.length, progress::add))
        .isInstanceOfSatisfying(DownloadException.class, e -> {
          assertThat(e.kind()).isEqualTo(DownloadException.Kind.UNREACHABLE);
          assertThat(e.getMessage()).contains("broke off at byte 327680 of 1000000", "the next attempt resumes there");
        });
    assertThat(Files.size(dir.resolve(digest + ".part"))).isEqualTo(327_680);
    assertThat(progress).endsWith(327_680L);

    progress.clear();
    cutAfterBytes = Integer.MAX_VALUE;
    Path got = cache(dir).fetch(digest, artifact.length, progress::add);

    assertThat(requestedOffsets).containsExactly(0L, 327_680L);
    assertThat(progress).as("the resumed download counts the bytes it kept").isSorted()
        .startsWith(327_680L + 65_536L).endsWith(1_000_000L);
    assertThat(Files.readAllBytes(got)).isEqualTo(artifact);
    assertThat(dir.resolve(digest + ".part")).doesNotExist();
  }

  @Test
  void corruptDownloadIsDiscardedNeverKept() throws Exception {
    corrupt = true;
    assertThatThrownBy(() -> cache(dir).fetch(digest, artifact.length, progress::add))
        .isInstanceOfSatisfying(DownloadException.class, e -> assertThat(e.kind()).isEqualTo(DownloadException.Kind.CORRUPT));
    assertThat(dir.resolve(digest + ".part")).doesNotExist();
    assertThat(dir.resolve(digest)).doesNotExist();

    corrupt = false;
    assertThat(Files.readAllBytes(cache(dir).fetch(digest, artifact.length, progress::add))).isEqualTo(artifact);
    assertThat(requestedOffsets).containsExactly(0L, 0L);
  }

  @Test
  void cachedArtifactDamagedOnDiskIsFetchedAgain() throws Exception {
    Path got = cache(dir).fetch(digest, artifact.length, progress::add);
    byte[] damaged = Files.readAllBytes(got);
    damaged[500] ^= 0x40;
    Files.write(got, damaged);

    assertThat(Files.readAllBytes(cache(dir).fetch(digest, artifact.length, progress::add))).isEqualTo(artifact);
    assertThat(requestedOffsets).containsExactly(0L, 0L);
  }

  @Test
  void unknownArtifactIsARefusalNotANetworkProblem() {
    assertThatThrownBy(() -> cache(dir).fetch("f".repeat(64), 10, progress::add))
        .isInstanceOfSatisfying(DownloadException.class, e -> {
          assertThat(e.kind()).isEqualTo(DownloadException.Kind.REFUSED);
          assertThat(e.getMessage()).contains("controller refused the download");
        });
  }

  @Test
  void fullFileSystemIsReportedWithWhatWasNeeded() throws Exception {
    try (Tmpfs tmpfs = Tmpfs.mount(dir.resolve("small"), "512k")) {
      Path small = tmpfs.dir;
      assertThatThrownBy(() -> cache(small.resolve("cache")).fetch(digest, artifact.length, progress::add))
          .isInstanceOfSatisfying(DownloadException.class, e -> {
            assertThat(e.kind()).isEqualTo(DownloadException.Kind.DISK_FULL);
            assertThat(e.getMessage()).startsWith("needs 976.6 KiB free on ").contains("has 512.0 KiB");
          });
      assertThat(requestedOffsets).as("nothing was downloaded into a disk that cannot hold it").isEmpty();
    }
  }

  @Test
  void keepOnlyForgetsEveryArtifactAndPartialNothingNeeds() throws Exception {
    Path cache = Files.createDirectories(dir.resolve("forget"));
    String kept = "a".repeat(64);
    String gone = "b".repeat(64);
    String partial = "c".repeat(64);
    for (String name : List.of(kept, gone, partial + ".part", "not-an-artifact")) {
      Files.writeString(cache.resolve(name), "x");
    }
    new ArtifactCache(cache, io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", 1)
        .usePlaintext().build(), java.time.Duration.ofSeconds(1)).keepOnly(java.util.Set.of(kept));
    try (var files = Files.list(cache)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(kept, "not-an-artifact");
    }
  }
}
