package io.rackroll.controller.auth;

import io.rackroll.controller.store.EnrollmentStore;
import io.rackroll.trust.PeerIdentity;
import io.rackroll.trust.SecureFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who is refused, in memory: checked on every call, so it must cost a hash lookup. Two things are
 * refused: revoked agents, whatever certificate they show (an identity is revoked, not a list of
 * serials), and the serials of every certificate issued to an agent before it was revoked or given
 * to a new host ({@code token create --replaces}), which outlive a later replacement. The store is
 * the record ({@code agents.revoked_at}, {@code revoked_certificates}); these sets are loaded from
 * it at start and changed after each revocation or replacement.
 *
 * <p>Each change is also written to a journal in the data directory ({@value #JOURNAL}: "agent
 * serial" lines, and "agent *" for a revoked agent; written, fsynced, renamed) before the admin
 * is told it is done: the embedded database can lose the last moments of commits to a killed
 * process, and a revocation must never be among them. At start, what the journal refuses is
 * refused whatever the store says, and an agent whose revocation the store lost is revoked there
 * again ({@link #lostFromStore}).
 */
public final class Revocations {
  public static final String JOURNAL = "revoked-certificates";
  /** Marks a revoked agent in the journal, in place of a serial. */
  private static final String AGENT = "*";
  private final Set<BigInteger> serials = ConcurrentHashMap.newKeySet();
  private final Set<String> agents = ConcurrentHashMap.newKeySet();
  private final Path journal;
  /** Journal lines, in order: serial to agent id. Guarded by {@code this}. */
  private final Map<String, String> journaled = new LinkedHashMap<>();
  /** Journal lines of revoked agents. Guarded by {@code this}. */
  private final Set<String> journaledAgents = new java.util.LinkedHashSet<>();

  private Revocations(Path journal) {
    this.journal = journal;
  }

  /** The store's revoked serials and the journal's, from {@code dataDir}. */
  public static Revocations load(EnrollmentStore store, Instant now, Path dataDir) throws IOException {
    Revocations r = new Revocations(dataDir.resolve(JOURNAL));
    r.add(store.revokedSerials(now));
    r.agents.addAll(store.revokedAgents());
    try {
      for (String line : Files.readAllLines(r.journal)) {
        String[] agentAndSerial = line.strip().split(" ");
        if (agentAndSerial.length != 2) {
          continue;
        }
        if (agentAndSerial[1].equals(AGENT)) {
          r.agents.add(agentAndSerial[0]);
          r.journaledAgents.add(agentAndSerial[0]);
        } else {
          r.journaled.put(agentAndSerial[1], agentAndSerial[0]);
          r.serials.add(new BigInteger(agentAndSerial[1], 16));
        }
      }
    } catch (NoSuchFileException none) {
      // no revocation yet
    }
    return r;
  }

  /**
   * Agents revoked in the journal but not in the store: it lost the revocation in an unclean stop.
   * (Serials alone, as a replaced host's are journaled, revoke no agent: they stay refused from the
   * journal whatever the store says.)
   */
  public List<String> lostFromStore(EnrollmentStore store) {
    Set<String> revokedInStore = store.revokedAgents();
    synchronized (this) {
      return journaledAgents.stream().filter(agent -> !revokedInStore.contains(agent)).toList();
    }
  }

  /** Serials as the store writes them: lower-case hex. */
  public static String serial(X509Certificate certificate) {
    return certificate.getSerialNumber().toString(16);
  }

  /** Whether {@code caller}'s {@code certificate} is refused: the caller is a revoked agent, or this certificate is revoked. */
  public boolean refused(PeerIdentity caller, X509Certificate certificate) {
    return caller.role() == PeerIdentity.Role.AGENT && agents.contains(caller.name())
        || refused(certificate.getSerialNumber());
  }

  public boolean refused(BigInteger serial) {
    return serials.contains(serial);
  }

  /** Adds serials as the store writes them. */
  public void add(Collection<String> revoked) {
    revoked.forEach(hex -> serials.add(new BigInteger(hex, 16)));
  }

  /**
   * Refuses {@code agentId} and its certificates {@code revoked} from now on, journaled on disk
   * (written, fsynced, renamed) before it returns.
   */
  public synchronized void revoked(String agentId, Collection<String> revoked) throws IOException {
    agents.add(agentId);
    journaledAgents.add(agentId);
    retired(agentId, revoked);
  }

  /**
   * Refuses the certificates {@code retired} of {@code agentId} from now on (journaled before it
   * returns), without refusing the agent: its host was replaced, and the new host's certificates work.
   */
  public synchronized void retired(String agentId, Collection<String> retired) throws IOException {
    add(retired);
    retired.forEach(s -> journaled.put(s, agentId));
    write();
    onChange.run();
  }

  /**
   * {@code agentId} was given to a new host: its certificates {@code retired} are refused from now
   * on, and the agent is no longer refused as a whole. One journal write, before it returns.
   */
  public synchronized void replaced(String agentId, Collection<String> retired) throws IOException {
    add(retired);
    retired.forEach(s -> journaled.put(s, agentId));
    journaledAgents.remove(agentId);
    write();
    agents.remove(agentId);
    onChange.run();
  }

  /** Told after each revocation this node made (another controller node then refreshes). */
  private volatile Runnable onChange = () -> { };

  public void onChange(Runnable onChange) {
    this.onChange = onChange;
  }

  /**
   * Takes in the revocations another controller node made (they are in the store); returns the
   * agents revoked since this node last looked, whose streams to this node must end.
   */
  public synchronized List<String> refresh(EnrollmentStore store, Instant now) {
    add(store.revokedSerials(now));
    Set<String> revoked = new java.util.HashSet<>(store.revokedAgents());
    revoked.addAll(journaledAgents);
    List<String> fresh = revoked.stream().filter(a -> !agents.contains(a)).sorted().toList();
    agents.retainAll(revoked); // an agent given to a new host elsewhere is no longer refused as a whole
    agents.addAll(revoked);
    return fresh;
  }

  private void write() throws IOException {
    StringBuilder text = new StringBuilder();
    journaled.forEach((serial, agent) -> text.append(agent).append(' ').append(serial).append('\n'));
    journaledAgents.forEach(agent -> text.append(agent).append(' ').append(AGENT).append('\n'));
    SecureFiles.writeString(journal, text.toString(), SecureFiles.OWNER_ONLY);
  }
}
