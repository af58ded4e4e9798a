package io.rackroll.controller.release;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.rackroll.controller.auth.CallerInterceptor;
import io.rackroll.controller.store.ReleaseStore;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.proto.v1.ArtifactChunk;
import io.rackroll.proto.v1.ArtifactsGrpc;
import io.rackroll.proto.v1.FetchRequest;
import io.rackroll.wire.Backoff;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves artifacts to agents from disk, a chunk at a time and only as fast as each agent reads:
 * memory per transfer is one chunk, whatever the artifact's size. A bounded number of transfers
 * run at once; an optional per-transfer rate limit paces the rest.
 */
public final class ArtifactService extends ArtifactsGrpc.ArtifactsImplBase {
  private static final Logger log = LoggerFactory.getLogger(ArtifactService.class);
  static final int CHUNK = 256 * 1024;

  private final ArtifactStore artifacts;
  private final ReleaseStore store;
  private final Executor io;
  private final ScheduledExecutorService pacer;
  private final Semaphore transfers;
  /** Bytes per second per transfer; 0 for no limit. */
  private final long bytesPerSecond;
  private final AtomicLong bytesServed = new AtomicLong();

  private final MeterRegistry meters;

  public ArtifactService(ArtifactStore artifacts, ReleaseStore store, Executor io, ScheduledExecutorService pacer,
      int maxConcurrentTransfers, long bytesPerSecond, MeterRegistry meters) {
    this.meters = meters;
    FunctionCounter.builder("rackroll.artifact.served", bytesServed, AtomicLong::get).baseUnit("bytes")
        .description("Artifact bytes sent to agents").register(meters);
    this.artifacts = artifacts;
    this.store = store;
    this.io = io;
    this.pacer = pacer;
    this.transfers = new Semaphore(maxConcurrentTransfers);
    this.bytesPerSecond = bytesPerSecond;
    Gauge.builder("rackroll.artifact.transfers.active", transfers, t -> maxConcurrentTransfers - t.availablePermits())
        .description("Artifact downloads being served").register(meters);
  }

  /** Total artifact bytes sent since start. */
  public long bytesServed() {
    return bytesServed.get();
  }

  @Override
  public void fetch(FetchRequest request, StreamObserver<ArtifactChunk> responses) {
    ServerCallStreamObserver<ArtifactChunk> call = (ServerCallStreamObserver<ArtifactChunk>) responses;
    String agent = CallerInterceptor.caller().name();
    Path file;
    try {
      file = artifacts.path(request.getDigest());
    } catch (IllegalArgumentException e) {
      call.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    // An agent downloads only what a deployment chose it for: a stolen agent key does not open the whole store.
    if (!store.agentMayFetch(agent, request.getDigest())) {
      call.onError(Status.PERMISSION_DENIED.withDescription("agent " + agent + " was not chosen by any deployment of"
          + " artifact sha256 " + request.getDigest()).asRuntimeException());
      return;
    }
    // Handlers are set now (gRPC allows it only before this method returns); the transfer they
    // drive starts once the artifact is on this node's disk, copied from the database if need be.
    AtomicReference<Transfer> running = new AtomicReference<>();
    call.setOnCancelHandler(() -> {
      Transfer t = running.get();
      if (t != null) {
        t.finish("cancelled");
      }
    });
    call.setOnReadyHandler(() -> {
      Transfer t = running.get();
      if (t != null) {
        t.wake();
      }
    });
    artifacts.local(request.getDigest(), io).whenComplete((here, e) -> {
      if (call.isCancelled()) {
        return;
      }
      if (e != null) {
        Throwable why = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        log.atWarn().addKeyValue(ServiceLogging.AGENT, agent).log("agent {}: cannot copy artifact {} from the database:"
            + " {}", agent, request.getDigest(), why.getMessage());
        call.onError(Status.UNAVAILABLE.withDescription("controller cannot read artifact sha256 " + request.getDigest()
            + " from its database now; retrying helps").asRuntimeException());
      } else if (!here) {
        call.onError(Status.NOT_FOUND.withDescription("no artifact sha256 " + request.getDigest()).asRuntimeException());
      } else {
        serve(call, file, request.getOffset(), agent, request.getDigest(), running);
      }
    });
  }

  private void serve(ServerCallStreamObserver<ArtifactChunk> call, Path file, long offset, String agent, String digest,
      AtomicReference<Transfer> running) {
    if (!transfers.tryAcquire()) {
      Metadata trailers = new Metadata();
      trailers.put(Backoff.RETRY_AFTER_MS, Long.toString(ThreadLocalRandom.current().nextLong(1_000, 5_000)));
      call.onError(Status.RESOURCE_EXHAUSTED.withDescription("controller is serving its maximum of transfers; retry later")
          .asRuntimeException(trailers));
      return;
    }
    Transfer t;
    try {
      FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
      long size;
      try {
        size = channel.size();
        if (offset < 0 || offset > size) {
          throw new IllegalArgumentException("offset " + offset + " is outside the artifact (size " + size + ")");
        }
      } catch (IOException | IllegalArgumentException e) {
        channel.close();
        throw e;
      }
      t = new Transfer(call, channel, size, offset, agent, digest);
    } catch (IOException | IllegalArgumentException e) {
      transfers.release();
      call.onError(Status.OUT_OF_RANGE.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    running.set(t);
    if (call.isCancelled()) {
      t.finish("cancelled");
    } else {
      t.wake(); // the call may have been ready before the transfer was there to hear it
    }
  }

  /** One agent's download. The pump runs on the io executor, one at a time per transfer. */
  private final class Transfer {
    private final ServerCallStreamObserver<ArtifactChunk> call;
    private final FileChannel file;
    private final long size;
    private final String agent;
    private final String digest;
    private final AtomicBoolean pumping = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();
    private long position;
    /** Rate limiting: start of the current one-second window and bytes sent in it. */
    private long windowStart = System.nanoTime();
    private long windowBytes;
    private final long started = System.nanoTime();

    Transfer(ServerCallStreamObserver<ArtifactChunk> call, FileChannel file, long size, long offset, String agent,
        String digest) {
      this.call = call;
      this.file = file;
      this.size = size;
      this.agent = agent;
      this.digest = digest;
      this.position = offset;
    }

    /** Called by gRPC when the agent can take more; never blocks. */
    void wake() {
      if (!finished.get() && pumping.compareAndSet(false, true)) {
        io.execute(this::pump);
      }
    }

    private void pump() {
      try {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK);
        while (call.isReady() && !finished.get()) {
          if (position >= size) {
            call.onCompleted();
            finish("completed");
            return;
          }
          long delay = paceNanos();
          if (delay > 0) {
            pacer.schedule(this::wakeAfterPause, delay, TimeUnit.NANOSECONDS);
            return;
          }
          buf.clear();
          int n = file.read(buf, position);
          if (n <= 0) {
            throw new IOException("artifact " + digest + " ended early at " + position + " of " + size);
          }
          buf.flip();
          call.onNext(ArtifactChunk.newBuilder().setOffset(position).setTotalSize(size)
              .setData(UnsafeByteOperations.unsafeWrap(buf.array(), 0, n)).build());
          buf = ByteBuffer.allocate(CHUNK); // the sent array now belongs to gRPC
          position += n;
          windowBytes += n;
          bytesServed.addAndGet(n);
        }
      } catch (IOException | RuntimeException e) {
        log.atWarn().addKeyValue(ServiceLogging.AGENT, agent)
            .log("agent {}: transfer of {} failed at byte {}: {}", agent, digest, position, e.getMessage());
        finish("failed");
        try {
          call.onError(Status.INTERNAL.withDescription("controller could not read the artifact; retrying resumes")
              .asRuntimeException());
        } catch (IllegalStateException alreadyClosed) {
          // the agent is gone
        }
        return;
      } finally {
        pumping.set(false);
      }
      if (call.isReady()) {
        wake(); // readiness may have come back while we were finishing the loop
      }
    }

    private void wakeAfterPause() {
      windowStart = System.nanoTime();
      windowBytes = 0;
      wake();
    }

    /** How long to wait before sending more, under the per-transfer rate limit. */
    private long paceNanos() {
      if (bytesPerSecond <= 0) {
        return 0;
      }
      long elapsed = System.nanoTime() - windowStart;
      if (elapsed >= TimeUnit.SECONDS.toNanos(1)) {
        windowStart = System.nanoTime();
        windowBytes = 0;
        return 0;
      }
      return windowBytes >= bytesPerSecond ? TimeUnit.SECONDS.toNanos(1) - elapsed : 0;
    }

    void finish(String outcome) {
      if (finished.compareAndSet(false, true)) {
        transfers.release();
        Timer.builder("rackroll.artifact.transfers").tag("outcome", outcome)
            .description("Artifact downloads, from request to last byte").register(meters)
            .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        try {
          file.close();
        } catch (IOException e) {
          log.debug("closing {}: {}", digest, e.getMessage());
        }
      }
    }
  }
}
