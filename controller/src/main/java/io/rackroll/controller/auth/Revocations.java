package io.rackroll.controller.auth;

import io.rackroll.controller.store.Store;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The serials of revoked certificates that have not expired yet, in memory: checked on every
 * call, so it must cost a hash lookup. The store is the record ({@code revoked_certificates});
 * this set is loaded from it at start and added to after each revocation is stored.
 */
public final class Revocations {
  private final Set<BigInteger> serials = ConcurrentHashMap.newKeySet();

  public static Revocations load(Store store, Instant now) {
    Revocations r = new Revocations();
    r.add(store.revokedSerials(now));
    return r;
  }

  /** Serials as the store writes them: lower-case hex. */
  public static String serial(X509Certificate certificate) {
    return certificate.getSerialNumber().toString(16);
  }

  public boolean refused(X509Certificate certificate) {
    return serials.contains(certificate.getSerialNumber());
  }

  /** Adds serials as the store writes them. */
  public void add(Collection<String> revoked) {
    revoked.forEach(hex -> serials.add(new BigInteger(hex, 16)));
  }
}
