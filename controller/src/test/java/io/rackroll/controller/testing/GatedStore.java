package io.rackroll.controller.testing;

import io.rackroll.controller.store.ConnectionState;
import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.HostPhase;
import io.rackroll.controller.store.FlagsReport;
import io.rackroll.controller.store.HostApp;
import io.rackroll.controller.store.Transition;
import io.rackroll.controller.store.Enrollment;
import io.rackroll.controller.store.HostJob;
import io.rackroll.controller.store.NewToken;
import io.rackroll.controller.store.Redemption;
import io.rackroll.controller.store.ReportedFlags;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.store.StoredRelease;
import io.rackroll.proto.v1.Facts;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The real store with a gate on the hello path: while closed, looking up an agent on the
 * controller's events thread waits. Lets a test hold an admission open for as long as it likes,
 * to see what the controller does with the hellos that arrive meanwhile.
 */
public final class GatedStore implements Store {
  private final Store delegate;
  private volatile CountDownLatch gate = new CountDownLatch(0);
  public final CountDownLatch waiting = new CountDownLatch(1);

  public GatedStore(Store delegate) {
    this.delegate = delegate;
  }

  public void close(boolean closed) {
    if (closed) {
      gate = new CountDownLatch(1);
    } else {
      gate.countDown();
    }
  }

  @Override
  public Optional<StoredAgent> agent(String agentId) {
    if (Thread.currentThread().getName().equals("fleet-events") && gate.getCount() > 0) {
      waiting.countDown();
      try {
        gate.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return delegate.agent(agentId);
  }

  @Override public void createToken(NewToken token) { delegate.createToken(token); }
  @Override public Redemption redeemToken(String id, String hash, Instant now) { return delegate.redeemToken(id, hash, now); }
  @Override public List<String> enroll(Enrollment e) { return delegate.enroll(e); }
  @Override public List<String> certificatesOf(String id, Instant now) { return delegate.certificatesOf(id, now); }
  @Override public java.util.Set<String> revokedAgents() { return delegate.revokedAgents(); }
  @Override public Map<String, Integer> agentCounts() { return delegate.agentCounts(); }
  @Override public Map<String, Integer> deploymentCounts() { return delegate.deploymentCounts(); }
  @Override public Map<String, Integer> activeHostPhases() { return delegate.activeHostPhases(); }
  @Override public List<io.rackroll.controller.store.Transition> recentFailures(int n) { return delegate.recentFailures(n); }
  @Override public boolean renewed(String id, String p, String s, Instant n, String ca) { return delegate.renewed(id, p, s, n, ca); }
  @Override public Optional<List<String>> revoke(String id, String by, Instant at) { return delegate.revoke(id, by, at); }
  @Override public java.util.Set<String> revokedSerials(Instant now) { return delegate.revokedSerials(now); }
  @Override public void connected(String id, String v, Facts f, Instant at) { delegate.connected(id, v, f, at); }
  @Override public void factsChanged(String id, Facts f) { delegate.factsChanged(id, f); }
  @Override public void stateChanged(String id, ConnectionState s, Instant at) { delegate.stateChanged(id, s, at); }
  @Override public void lastSeen(Map<String, Instant> m) { delegate.lastSeen(m); }
  @Override public int disconnectAll(Instant at) { return delegate.disconnectAll(at); }
  @Override public List<StoredAgent> agents() { return delegate.agents(); }
  @Override public List<String> agentsWithSystemSerial(String s) { return delegate.agentsWithSystemSerial(s); }
  @Override public StoredRelease addRelease(StoredRelease r) { return delegate.addRelease(r); }
  @Override public Optional<StoredRelease> release(String n, String v) { return delegate.release(n, v); }
  @Override public List<StoredRelease> releases(String n) { return delegate.releases(n); }
  @Override public void createDeployment(Deployment d) { delegate.createDeployment(d); }
  @Override public Optional<Deployment> deployment(String id) { return delegate.deployment(id); }
  @Override public List<Deployment> deployments(int limit) { return delegate.deployments(limit); }
  @Override public List<Deployment> activeDeployments() { return delegate.activeDeployments(); }
  @Override public void deploymentState(String id, String state, int batch, String reason, Instant at) {
    delegate.deploymentState(id, state, batch, reason, at);
  }
  @Override public void hostPhase(String d, String a, HostPhase phase, String kind, String failure, Instant at) {
    delegate.hostPhase(d, a, phase, kind, failure, at);
  }
  @Override public boolean certificateRevoked(String serial) { return delegate.certificateRevoked(serial); }
  @Override public void overrideWindows(String id, String reason) { delegate.overrideWindows(id, reason); }
  @Override public List<EnvironmentRun> environmentRuns(String app) { return delegate.environmentRuns(app); }
  @Override public int applyEnvironments(String yaml, String by, Instant at) {
    return delegate.applyEnvironments(yaml, by, at);
  }
  @Override public Optional<EnvironmentFile> environmentFile() { return delegate.environmentFile(); }
  @Override public void putSecret(StoredSecret secret) { delegate.putSecret(secret); }
  @Override public boolean deleteSecret(String env, String name) { return delegate.deleteSecret(env, name); }
  @Override public List<StoredSecret> secrets() { return delegate.secrets(); }
  @Override public void hostRevert(String d, String a, String revert, String detail, Instant at) {
    delegate.hostRevert(d, a, revert, detail, at);
  }
  @Override public List<Transition> transitions(String d) { return delegate.transitions(d); }
  @Override public List<Transition> history(String a, int limit) { return delegate.history(a, limit); }
  @Override public void hostJob(HostJob j) { delegate.hostJob(j); }
  @Override public Map<String, HostApp> hostApps(String app) { return delegate.hostApps(app); }
  @Override public void hostFlags(FlagsReport report) { delegate.hostFlags(report); }
  @Override public Map<String, ReportedFlags> hostFlags(String app) { return delegate.hostFlags(app); }
  @Override public List<Deployment> flagChanges(String app, int limit) { return delegate.flagChanges(app, limit); }
  @Override public void environmentFlags(String environment, String app, Map<String, String> changes, Instant at) {
    delegate.environmentFlags(environment, app, changes, at);
  }
  @Override public Map<String, Map<String, String>> environmentFlags(String app) { return delegate.environmentFlags(app); }
  @Override public void audit(AuditEntry e) { delegate.audit(e); }
  @Override public List<AuditEntry> audit(int limit) { return delegate.audit(limit); }
  @Override public List<HostJob> agentApps(String id) { return delegate.agentApps(id); }
  @Override public boolean agentMayFetch(String a, String d) { return delegate.agentMayFetch(a, d); }
  @Override public void appHealth(String a, String app, String line, Instant at) { delegate.appHealth(a, app, line, at); }
  @Override public Map<String, String> appHealth(String a) { return delegate.appHealth(a); }
  @Override public void close() { delegate.close(); }
}
