package io.rackroll.controller.auth;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MapEntry;
import com.google.protobuf.Message;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.SetSecretRequest;
import io.rackroll.wire.Names;
import java.util.Map;
import java.util.Optional;

/**
 * Checks every name in every admin request against {@link Names} before a service reads it, so that a
 * name with '/' or '..', or of 10,000 characters, is refused with one line at the door instead of
 * reaching a path, a log line or an agent. Fields are judged by their name in the protocol, in one
 * table; a field absent from it is not a name.
 *
 * <p>It also keeps every refusal short: a status description is a header, and one that repeats a
 * huge value breaks the connection (the client sees "http2 exception") instead of reading why.
 */
public final class RequestNames implements ServerInterceptor {
  /** The longest status description sent: well inside a client's header limit once percent-encoded. */
  static final int MAX_DESCRIPTION = 1000;

  /** Proto field name to the grammar of its values (for a map: of its keys and values). */
  private static final Map<String, Names> FIELDS = Map.of(
      "app", Names.APP,
      "name", Names.APP,
      "version", Names.VERSION,
      "to_version", Names.VERSION,
      "environment", Names.ENVIRONMENT,
      "agent_id", Names.AGENT_ID,
      "replaces", Names.AGENT_ID);

  /** Exceptions to the table: the same field name meaning something else in one message. */
  private static final Map<String, Names> BY_MESSAGE = Map.of(
      SetSecretRequest.getDescriptor().getFullName() + ".name", Names.VARIABLE);

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    ServerCall<Q, A> shortened = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        super.close(shorten(status), trailers);
      }
    };
    ServerCall.Listener<Q> delegate = next.startCall(shortened, headers);
    if (!call.getMethodDescriptor().getServiceName().equals(AdminGrpc.SERVICE_NAME)) {
      return delegate; // agents' messages name what the controller sent them; the agent checks those itself
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      /** Set once a message is refused: the call is closed, and the service never hears of it. */
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (refused) {
          return;
        }
        Optional<String> problem = message instanceof Message m ? problem(m) : Optional.empty();
        if (problem.isPresent()) {
          refused = true;
          shortened.close(Status.INVALID_ARGUMENT.withDescription(problem.get()), new Metadata());
          return;
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }
    };
  }

  /** The first name in {@code message} that breaks its grammar, as the one line to answer with. */
  static Optional<String> problem(Message message) {
    for (Map.Entry<FieldDescriptor, Object> f : message.getAllFields().entrySet()) {
      FieldDescriptor field = f.getKey();
      if (field.isMapField()) {
        Optional<String> p = mapProblem(field.getName(), (Iterable<?>) f.getValue());
        if (p.isPresent()) {
          return p;
        }
        continue;
      }
      Names kind = BY_MESSAGE.getOrDefault(field.getFullName(), FIELDS.get(field.getName()));
      if (kind == null || field.getJavaType() != FieldDescriptor.JavaType.STRING || field.isRepeated()) {
        continue;
      }
      String value = (String) f.getValue();
      if (!value.isEmpty() && !kind.valid(value)) {
        return Optional.of(kind.refusal(value));
      }
    }
    return Optional.empty();
  }

  /** Label maps: keys and values; flag changes: keys. Options and variables are checked where they are read. */
  private static Optional<String> mapProblem(String field, Iterable<?> entries) {
    Names keys = switch (field) {
      case "labels" -> Names.LABEL_KEY;
      case "changes" -> Names.FLAG;
      default -> null;
    };
    if (keys == null) {
      return Optional.empty();
    }
    for (Object o : entries) {
      MapEntry<?, ?> e = (MapEntry<?, ?>) o;
      String key = String.valueOf(e.getKey());
      if (!keys.valid(key)) {
        return Optional.of(keys.refusal(key));
      }
      if (keys == Names.LABEL_KEY && !Names.LABEL_VALUE.valid(String.valueOf(e.getValue()))) {
        return Optional.of(Names.LABEL_VALUE.refusal(String.valueOf(e.getValue())));
      }
    }
    return Optional.empty();
  }

  static Status shorten(Status status) {
    String d = status.getDescription();
    if (d == null || d.length() <= MAX_DESCRIPTION) {
      return status;
    }
    return status.withDescription(d.substring(0, MAX_DESCRIPTION) + "… (" + d.length() + " characters)");
  }
}
