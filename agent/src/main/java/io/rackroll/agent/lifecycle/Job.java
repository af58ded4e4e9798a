package io.rackroll.agent.lifecycle;

import io.rackroll.release.UnpackLimits;

/**
 * One release going onto this host, as persisted in {@code apps/<app>/lifecycle.json}: the phase
 * together with everything the next step needs, written in one atomic file replace.
 *
 * @param deploymentId the controller's deployment this job belongs to, for its reports
 * @param version the release directory it installs or switches to: the version, or for a
 *     reconfigured one {@code <version>~<digest prefix>} (see {@link Releases})
 * @param previous the release {@code current} pointed to before this job (empty for a first install)
 * @param entries how many times this phase has been entered; recovery increments it, and past a
 *     limit the job fails instead of looping across crashes
 * @param failure the operator-facing reason, for FAILED and ROLLED_BACK
 * @param failureKind machine-readable cause: hook_failed, hook_timed_out, health_failed, refused,
 *     verification_failed, config_failed (a template), disk_full, unreachable, crashed_loop, rollback_failed
 * @param unpackedBytes what the artifact's files add up to, as the controller recorded at push: the
 *     most the host unpacks, whatever the archive claims (0: not known, from an older controller)
 * @param unpackedEntries the artifact's entry count as recorded at push (0: not known)
 * @param stopped the agent stopped cleanly (SIGTERM) before running this phase's step: nothing of
 *     it ran, so a restart runs it as if nothing happened
 */
record Job(String deploymentId, String app, String version, String digest, long size, String previous, Phase phase, int entries,
    String failureKind, String failure, long updatedAtMillis, long unpackedBytes, long unpackedEntries,
    boolean stopped) {

  /** A job whose artifact's unpacked figures are not known (a rollback, or a test). */
  Job(String deploymentId, String app, String version, String digest, long size, String previous, Phase phase,
      int entries, String failureKind, String failure, long updatedAtMillis) {
    this(deploymentId, app, version, digest, size, previous, phase, entries, failureKind, failure, updatedAtMillis, 0, 0,
        false);
  }

  Job(String deploymentId, String app, String version, String digest, long size, String previous, Phase phase,
      int entries, String failureKind, String failure, long updatedAtMillis, long unpackedBytes, long unpackedEntries) {
    this(deploymentId, app, version, digest, size, previous, phase, entries, failureKind, failure, updatedAtMillis,
        unpackedBytes, unpackedEntries, false);
  }

  /**
   * A switch to a release the host keeps (a rollback, or the revert of a deployment), not an
   * install of a new one: no artifact. Its target is proven, so after an interruption it goes on
   * toward it rather than back.
   */
  boolean switchOnly() {
    return digest.isEmpty();
  }

  /** The same job, recorded as stopped cleanly before its phase's step ran. */
  Job stoppedBeforeStep() {
    return new Job(deploymentId, app, version, digest, size, previous, phase, entries, failureKind, failure,
        updatedAtMillis, unpackedBytes, unpackedEntries, true);
  }

  /** The limits the host unpacks this job's artifact with: what the push recorded. */
  UnpackLimits unpackLimits() {
    return unpackedBytes <= 0 ? UnpackLimits.NONE
        : new UnpackLimits(unpackedBytes, unpackedEntries, 0, "the size recorded when it was pushed; refused");
  }

  /** app@version, for the operator: the version without the directory's configuration suffix. */
  String ref() {
    String v = Releases.versionOf(version);
    return app + "@" + v + (v.equals(version) ? "" : " (reconfigured)");
  }

  Job to(Phase next, long at) {
    phase.checkTransition(next);
    return new Job(deploymentId, app, version, digest, size, previous, next, 0, failureKind, failure, at, unpackedBytes,
        unpackedEntries, false);
  }

  Job failing(Phase next, String kind, String why, long at) {
    phase.checkTransition(next);
    return new Job(deploymentId, app, version, digest, size, previous, next, 0, kind, why, at, unpackedBytes,
        unpackedEntries, false);
  }

  /** Entered again after a restart; a clean stop is no crash, so it does not count toward the loop limit. */
  Job reentered(long at) {
    return new Job(deploymentId, app, version, digest, size, previous, phase, stopped ? entries : entries + 1,
        failureKind, failure, at, unpackedBytes, unpackedEntries, false);
  }
}
