package io.rackroll.wire;

import com.google.protobuf.ByteString;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.PushReleaseRequest;
import io.rackroll.proto.v1.PushReleaseResponse;
import io.rackroll.proto.v1.PushStart;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client half of {@code Admin.PushRelease}: the CLI's {@code release push}, and tests and
 * benchmarks that push the way an operator does.
 */
public final class ReleaseUpload {
  /** Bytes per message; a chunk is copied once, into its message. */
  public static final int CHUNK = 256 * 1024;

  private ReleaseUpload() {}

  /** Streams the file as the server asks for it: never more than the transport's window in flight. */
  public static PushReleaseResponse upload(AdminGrpc.AdminStub stub, Path file, long size) throws Exception {
    return upload(stub, file, size, "");
  }

  /** As above, with the release's detached {@code signature} (its text; empty for none). */
  public static PushReleaseResponse upload(AdminGrpc.AdminStub stub, Path file, long size, String signature)
      throws Exception {
    CompletableFuture<PushReleaseResponse> done = new CompletableFuture<>();
    InputStream in = Files.newInputStream(file);
    try {
      stub.withDeadlineAfter(1, TimeUnit.HOURS).pushRelease(new ClientResponseObserver<PushReleaseRequest, PushReleaseResponse>() {
        private final AtomicBoolean finished = new AtomicBoolean();
        private boolean started;

        @Override
        public void beforeStart(ClientCallStreamObserver<PushReleaseRequest> requests) {
          requests.setOnReadyHandler(() -> {
            if (!started) {
              started = true; // onReady runs serialized, once the call has started
              requests.onNext(PushReleaseRequest.newBuilder().setStart(PushStart.newBuilder()
                  .setSize(size).setFileName(file.getFileName().toString()).setSignature(signature)).build());
            }
            try {
              byte[] buf = new byte[CHUNK];
              while (requests.isReady() && !finished.get()) {
                int n = in.readNBytes(buf, 0, buf.length);
                if (n == 0) {
                  if (finished.compareAndSet(false, true)) {
                    requests.onCompleted();
                  }
                  return;
                }
                requests.onNext(PushReleaseRequest.newBuilder().setChunk(ByteString.copyFrom(buf, 0, n)).build());
              }
            } catch (IOException e) {
              finished.set(true);
              requests.cancel("cannot read " + file, e);
              done.completeExceptionally(new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e));
            }
          });
        }

        @Override
        public void onNext(PushReleaseResponse value) {
          done.complete(value);
        }

        @Override
        public void onError(Throwable t) {
          done.completeExceptionally(t);
        }

        @Override
        public void onCompleted() { }
      });
      return done.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } finally {
      in.close();
    }
  }
}
