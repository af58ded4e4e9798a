package io.rackroll.controller.web;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.rackroll.controller.auth.CallerInterceptor;
import io.rackroll.proto.v1.AdminGrpc;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The web console's way into the admin API: a call named in a URL, with a JSON body, made as the
 * signed-in admin through the very interceptors and service the CLI's calls go through, so each
 * is checked against that admin's role, validated and audited the same way. The service is bound
 * to an in-process server that only this process can reach.
 */
final class AdminBridge implements AutoCloseable {
  /**
   * The calls the console offers: the fleet, deployments, releases, environments and the audit to
   * read, and the changes its buttons make. Others (pushes, tokens, secrets, people, certificates)
   * stay with the CLI.
   */
  static final Set<String> OFFERED = Set.of(
      "ListAgents", "GetAgent", "AgentHistory", "GetStatus",
      "ListDeployments", "GetDeployment", "ControlDeployment", "Rollback",
      "ListReleases", "GetRelease", "ReleaseHistory", "GetEnvironments", "Promote",
      "ListAudit", "ListAdmins");
  private static final long DEADLINE_SECONDS = 30;

  /** An answer for the browser: an HTTP status and a JSON body. */
  record Answer(int status, String json) {}

  private final Server server;
  private final ManagedChannel channel;
  private final Map<String, MethodDescriptor<Message, Message>> methods;
  private final JsonFormat.Parser parser = JsonFormat.parser();
  private final JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();

  @SuppressWarnings("unchecked")
  AdminBridge(BindableService admin, Executor executor, ServerInterceptor... interceptors) throws IOException {
    String name = "rackroll-console-" + UUID.randomUUID();
    server = InProcessServerBuilder.forName(name).executor(executor)
        .addService(ServerInterceptors.intercept(admin, interceptors)).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    methods = AdminGrpc.getServiceDescriptor().getMethods().stream()
        .filter(m -> m.getType() == MethodDescriptor.MethodType.UNARY && OFFERED.contains(m.getBareMethodName()))
        .collect(Collectors.toUnmodifiableMap(MethodDescriptor::getBareMethodName,
            m -> (MethodDescriptor<Message, Message>) (MethodDescriptor<?, ?>) m));
  }

  /** Makes admin call {@code method} as {@code admin} with a JSON request; blocks until it answers. */
  Answer call(String admin, String method, String json) {
    MethodDescriptor<Message, Message> md = methods.get(method);
    if (md == null) {
      return error(404, "no console call " + method);
    }
    Message.Builder request = ((MethodDescriptor.PrototypeMarshaller<Message>) md.getRequestMarshaller())
        .getMessagePrototype().newBuilderForType();
    try {
      if (!json.isBlank()) {
        parser.merge(json, request);
      }
    } catch (InvalidProtocolBufferException e) {
      return error(400, "the request for " + method + " is not what it takes: " + e.getMessage());
    }
    Metadata headers = new Metadata();
    headers.put(CallerInterceptor.CONSOLE_ADMIN, admin);
    try {
      Message answer = ClientCalls.blockingUnaryCall(
          io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
          md, CallOptions.DEFAULT.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS), request.build());
      return new Answer(200, printer.print(answer));
    } catch (StatusRuntimeException e) {
      return error(httpStatus(e.getStatus().getCode()), e.getStatus().getDescription() == null
          ? e.getStatus().getCode().toString() : e.getStatus().getDescription());
    } catch (InvalidProtocolBufferException e) {
      return error(500, "cannot write the answer of " + method + ": " + e.getMessage());
    }
  }

  static Answer error(int status, String message) {
    return new Answer(status, "{\"error\":" + Json.quote(message) + "}");
  }

  private static int httpStatus(Status.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
      case UNAUTHENTICATED -> 401;
      case PERMISSION_DENIED -> 403;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED -> 409;
      case RESOURCE_EXHAUSTED -> 429;
      case UNAVAILABLE -> 503;
      case DEADLINE_EXCEEDED -> 504;
      default -> 500;
    };
  }

  @Override
  public void close() {
    channel.shutdownNow();
    server.shutdownNow();
  }
}
