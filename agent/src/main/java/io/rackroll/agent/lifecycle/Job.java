package io.rackroll.agent.lifecycle;

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
 */
public record Job(String deploymentId, String app, String version, String digest, long size, String previous, Phase phase, int entries,
    String failureKind, String failure, long updatedAtMillis) {

  /** app@version, for the operator: the version without the directory's configuration suffix. */
  String ref() {
    String v = Releases.versionOf(version);
    return app + "@" + v + (v.equals(version) ? "" : " (reconfigured)");
  }

  Job to(Phase next, long at) {
    phase.checkTransition(next);
    return new Job(deploymentId, app, version, digest, size, previous, next, 0, failureKind, failure, at);
  }

  Job failing(Phase next, String kind, String why, long at) {
    phase.checkTransition(next);
    return new Job(deploymentId, app, version, digest, size, previous, next, 0, kind, why, at);
  }

  Job reentered(long at) {
    return new Job(deploymentId, app, version, digest, size, previous, phase, entries + 1, failureKind, failure, at);
  }
}
