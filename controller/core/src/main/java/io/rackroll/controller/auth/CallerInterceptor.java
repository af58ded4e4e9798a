package io.rackroll.controller.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.AgentLinkGrpc;
import io.rackroll.proto.v1.ArtifactsGrpc;
import io.rackroll.proto.v1.EnrollmentGrpc;
import io.rackroll.trust.PeerIdentity;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Binds every call to the identity in the caller's verified client certificate and enforces
 * which role may call which service. The TLS layer has already verified any certificate against
 * the Rackroll CA; this decides what that certificate may do.
 *
 * <p>Deny by default: a service missing from the table below is refused to everyone.
 */
public final class CallerInterceptor implements ServerInterceptor {
  private static final Context.Key<PeerIdentity> CALLER = Context.key("rackroll-caller");
  private static final Context.Key<X509Certificate> CERTIFICATE = Context.key("rackroll-caller-certificate");
  private static final Context.Key<Admins.Grant> GRANT = Context.key("rackroll-caller-grant");
  private static final Context.Key<PeerIdentity> FORWARDED_BY = Context.key("rackroll-forwarded-by");

  private final Revocations revocations;
  private final Admins admins;
  private final javax.net.ssl.X509TrustManager trust;
  /** Told of every admin call refused for its role: who tried what, for the audit. */
  private final RefusalLog refusals;

  /** Where refused admin calls go. */
  @FunctionalInterface
  public interface RefusalLog {
    void refused(String admin, String method, String why);
  }

  public CallerInterceptor(Revocations revocations, Admins admins, RefusalLog refusals) {
    this(revocations, admins, refusals, null);
  }

  /**
   * @param trust what judges an admin certificate another controller node passes on (the CA's
   *     own check); null: no node passes calls on here
   */
  public CallerInterceptor(Revocations revocations, Admins admins, RefusalLog refusals,
      javax.net.ssl.X509TrustManager trust) {
    this.trust = trust;
    this.revocations = revocations;
    this.admins = admins;
    this.refusals = refusals;
  }

  /** The role of the current admin call's caller. */
  public static AdminRole callerRole() {
    return callerGrant().role();
  }

  /** What the current admin call's caller may do: its role and the environments it may change. */
  public static Admins.Grant callerGrant() {
    Admins.Grant grant = GRANT.get();
    if (grant == null) {
      throw new IllegalStateException("no admin bound to this call");
    }
    return grant;
  }

  /** Refuses the current call unless its admin holds {@code role}; {@code what} names the act. */
  public static void require(AdminRole role, String what) {
    if (!callerRole().atLeast(role)) {
      throw Status.PERMISSION_DENIED.withDescription(caller() + " (" + callerRole().label() + ") may not " + what
          + ": that needs the " + role.label() + " role or above").asRuntimeException();
    }
  }

  /** The role each service requires; {@code Optional.empty()} means callable without a certificate. */
  private static final Map<String, Optional<PeerIdentity.Role>> REQUIRED = Map.of(
      EnrollmentGrpc.SERVICE_NAME, Optional.empty(),
      AgentLinkGrpc.SERVICE_NAME, Optional.of(PeerIdentity.Role.AGENT),
      ArtifactsGrpc.SERVICE_NAME, Optional.of(PeerIdentity.Role.AGENT),
      AdminGrpc.SERVICE_NAME, Optional.of(PeerIdentity.Role.ADMIN));

  /** The verified caller of the current call. Services call this on their call's thread. */
  public static PeerIdentity caller() {
    PeerIdentity id = CALLER.get();
    if (id == null) {
      throw new IllegalStateException("no caller bound to this call");
    }
    return id;
  }

  /** The controller node that passed the current call on, if another node did (see {@link #FORWARDED_FOR}). */
  public static Optional<PeerIdentity> forwardedBy() {
    return Optional.ofNullable(FORWARDED_BY.get());
  }

  /** The verified certificate the current call's caller presented; none for a web console's call. */
  public static Optional<X509Certificate> callerCertificateIfAny() {
    return Optional.ofNullable(CERTIFICATE.get());
  }

  /** The verified certificate the current call's caller presented. */
  public static X509Certificate callerCertificate() {
    return callerCertificateIfAny().orElseThrow(() -> new IllegalStateException("no caller bound to this call"));
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    String service = call.getMethodDescriptor().getServiceName();
    Optional<PeerIdentity.Role> required = REQUIRED.get(service);
    if (required == null) {
      return refuse(call, Status.UNIMPLEMENTED.withDescription("unknown service " + service));
    }
    if (required.isEmpty()) {
      return next.startCall(call, headers);
    }
    Optional<X509Certificate> certificate = peer(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    Optional<PeerIdentity> caller = certificate.flatMap(PeerIdentity::of);
    String forwarded = headers.get(FORWARDED_FOR);
    PeerIdentity forwardedBy = null;
    if (forwarded != null && caller.isPresent() && caller.get().role() == PeerIdentity.Role.CONTROLLER
        && required.get() == PeerIdentity.Role.ADMIN && !revocations.refused(caller.get(), certificate.get())) {
      // Another controller node passes on an admin's call it verified: it is judged here as the
      // admin's own, by the admin's certificate, which must be the CA's too.
      Optional<X509Certificate> admin = vouched(forwarded);
      if (admin.isEmpty()) {
        return refuse(call, Status.PERMISSION_DENIED.withDescription(caller.get() + " passed on a call with a"
            + " certificate this CA did not issue"));
      }
      certificate = admin;
      forwardedBy = caller.get();
      caller = admin.flatMap(PeerIdentity::of);
    }
    if (caller.isEmpty()) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription(
          "this call needs a client certificate from the Rackroll CA; enroll the agent or use the admin certificate"));
    }
    if (caller.get().role() != required.get()) {
      return refuse(call, Status.PERMISSION_DENIED.withDescription(
          caller.get() + " may not call " + call.getMethodDescriptor().getFullMethodName()
              + " (expected: a certificate of role " + required.get().name().toLowerCase() + ")"));
    }
    if (revocations.refused(caller.get(), certificate.get())) {
      return refuse(call, Status.PERMISSION_DENIED.withDescription(caller.get().role() == PeerIdentity.Role.ADMIN
          ? "certificate " + Revocations.serial(certificate.get()) + " of " + caller.get() + " was revoked; ask an owner"
              + " for a new one (rackroll admin add)"
          : revokedMessage(caller.get(), certificate.get())));
    }
    Context context = Context.current().withValue(CALLER, caller.get()).withValue(CERTIFICATE, certificate.get())
        .withValue(FORWARDED_BY, forwardedBy);
    if (required.get() == PeerIdentity.Role.ADMIN) {
      return admitAdmin(caller.get(), context, call, headers, next);
    }
    return Contexts.interceptCall(context, call, headers, next);
  }

  /**
   * Binds an admin call to its admin's current grant, or refuses it (and tells {@link #refusals})
   * when the admin is not active or its role may not make the call.
   */
  private <Q, A> ServerCall.Listener<Q> admitAdmin(PeerIdentity caller, Context context, ServerCall<Q, A> call,
      Metadata headers, ServerCallHandler<Q, A> next) {
    String method = call.getMethodDescriptor().getBareMethodName();
    Optional<Admins.Grant> grant = admins.grantOf(caller.name());
    Optional<AdminRole> role = grant.map(Admins.Grant::role);
    if (role.isEmpty()) {
      refusals.refused(caller.name(), method, "not an admin of this controller (revoked, or never added)");
      return refuse(call, Status.PERMISSION_DENIED.withDescription(caller + " is not an admin of this"
          + " controller (revoked, or never added); ask an owner: rackroll admin add " + caller.name()));
    }
    Optional<AdminRole> needed = Permissions.required(method);
    if (needed.isEmpty() || !role.get().atLeast(needed.get())) {
      String why = needed.map(n -> "needs the " + n.label() + " role or above").orElse("no role may");
      refusals.refused(caller.name(), method, why + "; " + caller.name() + " is " + role.get().label());
      return refuse(call, Status.PERMISSION_DENIED.withDescription(caller + " (" + role.get().label()
          + ") may not call " + method + ": " + why));
    }
    return Contexts.interceptCall(context.withValue(CALLER, caller).withValue(GRANT, grant.get()), call, headers, next);
  }

  /**
   * The web console's calls, made in this process for the admin a signed-in browser session
   * belongs to (named in {@link #CONSOLE_ADMIN}): checked against that admin's role exactly as its
   * certificate's calls are. Only for an in-process server, which nothing outside this process can
   * reach; such calls carry no certificate, so calls that need one are not offered to the console.
   */
  public ServerInterceptor console() {
    return new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
          ServerCallHandler<Q, A> next) {
        String name = headers.get(CONSOLE_ADMIN);
        if (name == null || !call.getMethodDescriptor().getServiceName().equals(AdminGrpc.SERVICE_NAME)) {
          return refuse(call, Status.UNAUTHENTICATED.withDescription("no signed-in admin"));
        }
        return admitAdmin(PeerIdentity.admin(name), Context.current(), call, headers, next);
      }
    };
  }

  /**
   * On a call one controller node passes on to the one that leads: the admin's certificate (base64
   * DER) the passing node verified. Believed only from a controller node's own certificate.
   */
  public static final Metadata.Key<String> FORWARDED_FOR = Metadata.Key.of("rackroll-forwarded-for",
      Metadata.ASCII_STRING_MARSHALLER);

  /** The forwarded certificate, if it parses and the CA this controller trusts issued it. */
  private Optional<X509Certificate> vouched(String base64) {
    if (trust == null) {
      return Optional.empty();
    }
    try {
      X509Certificate cert = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificate(new java.io.ByteArrayInputStream(java.util.Base64.getDecoder().decode(base64)));
      trust.checkClientTrusted(new X509Certificate[] {cert}, "EC");
      return Optional.of(cert);
    } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Names the admin of a web console call (see {@link #console()}). */
  public static final Metadata.Key<String> CONSOLE_ADMIN = Metadata.Key.of("rackroll-console-admin",
      Metadata.ASCII_STRING_MARSHALLER);

  /** What a revoked caller is told; agents recognise it by {@link PeerIdentity#REVOKED}. */
  private static String revokedMessage(PeerIdentity caller, X509Certificate certificate) {
    return PeerIdentity.REVOKED + ": certificate " + Revocations.serial(certificate) + " of " + caller
        + " was revoked, or the agent was given to another host; enroll this host again with a new token"
        + " (rackroll-agent enroll --token TOKEN)";
  }

  private static Optional<X509Certificate> peer(SSLSession session) {
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
        return Optional.of(leaf);
      }
    } catch (SSLPeerUnverifiedException e) {
      // no client certificate
    }
    return Optional.empty();
  }

  private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
