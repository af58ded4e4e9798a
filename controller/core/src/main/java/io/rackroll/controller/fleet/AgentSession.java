package io.rackroll.controller.fleet;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.rackroll.proto.v1.CommandResult;
import io.rackroll.proto.v1.ControllerMessage;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One agent's open stream. Outbound messages may come from any thread (welcome from the store
 * thread, commands from admin calls), so {@link #send} serializes them: a gRPC stream observer
 * is not thread-safe.
 */
final class AgentSession {
  final String agentId;
  /** Guarded by {@code this}. */
  private final ServerCallStreamObserver<ControllerMessage> out;
  /** Guarded by {@code this}. */
  private boolean closed;
  /** Written by the stream's callbacks, read by the sweeper. */
  private volatile Instant lastHeard;
  /** Owned by the sweeper thread: whether this session was last reported stale. */
  boolean stale;
  private final Map<String, CompletableFuture<CommandResult>> pending = new ConcurrentHashMap<>();

  AgentSession(String agentId, ServerCallStreamObserver<ControllerMessage> out, Instant now) {
    this.agentId = agentId;
    this.out = out;
    this.lastHeard = now;
  }

  void heard(Instant at) {
    lastHeard = at;
  }

  Instant lastHeard() {
    return lastHeard;
  }

  synchronized boolean isClosed() {
    return closed;
  }

  /** Sends unless the stream has closed; returns whether it was sent. */
  synchronized boolean send(ControllerMessage message) {
    if (closed) {
      return false;
    }
    out.onNext(message);
    return true;
  }

  /** Ends the stream from our side (replaced by a newer stream, or the controller is stopping). */
  synchronized void close(Status status) {
    close(status, null);
  }

  /** Ends the stream with {@code status} and, for an error, {@code trailers} (null: none). */
  synchronized void close(Status status, io.grpc.Metadata trailers) {
    if (!closed) {
      closed = true;
      if (status.isOk()) {
        out.onCompleted();
      } else {
        out.onError(status.asRuntimeException(trailers));
      }
    }
    failPending(status.getDescription());
  }

  /** Used by the stream's callbacks when the agent went away. */
  synchronized void closedByPeer() {
    closed = true;
    failPending("agent " + agentId + " disconnected");
  }

  CompletableFuture<CommandResult> expect(String commandId) {
    CompletableFuture<CommandResult> f = new CompletableFuture<>();
    pending.put(commandId, f);
    f.whenComplete((r, e) -> pending.remove(commandId));
    return f;
  }

  void resultArrived(CommandResult result) {
    CompletableFuture<CommandResult> f = pending.get(result.getCommandId());
    if (f != null) {
      f.complete(result);
    }
  }

  private void failPending(String why) {
    pending.values().forEach(f -> f.completeExceptionally(new AgentUnreachableException(why)));
  }
}
