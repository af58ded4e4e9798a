package io.rackroll.agent.identity;

import io.rackroll.proto.v1.Facts;
import io.rackroll.trust.KeyStatement;
import io.rackroll.trust.ReleaseKey;
import io.rackroll.trust.ReleaseSignature;
import io.rackroll.trust.SecureFiles;
import io.rackroll.wire.JsonRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which release keys this host trusts, and whether it runs only releases one of them signed. The
 * host decides this, not the controller: the keys come from the agent's configuration
 * ({@code releaseKeys}), from the token it enrolled with, and from key statements signed by a key
 * it trusts already (how a fleet moves to a new key); a withdrawn key stays withdrawn, whatever
 * the configuration says, and a withdrawn key can never be trusted again.
 *
 * <p>What enrollment and statements added is kept in {@value #FILE} in the state directory
 * (written, fsynced, renamed); the statements are verified again, in order, at every start.
 */
public final class ReleaseTrust {
  private static final Logger log = LoggerFactory.getLogger(ReleaseTrust.class);
  public static final String FILE = "release-trust.json";

  /** {@code requireSignedReleases}: off, on, or on once this host trusts (or trusted) any key. */
  public enum Policy {
    OFF, ON, AUTO;

    public static Policy parse(String text) {
      return switch (text == null ? "false" : text.strip().toLowerCase(Locale.ROOT)) {
        case "false", "off", "no" -> OFF;
        case "true", "on", "yes" -> ON;
        case "auto" -> AUTO;
        default -> throw new IllegalArgumentException("requireSignedReleases: \"" + text + "\" (expected: true, false"
            + " or auto, which requires signatures once this host trusts a release key)");
      };
    }
  }

  private final Path file;
  private final Policy policy;
  private final List<ReleaseKey> configured;
  /** Guarded by {@code this}. */
  private final Map<String, ReleaseKey> trusted = new LinkedHashMap<>();
  private final Set<String> withdrawn = new LinkedHashSet<>();
  private final List<ReleaseKey> enrolled = new ArrayList<>();
  private final List<String> statements = new ArrayList<>();

  /** The trust of the host whose state directory is {@code stateDir}, with its configured keys and policy. */
  public ReleaseTrust(Path stateDir, List<ReleaseKey> configured, Policy policy) throws IOException {
    this.file = stateDir.resolve(FILE);
    this.policy = policy;
    this.configured = List.copyOf(configured);
    Saved saved = new Saved(List.of(), List.of());
    try {
      saved = JsonRecords.read(Files.readAllBytes(file), Saved.class);
    } catch (NoSuchFileException e) {
      // nothing enrolled or stated yet
    } catch (IOException e) {
      throw new IOException(file + " cannot be read (" + e.getMessage() + "); this host's release keys are in it, so"
          + " the agent does not start without it: restore it, or remove it to trust only releaseKeys", e);
    }
    synchronized (this) {
      configured.forEach(k -> trusted.put(k.id(), k));
      for (String k : saved.enrolled()) {
        ReleaseKey key = ReleaseKey.parse(k);
        enrolled.add(key);
        trusted.put(key.id(), key);
      }
      List<KeyStatement> replay = new ArrayList<>();
      for (String s : saved.statements()) {
        replay.add(KeyStatement.parse(s));
      }
      accept(replay);
    }
  }

  /** Trusts {@code keys} from now on, as the token this host enrolled with named them. */
  public synchronized void enrolled(List<ReleaseKey> keys) throws IOException {
    for (ReleaseKey k : keys) {
      if (!withdrawn.contains(k.id()) && !trusted.containsKey(k.id())) {
        enrolled.add(k);
        trusted.put(k.id(), k);
      }
    }
    save(); // at enrollment, before the agent runs: a failure here fails the enrollment
  }

  /**
   * Applies the statements among {@code texts} that a key this host trusts signed (in an order
   * that lets a statement rely on one before it); the others are ignored. Returns what changed.
   */
  public synchronized List<String> apply(List<String> texts) throws IOException {
    List<KeyStatement> parsed = new ArrayList<>();
    for (String t : texts) {
      try {
        parsed.add(KeyStatement.parse(t));
      } catch (IllegalArgumentException e) {
        log.warn("ignored a key statement from the controller: {}", e.getMessage());
      }
    }
    Map<String, ReleaseKey> trustedBefore = new LinkedHashMap<>(trusted);
    Set<String> withdrawnBefore = new LinkedHashSet<>(withdrawn);
    int statementsBefore = statements.size();
    List<String> changed = accept(parsed);
    if (statements.size() > statementsBefore) {
      try {
        save();
      } catch (IOException e) {
        // Not recorded, so not applied: the controller offers every statement again at the next connect.
        trusted.clear();
        trusted.putAll(trustedBefore);
        withdrawn.clear();
        withdrawn.addAll(withdrawnBefore);
        statements.subList(statementsBefore, statements.size()).clear();
        throw e;
      }
      changed.forEach(c -> log.warn("release keys: {}", c));
    }
    return changed;
  }

  /** Accepts what a trusted key signed until nothing more is; each statement once. */
  private List<String> accept(List<KeyStatement> offered) {
    List<String> changed = new ArrayList<>();
    List<KeyStatement> pending = new ArrayList<>(offered);
    boolean progress = true;
    while (progress) {
      progress = false;
      for (var it = pending.iterator(); it.hasNext(); ) {
        KeyStatement s = it.next();
        String text = s.format();
        if (statements.contains(text)) {
          it.remove();
          continue;
        }
        ReleaseKey signer = trusted.get(s.signerId());
        if (signer == null || !s.signedBy(signer)) {
          continue;
        }
        it.remove();
        progress = true;
        statements.add(text);
        String subject = s.subject().id();
        if (s.action() == KeyStatement.Action.TRUST && !withdrawn.contains(subject) && !trusted.containsKey(subject)) {
          trusted.put(subject, s.subject());
          changed.add("trusts key " + subject + " (" + s.describe() + ")");
        } else if (s.action() == KeyStatement.Action.WITHDRAW && withdrawn.add(subject)) {
          trusted.remove(subject);
          changed.add("no longer trusts key " + subject + " (" + s.describe() + ")");
        }
      }
    }
    return changed;
  }

  /** Whether this host installs only releases signed by a key it trusts. */
  public synchronized boolean required() {
    return policy == Policy.ON || policy == Policy.AUTO && !(trusted.isEmpty() && withdrawn.isEmpty());
  }

  /** The ids of the keys this host trusts now. */
  public synchronized List<String> keyIds() {
    return List.copyOf(trusted.keySet());
  }

  /**
   * Why this host refuses {@code app@version} (artifact SHA-256 {@code digest}) with {@code
   * signature} (its text; empty: unsigned); empty when it may install it.
   */
  public synchronized Optional<String> refusal(String app, String version, String digest, String signature) {
    if (!required()) {
      return Optional.empty();
    }
    String release = app + "@" + version;
    if (signature.isBlank()) {
      return Optional.of(release + " is not signed, and this host runs only signed releases (requireSignedReleases);"
          + " sign it with 'rackroll release sign' and push it again");
    }
    try {
      return ReleaseSignature.parse(signature).refusal(app, version, digest, Map.copyOf(trusted))
          .map(why -> release + ": " + why + (why.contains("does not trust") ? " (releaseKeys, or a key statement)" : ""));
    } catch (IllegalArgumentException e) {
      return Optional.of(release + ": " + e.getMessage());
    }
  }

  /** {@code facts} with what the controller is told of this trust: the policy and the key ids. */
  public Facts withTrust(Facts facts) {
    return facts.toBuilder().setReleaseTrust(io.rackroll.proto.v1.ReleaseTrust.newBuilder()
        .setRequireSigned(required()).addAllKeyIds(keyIds())).build();
  }

  private void save() throws IOException {
    Saved s = new Saved(enrolled.stream().map(k -> k.format("")).toList(), List.copyOf(statements));
    SecureFiles.write(file, JsonRecords.writePretty(s), SecureFiles.OWNER_ONLY);
  }

  /** The file: keys enrolled with, and statements applied, in order. */
  record Saved(List<String> enrolled, List<String> statements) {
    Saved {
      enrolled = enrolled == null ? List.of() : enrolled;
      statements = statements == null ? List.of() : statements;
    }
  }
}
