package io.rackroll.controller.release;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.AuditStore;
import io.rackroll.controller.store.ReleaseStore;
import io.rackroll.controller.store.StoredRelease;
import io.rackroll.proto.v1.PushReleaseRequest;
import io.rackroll.proto.v1.PushReleaseResponse;
import io.rackroll.proto.v1.ReleaseRecord;
import io.rackroll.release.Artifact;
import io.rackroll.trust.ReleaseSignature;
import io.rackroll.release.ManifestException;
import io.rackroll.release.Sizes;
import io.rackroll.release.UnpackLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives one pushed artifact. Flow control is manual: the next chunk is requested only once the
 * previous one is on disk, so a fast client cannot fill the controller's memory. Disk work runs on
 * the {@code artifact-io} executor, chained per push so it stays in order; gRPC callbacks only
 * hand off.
 */
public final class ReleasePush implements StreamObserver<PushReleaseRequest> {
  private static final Logger log = LoggerFactory.getLogger(ReleasePush.class);

  private final ArtifactStore artifacts;
  private final ReleaseStore store;
  private final AuditStore audit;
  private final Clock clock;
  private final Executor io;
  private final String admin;
  private final ServerCallStreamObserver<PushReleaseResponse> response;
  /** The tail of this push's disk work; each step runs after the previous one. */
  private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
  /** Confined to the io steps. */
  private ArtifactStore.Upload upload;
  private volatile boolean failed;
  /** The signature that came with the push ("" for none); checked for form at the start. */
  private String signature = "";

  public ReleasePush(ArtifactStore artifacts, ReleaseStore store, AuditStore audit, Clock clock, Executor io, String admin,
      StreamObserver<PushReleaseResponse> response) {
    this.artifacts = artifacts;
    this.store = store;
    this.audit = audit;
    this.clock = clock;
    this.io = io;
    this.admin = admin;
    this.response = (ServerCallStreamObserver<PushReleaseResponse>) response;
    this.response.disableAutoRequest();
    this.response.request(1);
  }

  @Override
  public void onNext(PushReleaseRequest request) {
    then(() -> {
      switch (request.getBodyCase()) {
        case START -> {
          if (upload != null) {
            throw Status.INVALID_ARGUMENT.withDescription("push started twice").asException();
          }
          signature = request.getStart().getSignature().strip();
          if (!signature.isEmpty()) {
            try {
              ReleaseSignature.parse(signature);
            } catch (IllegalArgumentException e) {
              throw Status.INVALID_ARGUMENT.withDescription(e.getMessage() + "; use the file 'rackroll release sign'"
                  + " wrote").asException();
            }
            signature = signature + "\n";
          }
          try {
            upload = artifacts.begin(request.getStart().getSize());
          } catch (IllegalArgumentException e) {
            throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException();
          }
        }
        case CHUNK -> {
          if (upload == null) {
            throw Status.INVALID_ARGUMENT.withDescription("push must start with its size").asException();
          }
          ByteString chunk = request.getChunk();
          try {
            upload.write(chunk.asReadOnlyByteBuffer());
          } catch (IllegalArgumentException e) {
            throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException();
          }
        }
        default -> throw Status.INVALID_ARGUMENT.withDescription("empty push message").asException();
      }
      response.request(1);
    });
  }

  @Override
  public void onError(Throwable t) {
    failed = true; // the client went away: skip whatever is queued, then drop the partial file
    tail = tail.thenRunAsync(this::discard, io);
  }

  @Override
  public void onCompleted() {
    then(() -> {
      if (upload == null) {
        throw Status.INVALID_ARGUMENT.withDescription("nothing was pushed").asException();
      }
      String digest;
      try {
        digest = upload.finish();
      } catch (IllegalArgumentException e) {
        throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException();
      }
      Artifact artifact;
      try {
        artifact = Artifact.inspect(upload.file(), artifacts.unpackLimits());
      } catch (UnpackLimits.ExceededException e) {
        throw Status.INVALID_ARGUMENT.withDescription("artifact refused: it " + e.getMessage()).asException();
      } catch (ManifestException e) {
        throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException();
      } catch (IOException e) {
        throw Status.INVALID_ARGUMENT.withDescription("artifact is " + e.getMessage()).asException();
      }
      StoredRelease proposed = new StoredRelease(artifact.manifest().name(), artifact.manifest().version(), digest,
          Files.size(upload.file()), artifact.unpackedBytes(), artifact.entries(), artifact.manifest().text(), admin, clock.instant(),
          signature);
      // File first, row second: a row never points at a missing artifact, even after a crash in between.
      upload.commit(digest);
      artifacts.share(digest); // every node can serve it before any deployment can name it
      StoredRelease recorded = store.addRelease(proposed);
      if (!recorded.digest().equals(digest)) {
        throw Status.ALREADY_EXISTS.withDescription(recorded.ref() + " already exists with different content (sha256 "
            + recorded.digest().substring(0, 12) + "…, pushed by " + recorded.pushedBy() + " at " + recorded.pushedAt()
            + "); releases never change: give this one a new version").asException();
      }
      boolean already = recorded != proposed;
      if (already && !signature.isEmpty() && !signature.equals(recorded.signature())) {
        store.setSignature(recorded.name(), recorded.version(), signature);
        recorded = store.release(recorded.name(), recorded.version()).orElse(recorded);
        log.info("admin {} signed {} (key {})", admin, recorded.ref(), keyOf(recorded));
        audit.record(AuditEntry.of(clock.instant(), admin, "release sign", recorded.ref(), "key " + keyOf(recorded)));
      }
      if (!already) {
        log.info("admin {} pushed {} (sha256 {}, {})", admin, recorded.ref(), digest, Sizes.format(recorded.sizeBytes()));
        audit.record(AuditEntry.of(clock.instant(), admin, "release push", recorded.ref(),
            "sha256 " + digest + ", " + Sizes.format(recorded.sizeBytes()) + ", unpacks to "
                + Sizes.format(recorded.unpackedBytes()) + " in " + recorded.unpackedEntries() + " entries"
                + (signature.isEmpty() ? ", unsigned" : ", signed by key " + keyOf(recorded))));
      }
      response.onNext(PushReleaseResponse.newBuilder().setRelease(record(recorded)).setAlreadyPresent(already)
          .setSignatureWarning(signatureWarning(recorded)).build());
      response.onCompleted();
    });
  }

  private static String keyOf(StoredRelease r) {
    return r.signed().map(ReleaseSignature::keyId).orElse("");
  }

  /**
   * Why hosts will refuse {@code r}'s signature whatever keys they trust: it names another release
   * or artifact. (Whether it verifies, only a host that trusts its key can say.)
   */
  public static String signatureWarning(StoredRelease r) {
    return r.signed().filter(s -> !s.name().equals(r.name()) || !s.version().equals(r.version())
            || !s.digest().equals(r.digest()))
        .map(s -> "the signature is for " + s.name() + "@" + s.version() + " (sha256 " + s.digest().substring(0, 12)
            + "...), not this artifact: hosts that require signatures will refuse " + r.ref() + "; sign this artifact"
            + " and push it again with its signature")
        .orElse("");
  }

  /**
   * Why a host whose release trust is {@code trust} (as it reported) will refuse {@code r}; empty
   * when it will not, as far as the controller can tell (only the host verifies the signature).
   */
  public static Optional<String> wouldRefuse(StoredRelease r, io.rackroll.proto.v1.ReleaseTrust trust) {
    if (!trust.getRequireSigned()) {
      return Optional.empty();
    }
    Optional<ReleaseSignature> signed = r.signed();
    if (signed.isEmpty()) {
      return Optional.of("requires signed releases; " + r.ref() + " is " + (r.signature().isEmpty() ? "unsigned"
          : "signed unreadably"));
    }
    if (!trust.getKeyIdsList().contains(signed.get().keyId())) {
      return Optional.of("does not trust key " + signed.get().keyId() + ", which signed " + r.ref());
    }
    String warning = signatureWarning(r);
    return warning.isEmpty() ? Optional.empty() : Optional.of("the signature is for another release or artifact");
  }

  /** Used by the admin API to show releases. */
  public static ReleaseRecord record(StoredRelease r) {
    return ReleaseRecord.newBuilder().setSignedBy(keyOf(r)).setName(r.name()).setVersion(r.version()).setDigest(r.digest())
        .setSizeBytes(r.sizeBytes()).setUnpackedBytes(r.unpackedBytes()).setUnpackedEntries(r.unpackedEntries()).setManifest(r.manifest())
        .setPushedBy(r.pushedBy()).setPushedEpochMillis(r.pushedAt().toEpochMilli()).build();
  }

  private interface Step {
    void run() throws Exception;
  }

  private void then(Step step) {
    tail = tail.thenRunAsync(() -> {
      if (failed) {
        return;
      }
      try {
        step.run();
      } catch (Exception e) {
        failed = true;
        discard();
        Status status = e instanceof StatusException s ? s.getStatus()
            : Status.INTERNAL.withDescription("push failed on the controller: " + e.getMessage()).withCause(e);
        if (!(e instanceof StatusException)) {
          log.error("push by {} failed: {}", admin, e.getMessage(), e);
        }
        try {
          response.onError(status.asRuntimeException());
        } catch (IllegalStateException | io.grpc.StatusRuntimeException alreadyClosed) {
          // the client is gone; nothing to tell
        }
      }
    }, io);
  }

  private void discard() {
    if (upload != null) {
      try {
        upload.close();
      } catch (IOException e) {
        log.warn("cannot remove abandoned upload {}: {}", upload.file(), e.getMessage());
      }
    }
  }
}
