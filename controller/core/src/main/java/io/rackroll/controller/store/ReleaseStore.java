package io.rackroll.controller.store;

import java.util.List;
import java.util.Optional;

/** Pushed releases (immutable: the first push of a name@version wins) and who may fetch their artifacts. */
public interface ReleaseStore {
  /**
   * Records a release unless name@version exists. Returns the release now recorded under that
   * name@version: {@code release} itself, or the one that was there first (the caller compares
   * digests). Atomic, so two racing pushes agree on one winner.
   */
  StoredRelease addRelease(StoredRelease release);

  Optional<StoredRelease> release(String name, String version);

  /** Releases, newest push first; all applications when {@code name} is empty. */
  List<StoredRelease> list(String name);

  /** Puts {@code signature} on release {@code name@version} (replacing any); false when there is no such release. */
  boolean setSignature(String name, String version, String signature);

  /** Records a key statement once (by its id); false when it was recorded already. */
  boolean addKeyStatement(KeyStatementRecord statement);

  /** Every key statement, in the order pushed. */
  List<KeyStatementRecord> keyStatements();

  /**
   * A key statement as pushed: {@code id} is the SHA-256 of its text, so the same statement is
   * kept once.
   */
  record KeyStatementRecord(String id, String text, String pushedBy, java.time.Instant pushedAt) {}

  /** Whether a deployment selected this agent for the release whose artifact has this digest. */
  boolean agentMayFetch(String agentId, String digest);
}
