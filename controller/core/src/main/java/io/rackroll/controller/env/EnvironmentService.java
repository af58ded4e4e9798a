package io.rackroll.controller.env;

import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.AgentStore;
import io.rackroll.controller.store.AuditStore;
import io.rackroll.controller.store.EnvironmentStore;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.store.EnvironmentStore.StoredSecret;
import io.rackroll.release.Template;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The environments file in force, loaded from the store at start and replaced by {@link #apply},
 * and each environment's secrets, sealed at rest by a {@link SecretBox}. Readers on any thread
 * see one whole file ({@link #current} is a single immutable value). Secret values are opened
 * only for a host of their environment ({@link #configurationOf}) and never logged or audited.
 */
public final class EnvironmentService {
  private static final Logger log = LoggerFactory.getLogger(EnvironmentService.class);
  /** Agents named in an overlap refusal, at most. */
  private static final int NAMED = 5;

  private final EnvironmentStore store;
  private final AgentStore agents;
  private final AuditStore audit;
  private final Clock clock;
  private final SecretBox box;
  private volatile Environments current;
  /** Sealed secrets by environment and name; replaced whole on each change. */
  private volatile Map<String, Map<String, StoredSecret>> secrets;
  /**
   * Each environment's configuration with its secrets opened, made on first use: a rollout to a
   * thousand hosts opens an environment's secrets once. Replaced by an empty one after every change
   * to the file or the secrets, and always read before them, so what it holds is never older.
   */
  private volatile Map<String, Configuration> opened = new ConcurrentHashMap<>();

  private EnvironmentService(EnvironmentStore store, AgentStore agents, AuditStore audit, Clock clock, SecretBox box,
      Environments current, Map<String, Map<String, StoredSecret>> secrets) {
    this.store = store;
    this.agents = agents;
    this.audit = audit;
    this.clock = clock;
    this.box = box;
    this.current = current;
    this.secrets = secrets;
  }

  /** The environments file in force and the sealed secrets, as the store holds them. */
  public static EnvironmentService load(EnvironmentStore store, AgentStore agents, AuditStore audit, Clock clock,
      SecretBox box) {
    Environments current = store.environmentFile()
        .map(f -> EnvironmentsFile.parse(f.yaml(), "environments file version " + f.version(), f.version(),
            f.appliedBy(), f.appliedAt()))
        .orElse(Environments.NONE);
    return new EnvironmentService(store, agents, audit, clock, box, current, bySecretEnvironment(store.secrets()));
  }

  public Environments current() {
    return current;
  }

  /** Told after each change this service made (another controller node then reloads). */
  private volatile Runnable changed = () -> { };

  public void onChange(Runnable changed) {
    this.changed = changed;
  }

  /** Reads the environments file and the secrets again: another controller node changed them. */
  public synchronized void reload() {
    current = store.environmentFile()
        .map(f -> EnvironmentsFile.parse(f.yaml(), "environments file version " + f.version(), f.version(),
            f.appliedBy(), f.appliedAt()))
        .orElse(Environments.NONE);
    secrets = bySecretEnvironment(store.secrets());
    opened = new ConcurrentHashMap<>();
    changed.run();
  }

  /**
   * Checks {@code yaml} against the fleet and, unless {@code dryRun}, puts it in force. Refused
   * with nothing changed when it is invalid or an agent would belong to two environments.
   */
  public synchronized Environments apply(String yaml, String source, boolean dryRun, String admin) {
    Environments next = EnvironmentsFile.parse(yaml, source, current.version() + 1, admin, clock.instant());
    List<String> overlaps = new ArrayList<>();
    for (StoredAgent a : agents.all()) {
      List<String> in = next.matching(a);
      if (in.size() > 1) {
        overlaps.add(a.id() + " (" + String.join(", ", in) + ")");
      }
    }
    if (!overlaps.isEmpty()) {
      throw new EnvironmentException(source + ": " + overlaps.size() + " agent(s) would belong to more than one"
          + " environment: " + String.join("; ", overlaps.subList(0, Math.min(NAMED, overlaps.size())))
          + (overlaps.size() > NAMED ? "; ..." : "") + "; make the selectors exclusive (e.g. env=staging, env=prod)");
    }
    if (dryRun) {
      return next;
    }
    int version = store.applyEnvironments(yaml, admin, next.appliedAt());
    next = new Environments(version, next.lifecycle(), next.byName(), yaml, admin, next.appliedAt());
    audit.record(AuditEntry.of(next.appliedAt(), admin, "env apply", "environments",
        "version " + version + ": " + String.join(", ", next.byName().keySet())
            + (next.lifecycle().isEmpty() ? "" : "; lifecycle " + String.join(" -> ", next.lifecycle()))));
    log.info("environments file version {} applied by {}: {}", version, admin, next.byName().keySet());
    current = next;
    opened = new ConcurrentHashMap<>();
    changed.run();
    return next;
  }

  /**
   * What a host's releases are configured with: its environment's variables and secrets, and the
   * digest naming them (empty for a host in no environment).
   */
  public record Configuration(String environment, Map<String, String> variables, String digest) {
    public static final Configuration NONE = new Configuration("", Map.of(), "");

    /** No values, ever: for logs. */
    @Override
    public String toString() {
      return "Configuration[environment=" + environment + ", variables=" + variables.keySet() + "]";
    }
  }

  /** {@code agent}'s environment and its variables, secrets opened; none outside environments. */
  public Configuration configurationOf(StoredAgent agent) {
    Map<String, Configuration> cache = opened; // first: see the declaration
    Optional<Environment> env = current.of(agent);
    if (env.isEmpty()) {
      return Configuration.NONE;
    }
    Map<String, Map<String, StoredSecret>> sealed = secrets;
    return cache.computeIfAbsent(env.get().name(), name -> {
      Map<String, String> vars = new TreeMap<>(env.get().variables());
      sealed.getOrDefault(name, Map.of()).values()
          .forEach(s -> vars.put(s.name(), box.open(s.environment(), s.name(), s.sealed())));
      return new Configuration(name, java.util.Collections.unmodifiableMap(vars), box.digest(name, vars));
    });
  }

  /** The secrets of {@code environment}, sealed: names and who set them when, for display. */
  public List<StoredSecret> secrets(String environment) {
    return List.copyOf(secrets.getOrDefault(environment, Map.of()).values());
  }

  public synchronized void setSecret(String environment, String name, String value, String admin) {
    Environment env = current.get(environment).orElseThrow(() -> new EnvironmentException("no environment \""
        + environment + "\"" + defined()));
    if (!Template.NAME.matcher(name).matches()) {
      throw new EnvironmentException("\"" + name + "\" is not a variable name (letters, digits, '_', '.', '-',"
          + " starting with a letter or '_')");
    }
    if (env.variables().containsKey(name)) {
      throw new EnvironmentException(name + " is a plain variable of " + environment + " in the environments file;"
          + " remove it there first, so the value lives in one place");
    }
    if (value.isEmpty()) {
      throw new EnvironmentException("the value of secret " + name + " is empty; give it on standard input");
    }
    Instant now = clock.instant();
    store.putSecret(new StoredSecret(environment, name, box.seal(environment, name, value), admin, now));
    audit.record(AuditEntry.of(now, admin, "secret set", environment + "/" + name, ""));
    secrets = bySecretEnvironment(store.secrets());
    opened = new ConcurrentHashMap<>();
    changed.run();
  }

  public synchronized void unsetSecret(String environment, String name, String admin) {
    if (!store.deleteSecret(environment, name)) {
      throw new EnvironmentException("no secret " + name + " in " + environment);
    }
    audit.record(AuditEntry.of(clock.instant(), admin, "secret unset", environment + "/" + name, ""));
    secrets = bySecretEnvironment(store.secrets());
    opened = new ConcurrentHashMap<>();
    changed.run();
  }

  private String defined() {
    return current.byName().isEmpty() ? "; apply an environments file first"
        : " (defined: " + String.join(", ", current.byName().keySet()) + ")";
  }

  private static Map<String, Map<String, StoredSecret>> bySecretEnvironment(List<StoredSecret> all) {
    Map<String, Map<String, StoredSecret>> m = new HashMap<>();
    all.forEach(s -> m.computeIfAbsent(s.environment(), e -> new TreeMap<>()).put(s.name(), s));
    return m;
  }
}
