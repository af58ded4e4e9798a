package io.rackroll.agent.lifecycle;

/**
 * Names of release directories. A release is installed as {@code releases/<version>}; the same
 * version installed again with other configuration (a reconfigure) gets its own directory,
 * {@code releases/<version>~<digest prefix>}, so the switch to the new values and the way back
 * are the same atomic {@code current} swap as between versions. Versions cannot contain
 * {@code ~} (see the manifest's version grammar), so the controller only ever sees versions.
 */
final class Releases {
  static final char CONFIGURED = '~';

  private Releases() {
  }

  /** The version installed in release directory {@code release}. */
  static String versionOf(String release) {
    int at = release.indexOf(CONFIGURED);
    return at < 0 ? release : release.substring(0, at);
  }

  /** The directory name for {@code version} installed with configuration {@code configDigest}, when plain is taken. */
  static String configured(String version, String configDigest) {
    String suffix = configDigest.isEmpty() ? "none" : configDigest.substring(0, Math.min(12, configDigest.length()));
    return version + CONFIGURED + suffix;
  }
}
