package io.rackroll.controller.admin;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.rackroll.controller.auth.CallerInterceptor;
import io.rackroll.controller.enroll.Tokens;
import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.fleet.AgentUnreachableException;
import io.rackroll.controller.release.ArtifactStore;
import io.rackroll.controller.release.ReleasePush;
import io.rackroll.controller.select.AgentAttributes;
import io.rackroll.controller.select.Selector;
import io.rackroll.controller.deploy.Deployer;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.HostJob;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.AgentRecord;
import io.rackroll.proto.v1.AppState;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.DeploymentHost;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.GetDeploymentRequest;
import io.rackroll.proto.v1.RollbackRequest;
import io.rackroll.proto.v1.CreateTokenRequest;
import io.rackroll.proto.v1.CreateTokenResponse;
import io.rackroll.proto.v1.GetAgentRequest;
import io.rackroll.proto.v1.ListAgentsRequest;
import io.rackroll.proto.v1.ListAgentsResponse;
import io.rackroll.proto.v1.PingAgentRequest;
import io.rackroll.proto.v1.PingAgentResponse;
import io.rackroll.proto.v1.GetReleaseRequest;
import io.rackroll.proto.v1.ListReleasesRequest;
import io.rackroll.proto.v1.ListReleasesResponse;
import io.rackroll.proto.v1.PushReleaseRequest;
import io.rackroll.proto.v1.PushReleaseResponse;
import io.rackroll.proto.v1.ReleaseRecord;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operator API behind the {@code rackroll} CLI. Every call runs as the admin in the caller's certificate. */
public final class AdminService extends AdminGrpc.AdminImplBase {
  private static final Logger log = LoggerFactory.getLogger(AdminService.class);

  private final Tokens tokens;
  private final Store store;
  private final AgentRegistry registry;
  private final ArtifactStore artifacts;
  private final Executor artifactIo;
  private final Clock clock;
  private final Deployer deployer;

  public AdminService(Tokens tokens, Store store, AgentRegistry registry, ArtifactStore artifacts, Executor artifactIo,
      Deployer deployer, Clock clock) {
    this.deployer = deployer;
    this.tokens = tokens;
    this.store = store;
    this.registry = registry;
    this.artifacts = artifacts;
    this.artifactIo = artifactIo;
    this.clock = clock;
  }

  @Override
  public void deploy(DeployRequest request, StreamObserver<DeploymentRecord> response) {
    startDeployment(response, () -> deployer.deploy(request.getName(), request.getVersion(), request.getSelector(),
        CallerInterceptor.caller().name()));
  }

  @Override
  public void rollback(RollbackRequest request, StreamObserver<DeploymentRecord> response) {
    startDeployment(response, () -> deployer.rollback(request.getName(), request.getToVersion(), request.getSelector(),
        CallerInterceptor.caller().name()));
  }

  private void startDeployment(StreamObserver<DeploymentRecord> response, java.util.function.Supplier<Deployment> start) {
    try {
      response.onNext(deploymentRecord(start.get()));
      response.onCompleted();
    } catch (Deployer.DeploymentRefused | IllegalArgumentException e) {
      response.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException());
    }
  }

  @Override
  public void getDeployment(GetDeploymentRequest request, StreamObserver<DeploymentRecord> response) {
    var d = store.deployment(request.getId());
    if (d.isEmpty()) {
      response.onError(Status.NOT_FOUND.withDescription("no deployment " + request.getId()).asRuntimeException());
      return;
    }
    response.onNext(deploymentRecord(d.get()));
    response.onCompleted();
  }

  private DeploymentRecord deploymentRecord(Deployment d) {
    Map<String, String> hostnames = new HashMap<>();
    for (StoredAgent a : store.agents()) {
      hostnames.put(a.id(), a.facts().getHostname());
    }
    DeploymentRecord.Builder b = DeploymentRecord.newBuilder().setId(d.id()).setKind(d.kind()).setApp(d.app())
        .setVersion(d.version()).setSelector(d.selector()).setCreatedBy(d.createdBy())
        .setCreatedEpochMillis(d.createdAt().toEpochMilli()).setState(d.state());
    for (Deployment.Host h : d.hosts()) {
      b.addHosts(DeploymentHost.newBuilder().setAgentId(h.agentId()).setHostname(hostnames.getOrDefault(h.agentId(), ""))
          .setPhase(h.phase()).setFailureKind(h.failureKind()).setFailure(h.failure()).setVersion(h.version())
          .setUpdatedEpochMillis(h.updatedAt().toEpochMilli()));
    }
    return b.build();
  }

  @Override
  public StreamObserver<PushReleaseRequest> pushRelease(StreamObserver<PushReleaseResponse> response) {
    return new ReleasePush(artifacts, store, clock, artifactIo, CallerInterceptor.caller().name(), response);
  }

  @Override
  public void listReleases(ListReleasesRequest request, StreamObserver<ListReleasesResponse> response) {
    ListReleasesResponse.Builder out = ListReleasesResponse.newBuilder();
    store.releases(request.getName()).forEach(r -> out.addReleases(ReleasePush.record(r)));
    response.onNext(out.build());
    response.onCompleted();
  }

  @Override
  public void getRelease(GetReleaseRequest request, StreamObserver<ReleaseRecord> response) {
    var release = store.release(request.getName(), request.getVersion());
    if (release.isEmpty()) {
      response.onError(Status.NOT_FOUND.withDescription("no release " + request.getName() + "@" + request.getVersion()
          + "; list releases with 'rackroll releases " + request.getName() + "'").asRuntimeException());
      return;
    }
    response.onNext(ReleasePush.record(release.get()));
    response.onCompleted();
  }

  @Override
  public void createToken(CreateTokenRequest request, StreamObserver<CreateTokenResponse> response) {
    String admin = CallerInterceptor.caller().name();
    Duration ttl = request.getTtlSeconds() == 0 ? Tokens.DEFAULT_TTL : Duration.ofSeconds(request.getTtlSeconds());
    int uses = request.getUses() == 0 ? 1 : request.getUses();
    Tokens.Issued issued;
    try {
      issued = tokens.create(request.getLabelsMap(), ttl, uses, admin);
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    log.info("admin {} created {} for labels {}, {} use(s), expires {}", admin, issued.token(),
        request.getLabelsMap(), uses, issued.expiresAt());
    response.onNext(CreateTokenResponse.newBuilder()
        .setToken(issued.token().text())
        .setTokenId(issued.token().id())
        .setExpiresEpochMillis(issued.expiresAt().toEpochMilli())
        .setUses(issued.uses())
        .build());
    response.onCompleted();
  }

  @Override
  public void listAgents(ListAgentsRequest request, StreamObserver<ListAgentsResponse> response) {
    Selector selector;
    try {
      selector = Selector.parse(request.getSelector());
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    List<StoredAgent> all = store.agents();
    Map<String, List<String>> bySerial = new HashMap<>();
    for (StoredAgent a : all) {
      String serial = a.facts().getSystem().getSerial();
      if (AgentRegistry.isUsefulSerial(serial)) {
        bySerial.computeIfAbsent(serial, k -> new java.util.ArrayList<>()).add(a.id());
      }
    }
    ListAgentsResponse.Builder out = ListAgentsResponse.newBuilder();
    for (StoredAgent a : all) {
      if (selector.matches(AgentAttributes.of(a))) {
        out.addAgents(record(a, bySerial.getOrDefault(a.facts().getSystem().getSerial(), List.of())));
      }
    }
    response.onNext(out.build());
    response.onCompleted();
  }

  @Override
  public void getAgent(GetAgentRequest request, StreamObserver<AgentRecord> response) {
    var agent = store.agent(request.getAgentId());
    if (agent.isEmpty()) {
      response.onError(Status.NOT_FOUND.withDescription("no agent " + request.getAgentId()
          + "; list agents with 'rackroll agents'").asRuntimeException());
      return;
    }
    String serial = agent.get().facts().getSystem().getSerial();
    List<String> sameSerial = AgentRegistry.isUsefulSerial(serial) ? store.agentsWithSystemSerial(serial) : List.of();
    AgentRecord.Builder record = record(agent.get(), sameSerial).toBuilder();
    Map<String, String> health = store.appHealth(agent.get().id());
    for (HostJob j : store.agentApps(agent.get().id())) {
      record.addApps(AppState.newBuilder().setApp(j.app()).setCurrentVersion(j.currentVersion()).setPhase(j.phase())
          .setHealth(health.getOrDefault(j.app(), ""))
          .setVersion(j.version()).setFailure(j.failure()).addAllKeptVersions(j.keptVersions())
          .setUpdatedEpochMillis(j.at().toEpochMilli()));
    }
    response.onNext(record.build());
    response.onCompleted();
  }

  @Override
  public void pingAgent(PingAgentRequest request, StreamObserver<PingAgentResponse> response) {
    Duration timeout = Duration.ofMillis(request.getTimeoutMillis() <= 0 ? 5_000 : request.getTimeoutMillis());
    registry.ping(request.getAgentId(), timeout).whenComplete((rtt, error) -> {
      if (error == null) {
        response.onNext(PingAgentResponse.newBuilder().setRoundTripMicros(rtt.toNanos() / 1000).build());
        response.onCompleted();
        return;
      }
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      if (cause instanceof TimeoutException) {
        response.onError(Status.DEADLINE_EXCEEDED.withDescription("agent " + request.getAgentId()
            + " did not answer within " + timeout.toMillis() + " ms").asRuntimeException());
      } else if (cause instanceof AgentUnreachableException) {
        response.onError(Status.FAILED_PRECONDITION.withDescription(cause.getMessage()).asRuntimeException());
      } else {
        response.onError(Status.INTERNAL.withDescription("ping failed: " + cause).asRuntimeException());
      }
    });
  }

  private AgentRecord record(StoredAgent a, List<String> sameSerial) {
    AgentRecord.Builder b = AgentRecord.newBuilder()
        .setAgentId(a.id())
        .putAllLabels(a.labels())
        .setFacts(a.facts())
        .setState(a.state().label())
        .setAgentVersion(a.agentVersion())
        .setFirstSeenEpochMillis(a.firstSeen().toEpochMilli())
        .setLastSeenEpochMillis(a.lastSeen().toEpochMilli())
        .setStateSinceEpochMillis(a.stateSince().toEpochMilli())
        .setCertificateSerial(a.certificateSerial())
        .setCertificateNotAfterEpochMillis(a.certificateNotAfter().toEpochMilli());
    registry.live(a.id()).ifPresent(live -> b.setState(live.state().label())
        .setLastSeenEpochMillis(Math.max(a.lastSeen().toEpochMilli(), live.lastHeard().toEpochMilli())));
    List<String> others = sameSerial.stream().filter(id -> !id.equals(a.id())).toList();
    if (!others.isEmpty()) {
      b.addWarnings("system serial " + a.facts().getSystem().getSerial() + " is also reported by "
          + String.join(", ", others) + " (cloned image or firmware placeholder?)");
    }
    return b.build();
  }
}
