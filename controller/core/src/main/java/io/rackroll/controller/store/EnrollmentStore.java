package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Tokens, enrollment and what an agent's certificates are worth: the enrollment service, token
 * commands and the revocation list are its consumers.
 */
public interface EnrollmentStore {
  void createToken(NewToken token);

  /**
   * Spends one use of a token if it exists, its secret hash matches, it has not expired at
   * {@code now} and has uses left. Atomic: two agents racing for a single-use token cannot both win.
   */
  Redemption redeemToken(String tokenId, String secretHash, Instant now);

  /**
   * Records a newly issued certificate. A new agent starts {@link ConnectionState#ENROLLED}; an
   * enrollment that {@link Enrollment#replaces} an agent takes over its row (labels replaced,
   * revocation lifted) and refuses every certificate issued for it before. Returns the serials it
   * refused (none for a new agent).
   *
   * @throws StoreException for a new agent whose id exists, or a replacement of one that does not
   */
  List<String> enroll(Enrollment enrollment);

  /** Serials of the unexpired certificates issued to {@code agentId} and not refused yet. */
  List<String> certificatesOf(String agentId, Instant now);

  /** Agents revoked by an admin (and not since given to a new host): refused whatever certificate they show. */
  Set<String> revokedAgents();

  /**
   * Records a renewed certificate, unless the agent is revoked or {@code presentedSerial} is
   * neither its current nor its previous certificate; returns whether it was recorded. Renewing
   * from the current certificate keeps that one as the previous; renewing again from the previous
   * one (the agent lost the answer) replaces only the current.
   */
  boolean renewed(String agentId, String presentedSerial, String serial, Instant notAfter, String caFingerprint,
      String certificateFingerprint);

  /**
   * Fingerprints of the agent certificates issued and recorded with one, unexpired at {@code now}
   * and not refused: the certificates a handshake may know by their hash.
   */
  Set<String> issuedFingerprints(Instant now);

  /**
   * Records the fingerprint of the agent certificate with this serial, issued before fingerprints
   * were kept, once a handshake has verified it in full. Nothing for a serial not issued to an
   * agent, or one that has a fingerprint.
   */
  void learnedFingerprint(String serial, String fingerprint);

  /**
   * Marks the agent {@link ConnectionState#REVOKED} and refuses every unexpired certificate ever
   * issued to it. Returns the serials refused now, or empty if there is no such agent.
   */
  Optional<List<String>> revoke(String agentId, String by, Instant at);

  /** Whether the certificate with this serial was ever revoked (expired or not). */
  boolean certificateRevoked(String serial);

  /** Serials of revoked certificates that have not expired at {@code now}. */
  Set<String> revokedSerials(Instant now);

  /** Every admin, active or revoked, by name; certificates counted as of {@code now}. */
  List<StoredAdmin> admins(Instant now);

  /**
   * Records admin {@code name} with {@code role} and its first certificate, in one transaction, or
   * makes a revoked one active again (its old certificates stay refused). False, recording
   * nothing, when an active admin has that name.
   */
  boolean addAdmin(String name, String role, List<String> environments, String serial, Instant notAfter, String by, Instant at);

  /** Records a certificate issued to admin {@code name}; once only per serial. */
  void adminIssued(String name, String serial, Instant notAfter, Instant at);

  /**
   * Revokes admin {@code name} and refuses every unexpired certificate issued to it; the serials
   * refused now, or empty when there is no active admin of that name.
   */
  Optional<List<String>> revokeAdmin(String name, String by, Instant at);
}
