package io.rackroll.controller.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * Times every call the controller answers, by method and status code ({@code rackroll_rpc_seconds}).
 * The agents' long-lived streams are left out: their length is how long an agent stayed, not a latency.
 */
public final class RpcMetrics implements ServerInterceptor {
  private final MeterRegistry registry;

  public RpcMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    if (call.getMethodDescriptor().getType() == MethodDescriptor.MethodType.BIDI_STREAMING) {
      return next.startCall(call, headers);
    }
    long started = System.nanoTime();
    String method = call.getMethodDescriptor().getFullMethodName();
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        Timer.builder("rackroll.rpc").tag("method", method).tag("code", status.getCode().name())
            .description("Calls answered by the controller").register(registry)
            .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        super.close(status, trailers);
      }
    }, headers);
  }
}
