package io.rackroll.agent.identity;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.agent.link.ControllerLink;
import io.rackroll.proto.v1.AgentLinkGrpc;
import io.rackroll.proto.v1.RenewRequest;
import io.rackroll.proto.v1.RenewResponse;
import io.rackroll.trust.LiveCredentials;
import io.rackroll.trust.Pem;
import io.rackroll.wire.Statuses;
import io.rackroll.wire.Threads;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this agent's certificate valid without an operator: at two thirds of its lifetime the
 * agent asks the controller for a new one over its existing mTLS channel, writes it atomically
 * and presents it from the next handshake on. Streams already open carry on untouched.
 *
 * <p>Also keeps the trusted CAs current: the controller sends its trust bundle on every welcome,
 * and during a CA rotation a certificate the newest CA did not sign is renewed at once.
 */
public final class CertificateRenewal implements ControllerLink.Trust, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CertificateRenewal.class);
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final Duration MAX_RETRY = Duration.ofMinutes(5);

  private final AgentIdentity identity;
  private final LiveCredentials live;
  private final Channel channel;
  private final Clock clock;
  private final Consumer<String> refused;
  private final ScheduledExecutorService thread = Threads.serial("certificate-renewal");
  /** Confined to {@link #thread}. */
  private ScheduledFuture<?> next;
  /** Renewals failed in a row, on the renewal thread: the first of a series is logged as a warning. */
  private int failedAttempts;

  /** {@code refused} is told when the controller refuses this agent for good (revoked). */
  public CertificateRenewal(AgentIdentity identity, LiveCredentials live, Channel channel, Clock clock,
      Consumer<String> refused) {
    this.identity = identity;
    this.live = live;
    this.channel = channel;
    this.clock = clock;
    this.refused = refused;
  }

  /** When a certificate is due for renewal: two thirds into its validity. */
  public static Instant renewAt(X509Certificate certificate) {
    Instant from = certificate.getNotBefore().toInstant();
    Instant to = certificate.getNotAfter().toInstant();
    return from.plus(Duration.between(from, to).multipliedBy(2).dividedBy(3));
  }

  public void start() {
    thread.execute(this::schedule);
  }

  @Override
  public X509Certificate certificate() {
    return live.certificate();
  }

  @Override
  public void refused(String why) {
    refused.accept(why);
  }

  /** The controller's trust bundle, from its welcome; any thread. */
  @Override
  public void bundle(String bundlePem) {
    if (bundlePem.isEmpty()) {
      return;
    }
    Threads.post(thread, () -> {
      List<X509Certificate> bundle = Pem.certificates(bundlePem);
      if (!bundle.equals(live.trusted())) {
        try {
          identity.saveTrust(bundlePem);
        } catch (IOException e) {
          log.error("cannot save the controller's trust bundle: {}", e.toString());
          return;
        }
        live.update(List.of(live.certificate()), bundle);
        log.info("trusted CAs are now {}", bundle.stream().map(c -> c.getSubjectX500Principal().getName()).toList());
      }
      if (!signedBy(live.certificate(), bundle.get(0))) {
        log.info("the controller signs with a new CA; renewing this agent's certificate now");
        renew();
      }
    });
  }

  private static boolean signedBy(X509Certificate cert, X509Certificate ca) {
    try {
      cert.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private void schedule() {
    long delay = Duration.between(clock.instant(), renewAt(live.certificate())).toMillis();
    reschedule(Math.max(0, delay));
  }

  private void reschedule(long delayMillis) {
    if (next != null) {
      next.cancel(false);
    }
    next = thread.schedule(this::renew, delayMillis, TimeUnit.MILLISECONDS);
  }

  private void renew() {
    X509Certificate old = live.certificate();
    RenewResponse r;
    try {
      r = AgentLinkGrpc.newBlockingStub(channel).withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
          .renew(RenewRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.PERMISSION_DENIED) {
        refused.accept(e.getStatus().getDescription());
        return;
      }
      Duration left = Duration.between(clock.instant(), old.getNotAfter().toInstant());
      Duration retry = left.dividedBy(10);
      retry = retry.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1)
          : retry.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : retry;
      // Once per outage: a controller away for an hour must not fill the log with one line a retry.
      failedAttempts++;
      String line = "cannot renew this agent's certificate (valid until {}): {}; retrying in {} s";
      if (failedAttempts == 1) {
        log.warn(line + " (further attempts are logged at debug)", old.getNotAfter().toInstant(),
            Statuses.describe(e.getStatus()), retry.toSeconds());
      } else {
        log.debug(line, old.getNotAfter().toInstant(), Statuses.describe(e.getStatus()), retry.toSeconds());
      }
      reschedule(retry.toMillis());
      return;
    }
    int attempts = failedAttempts;
    failedAttempts = 0;
    try {
      List<X509Certificate> chain = Pem.certificates(r.getCertificatePem());
      List<X509Certificate> bundle = Pem.certificates(r.getTrustBundlePem());
      if (!chain.get(0).getPublicKey().equals(old.getPublicKey())) {
        throw new IOException("the controller returned a certificate for another key");
      }
      // Trust first: a certificate from a new CA is only useful to an agent that trusts that CA.
      identity.saveTrust(r.getTrustBundlePem());
      identity.saveCertificate(r.getCertificatePem());
      live.update(chain, bundle);
      log.info("renewed this agent's certificate: serial {} valid until {} (renews again after {}{})",
          chain.get(0).getSerialNumber().toString(16), chain.get(0).getNotAfter().toInstant(), renewAt(chain.get(0)),
          attempts == 0 ? "" : "; " + attempts + " attempt(s) failed before");
    } catch (IOException | RuntimeException e) {
      log.error("cannot use the renewed certificate: {}; retrying in a minute", e.toString());
      reschedule(Duration.ofMinutes(1).toMillis());
      return;
    }
    // Never sooner than a second: a controller whose lifetimes are shorter than the clock skew must not spin us.
    reschedule(Math.max(1_000, Duration.between(clock.instant(), renewAt(live.certificate())).toMillis()));
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
