package io.rackroll.controller.fleet;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.rackroll.controller.auth.CallerInterceptor;
import io.rackroll.controller.enroll.EnrollmentService;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.proto.v1.AgentLinkGrpc;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.RenewRequest;
import io.rackroll.proto.v1.RenewResponse;
import io.rackroll.trust.PeerIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent end of the wire: turns each agent's stream into registry events. Callbacks do no
 * I/O; anything slow is posted to the registry's events thread.
 */
public final class AgentLinkService extends AgentLinkGrpc.AgentLinkImplBase {
  private static final Logger log = LoggerFactory.getLogger(AgentLinkService.class);

  private final AgentRegistry registry;
  private final EnrollmentService enrollment;

  public AgentLinkService(AgentRegistry registry, EnrollmentService enrollment) {
    this.registry = registry;
    this.enrollment = enrollment;
  }

  @Override
  public void renew(RenewRequest request, StreamObserver<RenewResponse> response) {
    PeerIdentity caller = CallerInterceptor.caller();
    try {
      response.onNext(enrollment.renew(caller, CallerInterceptor.callerCertificate()));
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  @Override
  public StreamObserver<AgentMessage> connect(StreamObserver<ControllerMessage> responses) {
    PeerIdentity caller = CallerInterceptor.caller();
    ServerCallStreamObserver<ControllerMessage> out = (ServerCallStreamObserver<ControllerMessage>) responses;
    // With a cancel handler set, sending on a stream the agent already dropped is a no-op instead
    // of an exception; the request observer's onError below does the bookkeeping.
    out.setOnCancelHandler(() -> { });
    return new StreamObserver<>() {
      /** Set by the hello; touched only by this call's serialized callbacks. */
      private AgentSession session;

      @Override
      public void onNext(AgentMessage message) {
        if (session == null) {
          if (!message.hasHello()) {
            refuse(Status.INVALID_ARGUMENT.withDescription("first message must be hello"));
            return;
          }
          String claimed = message.getHello().getAgentId();
          if (!claimed.equals(caller.name())) {
            log.atWarn().addKeyValue(ServiceLogging.AGENT, caller.name())
                .log("{} sent a hello for agent {}: refused", caller, claimed);
            refuse(Status.PERMISSION_DENIED.withDescription(
                caller + " cannot speak for agent " + claimed + " (expected: the id in its own certificate)"));
            return;
          }
          session = registry.hello(caller.name(), message.getHello(), out);
          return;
        }
        if (session.isClosed()) {
          return;
        }
        switch (message.getBodyCase()) {
          case HEARTBEAT -> registry.heard(session);
          case FACTS -> registry.factsChanged(session, message.getFacts());
          case JOB -> registry.jobReported(session, message.getJob());
          case HEALTH -> registry.healthReported(session, message.getHealth());
          case PROGRESS -> registry.progressReported(session, message.getProgress());
          case FLAGS -> registry.flagsReported(session, message.getFlags());
          case RESULT -> {
            registry.heard(session);
            session.resultArrived(message.getResult());
          }
          case HELLO -> refuse(Status.INVALID_ARGUMENT.withDescription("hello sent twice on one stream"));
          default -> log.atDebug().addKeyValue(ServiceLogging.AGENT, caller.name())
              .log("agent {} sent an empty message", caller.name());
        }
      }

      @Override
      public void onError(Throwable t) {
        if (session != null) {
          registry.closed(session);
        }
      }

      @Override
      public void onCompleted() {
        if (session != null) {
          session.close(Status.OK);
          registry.closed(session);
        } else {
          out.onCompleted();
        }
      }

      private void refuse(Status status) {
        if (session != null) {
          session.close(status);
          registry.closed(session);
        } else {
          out.onError(status.asRuntimeException());
        }
      }
    };
  }
}
