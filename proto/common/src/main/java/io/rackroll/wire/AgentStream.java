package io.rackroll.wire;

import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.rackroll.proto.v1.AgentLinkGrpc;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.ControllerMessage;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The agent's side of one {@code AgentLink.Connect} stream, with every callback handed to the
 * thread that owns the agent's link state: the real agent's and each simulated agent's.
 */
public final class AgentStream {
  private AgentStream() {}

  /** How a stream ended: its status and, when the controller sent them, its trailers (else null). */
  public interface Ended {
    void ended(Status status, Metadata trailers);
  }

  /** Opens the stream; returns its request side (send Hello first). */
  public static ClientCallStreamObserver<AgentMessage> open(Channel channel, Executor owner,
      Consumer<ControllerMessage> received, Ended ended) {
    @SuppressWarnings("unchecked")
    ClientCallStreamObserver<AgentMessage>[] requests = new ClientCallStreamObserver[1];
    AgentLinkGrpc.newStub(channel).connect(new ClientResponseObserver<AgentMessage, ControllerMessage>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<AgentMessage> stream) {
        requests[0] = stream;
      }

      @Override
      public void onNext(ControllerMessage message) {
        Threads.post(owner, () -> received.accept(message));
      }

      @Override
      public void onError(Throwable t) {
        Threads.post(owner, () -> ended.ended(Status.fromThrowable(t), Status.trailersFromThrowable(t)));
      }

      @Override
      public void onCompleted() {
        Threads.post(owner, () -> ended.ended(Status.UNAVAILABLE.withDescription("controller closed the stream"), null));
      }
    });
    return requests[0];
  }
}
