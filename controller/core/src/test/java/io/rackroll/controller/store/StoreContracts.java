package io.rackroll.controller.store;

import org.junit.jupiter.api.Nested;

/**
 * Every part's contract, run on the store a backend's test gives: each backend's test extends
 * this and says how it opens its store.
 */
abstract class StoreContracts {
  /** The store under test, as the backend's test holds it now. */
  abstract Store store();

  @Nested
  class Enrollments extends EnrollmentStoreContract {
    @Override
    Store store() {
      return StoreContracts.this.store();
    }
  }

  @Nested
  class GroupCommits extends CommitsContract {
    @Override
    Store store() {
      return StoreContracts.this.store();
    }
  }

  @Nested
  class Agents extends AgentStoreContract {
    @Override
    Store store() {
      return StoreContracts.this.store();
    }
  }

  @Nested
  class Releases extends ReleaseStoreContract {
    @Override
    Store store() {
      return StoreContracts.this.store();
    }
  }

  @Nested
  class Deployments extends DeploymentStoreContract {
    @Override
    Store store() {
      return StoreContracts.this.store();
    }
  }

  @Nested
  class Environments extends EnvironmentStoreContract {
    @Override
    Store store() {
      return StoreContracts.this.store();
    }
  }

  @Nested
  class Audit extends AuditStoreContract {
    @Override
    Store store() {
      return StoreContracts.this.store();
    }
  }
}
