package io.rackroll.controller.store;

/**
 * Everything the controller persists, in one part per consumer over one database: enrollment
 * (tokens, certificates, revocation), agents (connections, facts and what hosts report),
 * releases, deployments, environments (the file, secrets and flags) and the audit log. Each part
 * is an interface with its JDBC implementation, so the embedded file database and PostgreSQL are
 * interchangeable; the contract tests are the behaviour every backend must show. Opened by
 * {@link JdbcStore}; a consumer takes only the parts it uses.
 *
 * <p>Every part is thread-safe; each method is one transaction, or one part of the transaction a
 * thread groups its writes into ({@link #commits()}).
 */
public final class Store implements AutoCloseable {
  private final EnrollmentStore enrollment;
  private final AgentStore agents;
  private final ReleaseStore releases;
  private final DeploymentStore deployments;
  private final EnvironmentStore environments;
  private final AuditStore audit;
  private final AutoCloseable owned;
  private final Commits commits;
  /** Null for a store one controller has to itself (the embedded one). */
  private final LeaseStore lease;
  /** Null for a store one controller has to itself (the embedded one). */
  private final ClusterStore cluster;
  /** Null for a store one controller has to itself (the embedded one). */
  private final BlobStore blobs;

  /** @param owned what closing the store closes (the connection pool), or null when the caller owns it */
  public Store(EnrollmentStore enrollment, AgentStore agents, ReleaseStore releases, DeploymentStore deployments,
      EnvironmentStore environments, AuditStore audit, AutoCloseable owned) {
    this(enrollment, agents, releases, deployments, environments, audit, owned, Commits.NONE);
  }

  /** @param commits how a thread groups its writes into one transaction ({@link Commits#NONE}: never) */
  public Store(EnrollmentStore enrollment, AgentStore agents, ReleaseStore releases, DeploymentStore deployments,
      EnvironmentStore environments, AuditStore audit, AutoCloseable owned, Commits commits) {
    this(enrollment, agents, releases, deployments, environments, audit, owned, commits, null, null, null);
  }

  /**
   * @param lease the lease of several controller nodes on this database, or null where there is one
   * @param cluster what those nodes tell each other, or null where there is one
   * @param blobs artifacts' bytes every node can read, or null where there is one
   */
  Store(EnrollmentStore enrollment, AgentStore agents, ReleaseStore releases, DeploymentStore deployments,
      EnvironmentStore environments, AuditStore audit, AutoCloseable owned, Commits commits, LeaseStore lease,
      ClusterStore cluster, BlobStore blobs) {
    this.blobs = blobs;
    this.lease = lease;
    this.cluster = cluster;
    this.commits = commits;
    this.enrollment = enrollment;
    this.agents = agents;
    this.releases = releases;
    this.deployments = deployments;
    this.environments = environments;
    this.audit = audit;
    this.owned = owned;
  }

  public EnrollmentStore enrollment() {
    return enrollment;
  }

  public AgentStore agents() {
    return agents;
  }

  public ReleaseStore releases() {
    return releases;
  }

  public DeploymentStore deployments() {
    return deployments;
  }

  public EnvironmentStore environments() {
    return environments;
  }

  public AuditStore audit() {
    return audit;
  }

  public Commits commits() {
    return commits;
  }

  /** The lease of several controller nodes on this database (PostgreSQL); empty for the embedded store. */
  public java.util.Optional<LeaseStore> lease() {
    return java.util.Optional.ofNullable(lease);
  }

  /** What the controller nodes on this database tell each other (PostgreSQL); empty for the embedded store. */
  public java.util.Optional<ClusterStore> cluster() {
    return java.util.Optional.ofNullable(cluster);
  }

  /** Artifacts' bytes every controller node can read (PostgreSQL); empty for the embedded store. */
  public java.util.Optional<BlobStore> blobs() {
    return java.util.Optional.ofNullable(blobs);
  }

  /** The same store with other commits: how a test makes a burst's commit fail. */
  public Store withCommits(Commits replacement) {
    return new Store(enrollment, agents, releases, deployments, environments, audit, owned, replacement, lease, cluster, blobs);
  }

  /** The same store with another agents part: how a test puts a gate in front of one lookup. */
  public Store withAgents(AgentStore replacement) {
    return new Store(enrollment, replacement, releases, deployments, environments, audit, owned, commits, lease, cluster, blobs);
  }

  @Override
  public void close() {
    if (owned != null) {
      try {
        owned.close();
      } catch (Exception e) {
        throw new StoreException("cannot close the database", e);
      }
    }
  }
}
