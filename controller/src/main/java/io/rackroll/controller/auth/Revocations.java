package io.rackroll.controller.auth;

import io.rackroll.controller.store.Store;
import io.rackroll.trust.SecureFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The serials of revoked certificates, in memory: checked on every call, so it must cost a hash
 * lookup. The store is the record ({@code revoked_certificates}); this set is loaded from it at
 * start and added to after each revocation.
 *
 * <p>Each revocation is also appended to a journal in the data directory ({@value #JOURNAL},
 * "agent serial" lines, fsynced) before the admin is told it is done: the embedded database can
 * lose the last moments of commits to a killed process, and a revocation must never be among
 * them. At start, serials in the journal are refused whatever the store says, and an agent whose
 * revocation the store lost is revoked there again ({@link #lostFromStore}).
 */
public final class Revocations {
  public static final String JOURNAL = "revoked-certificates";
  private final Set<BigInteger> serials = ConcurrentHashMap.newKeySet();
  private final Path journal;
  /** Journal lines, in order: serial to agent id. Guarded by {@code this}. */
  private final Map<String, String> journaled = new LinkedHashMap<>();

  private Revocations(Path journal) {
    this.journal = journal;
  }

  /** The store's revoked serials and the journal's, from {@code dataDir}. */
  public static Revocations load(Store store, Instant now, Path dataDir) throws IOException {
    Revocations r = new Revocations(dataDir.resolve(JOURNAL));
    r.add(store.revokedSerials(now));
    try {
      for (String line : Files.readAllLines(r.journal)) {
        String[] agentAndSerial = line.strip().split(" ");
        if (agentAndSerial.length == 2) {
          r.journaled.put(agentAndSerial[1], agentAndSerial[0]);
          r.serials.add(new BigInteger(agentAndSerial[1], 16));
        }
      }
    } catch (NoSuchFileException none) {
      // no revocation yet
    }
    return r;
  }

  /** Agents whose revocation is in the journal but not in the store: it lost it in an unclean stop. */
  public List<String> lostFromStore(Store store) {
    List<String> agents = new ArrayList<>();
    synchronized (this) {
      journaled.forEach((serial, agent) -> {
        if (!store.certificateRevoked(serial) && !agents.contains(agent)) {
          agents.add(agent);
        }
      });
    }
    return agents;
  }

  /** Serials as the store writes them: lower-case hex. */
  public static String serial(X509Certificate certificate) {
    return certificate.getSerialNumber().toString(16);
  }

  public boolean refused(X509Certificate certificate) {
    return refused(certificate.getSerialNumber());
  }

  public boolean refused(BigInteger serial) {
    return serials.contains(serial);
  }

  /** Adds serials as the store writes them. */
  public void add(Collection<String> revoked) {
    revoked.forEach(hex -> serials.add(new BigInteger(hex, 16)));
  }

  /** Refuses {@code revoked} from now on, journaled on disk (written, fsynced, renamed) before it returns. */
  public synchronized void revoked(String agentId, Collection<String> revoked) throws IOException {
    add(revoked);
    revoked.forEach(s -> journaled.put(s, agentId));
    StringBuilder text = new StringBuilder();
    journaled.forEach((serial, agent) -> text.append(agent).append(' ').append(serial).append('\n'));
    SecureFiles.writeString(journal, text.toString(), SecureFiles.OWNER_ONLY);
  }
}
