package io.rackroll.agent.lifecycle;

import io.rackroll.trust.SecureFiles;
import io.rackroll.wire.JsonRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The configuration a release was installed with: its environment and variables (secrets
 * included), as the controller sent them. Kept beside the release, readable by root only, so its
 * hooks see the same values on every run, a switch back to a kept release brings that release's
 * own configuration back with it, and a job resumed after a crash renders what it was sent.
 *
 * @param digest the controller's name for this configuration, reported back so it can tell hosts
 *     running with older values
 * @param initialFlags the environment's runtime flags of the app: the host starts with them when it
 *     has none of the app's yet
 */
record ReleaseConfig(String environment, Map<String, String> variables, String digest,
    Map<String, String> initialFlags) {
  /** In a release directory, and for the job in flight in {@code apps/<app>/}. */
  static final String FILE = ".rackroll-config.json";
  static final ReleaseConfig NONE = new ReleaseConfig("", Map.of(), "", Map.of());

  ReleaseConfig {
    variables = new TreeMap<>(variables);
    digest = digest == null ? "" : digest; // written before digests existed
    initialFlags = initialFlags == null ? Map.of() : new TreeMap<>(initialFlags); // and before flags
  }

  /** The configuration in {@code dir}; none when the release was installed without one. */
  static ReleaseConfig read(Path dir) throws IOException {
    try {
      return JsonRecords.read(Files.readAllBytes(dir.resolve(FILE)), ReleaseConfig.class);
    } catch (NoSuchFileException e) {
      return NONE;
    }
  }

  /** Written atomically, owner-only: it may hold secrets. */
  void write(Path dir) throws IOException {
    SecureFiles.write(dir.resolve(FILE), JsonRecords.write(this), SecureFiles.OWNER_ONLY);
  }

  /** No values, ever: for logs. */
  @Override
  public String toString() {
    return "ReleaseConfig[environment=" + environment + ", variables=" + variables.keySet() + ", digest=" + digest
        + ", initialFlags=" + initialFlags.keySet() + "]";
  }
}
