package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The environments file as applied, each environment's sealed secrets, and its flags of each app. */
public interface EnvironmentStore {
  /** Keeps {@code yaml} as the environments file in force; returns its version (1, 2, ...). */
  int applyEnvironments(String yaml, String by, Instant at);

  /** The environments file in force, if one was applied. */
  Optional<EnvironmentFile> environmentFile();

  record EnvironmentFile(int version, String yaml, String appliedBy, Instant appliedAt) {}

  /** Sets a secret's sealed value (see {@code env.SecretBox}); never a plain one. */
  void putSecret(StoredSecret secret);

  /** Removes a secret; returns whether there was one. */
  boolean deleteSecret(String environment, String name);

  /** Every secret, sealed. */
  List<StoredSecret> secrets();

  record StoredSecret(String environment, String name, String sealed, String updatedBy, Instant updatedAt) {}

  /**
   * Merges {@code changes} (each value JSON text; {@code null} removes the flag) into
   * {@code environment}'s flags of {@code app}: what a completed change to the whole environment
   * leaves, and what a host new to the app starts with there. Merging the same changes again
   * changes nothing.
   */
  void environmentFlags(String environment, String app, Map<String, String> changes, Instant at);

  /** Each environment's flags of {@code app}, by environment; environments without any are absent. */
  Map<String, Map<String, String>> environmentFlags(String app);
}
