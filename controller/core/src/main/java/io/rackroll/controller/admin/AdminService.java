package io.rackroll.controller.admin;

import io.grpc.Status;
import java.security.cert.X509Certificate;
import io.rackroll.proto.v1.RevokeAdminResponse;
import io.rackroll.proto.v1.PushKeyStatementRequest;
import io.rackroll.proto.v1.KeyStatementsResponse;
import io.rackroll.proto.v1.KeyStatementRecord;
import io.rackroll.proto.v1.ListKeyStatementsRequest;
import io.rackroll.controller.store.ReleaseStore;
import io.rackroll.controller.store.StoredRelease;
import io.rackroll.trust.KeyStatement;
import io.rackroll.proto.v1.RenewAdminRequest;
import io.rackroll.proto.v1.RenewAdminResponse;
import io.rackroll.proto.v1.RevokeAdminRequest;
import io.rackroll.proto.v1.ListAdminsResponse;
import io.rackroll.proto.v1.ListAdminsRequest;
import io.rackroll.proto.v1.AdminRecord;
import io.rackroll.proto.v1.AddAdminResponse;
import io.rackroll.proto.v1.AddAdminRequest;
import io.rackroll.controller.store.StoredAdmin;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.controller.pki.CertificateAuthority;
import io.rackroll.controller.auth.Permissions;
import io.rackroll.controller.auth.Admins;
import io.rackroll.controller.auth.AdminRole;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.rackroll.controller.auth.CallerInterceptor;
import io.rackroll.controller.auth.Revocations;
import io.rackroll.controller.enroll.Labels;
import io.rackroll.controller.enroll.Tokens;
import io.rackroll.controller.env.EnvironmentService;
import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.fleet.AgentUnreachableException;
import io.rackroll.controller.release.ArtifactStore;
import io.rackroll.controller.release.ReleasePush;
import io.rackroll.controller.rollout.Planner;
import io.rackroll.controller.rollout.Rollouts;
import io.rackroll.controller.select.AgentAttributes;
import io.rackroll.controller.select.Selector;
import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.HostJob;
import io.rackroll.controller.store.HostPhase;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.store.Transition;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.AgentHistoryRequest;
import io.rackroll.proto.v1.AgentHistoryResponse;
import io.rackroll.proto.v1.AgentRecord;
import io.rackroll.proto.v1.ApplyEnvironmentsRequest;
import io.rackroll.proto.v1.EnvironmentDiffRequest;
import io.rackroll.proto.v1.EnvironmentDiffResponse;
import io.rackroll.proto.v1.EnvironmentsRecord;
import io.rackroll.proto.v1.GetEnvironmentsRequest;
import io.rackroll.proto.v1.PromoteRequest;
import io.rackroll.proto.v1.ReleaseHistoryRequest;
import io.rackroll.proto.v1.ReleaseHistoryResponse;
import io.rackroll.proto.v1.SetSecretRequest;
import io.rackroll.proto.v1.SetSecretResponse;
import io.rackroll.proto.v1.AppState;
import io.rackroll.proto.v1.AuditRecord;
import io.rackroll.proto.v1.ControlDeploymentRequest;
import io.rackroll.proto.v1.CreateTokenRequest;
import io.rackroll.proto.v1.CreateTokenResponse;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.DeploymentHost;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.GetAgentRequest;
import io.rackroll.proto.v1.GetDeploymentRequest;
import io.rackroll.proto.v1.EnvironmentFlags;
import io.rackroll.proto.v1.GetFlagsRequest;
import io.rackroll.proto.v1.GetFlagsResponse;
import io.rackroll.proto.v1.ReconfigureRequest;
import io.rackroll.proto.v1.SetFlagsRequest;
import io.rackroll.proto.v1.GetReleaseRequest;
import io.rackroll.proto.v1.GetStatusRequest;
import io.rackroll.proto.v1.LabelAgentRequest;
import io.rackroll.proto.v1.ListAgentsRequest;
import io.rackroll.proto.v1.ListAgentsResponse;
import io.rackroll.proto.v1.ListAuditRequest;
import io.rackroll.proto.v1.ListAuditResponse;
import io.rackroll.proto.v1.ListDeploymentsRequest;
import io.rackroll.proto.v1.ListDeploymentsResponse;
import io.rackroll.proto.v1.ListReleasesRequest;
import io.rackroll.proto.v1.ListReleasesResponse;
import io.rackroll.proto.v1.PingAgentRequest;
import io.rackroll.proto.v1.PingAgentResponse;
import io.rackroll.proto.v1.PlanRequest;
import io.rackroll.proto.v1.PlanResponse;
import io.rackroll.proto.v1.PlannedBatch;
import io.rackroll.proto.v1.PlannedHost;
import io.rackroll.proto.v1.PushReleaseRequest;
import io.rackroll.proto.v1.PushReleaseResponse;
import io.rackroll.proto.v1.ReleaseRecord;
import io.rackroll.proto.v1.RemoveAgentRequest;
import io.rackroll.proto.v1.RemoveAgentResponse;
import io.rackroll.proto.v1.RevokeAgentRequest;
import io.rackroll.proto.v1.RevokeAgentResponse;
import io.rackroll.proto.v1.RollbackRequest;
import io.rackroll.proto.v1.StatusReport;
import io.rackroll.proto.v1.TransitionRecord;
import io.rackroll.trust.PeerIdentity;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operator API behind the {@code rackroll} CLI. Every call runs as the admin in the caller's certificate. */
public final class AdminService extends AdminGrpc.AdminImplBase {
  /** Told after a key statement was added here (other controller nodes then send it to their agents). */
  private volatile Runnable keyStatementsChanged = () -> { };

  public void onKeyStatements(Runnable changed) {
    this.keyStatementsChanged = changed;
  }

  private static final Logger log = LoggerFactory.getLogger(AdminService.class);

  private final Tokens tokens;
  private final Store store;
  private final AgentRegistry registry;
  private final ArtifactStore artifacts;
  private final Executor artifactIo;
  private final Clock clock;
  private final Rollouts rollouts;

  private final Revocations revocations;
  private final Admins admins;
  private final CertificateAuthority ca;
  private final StatusReports status;
  private final EnvironmentAdmin environments;
  /** Sends what followed deployments became (see {@link DeploymentFollower}); reads the store, so not the loop. */
  private final Executor followers = io.rackroll.wire.Threads.serial("deployment-followers");
  private final io.rackroll.controller.web.ConsoleAccess console;

  public AdminService(Tokens tokens, Store store, AgentRegistry registry, Revocations revocations, Admins admins,
      CertificateAuthority ca, ArtifactStore artifacts, Executor artifactIo, Rollouts rollouts, StatusReports status,
      EnvironmentService environments, Clock clock, io.rackroll.controller.web.ConsoleAccess console) {
    this.console = console;
    this.admins = admins;
    this.ca = ca;
    this.environments = new EnvironmentAdmin(environments, store, registry, rollouts, clock);
    this.status = status;
    this.revocations = revocations;
    this.rollouts = rollouts;
    this.tokens = tokens;
    this.store = store;
    this.registry = registry;
    this.artifacts = artifacts;
    this.artifactIo = artifactIo;
    this.clock = clock;
  }

  @Override
  public void deploy(DeployRequest request, StreamObserver<DeploymentRecord> response) {
    answer(response, () -> {
      overriding(request.getOverrideWindowReason(), "go ahead outside change windows (--override-window)");
      overriding(request.getForceReason(), "deploy past a required promotion (--force)");
      return record(rollouts.start(deployRequest(request).within(CallerInterceptor.callerGrant().environments()),
          CallerInterceptor.caller().name()), false);
    });
  }

  @Override
  public void rollback(RollbackRequest request, StreamObserver<DeploymentRecord> response) {
    answer(response, () -> record(rollouts.start(rollbackRequest(request), CallerInterceptor.caller().name()), false));
  }

  private static Rollouts.Request deployRequest(DeployRequest r) {
    return new Rollouts.Request("deploy", r.getName(), r.getVersion(), r.getSelector(), r.getOptionsMap(), "",
        r.getOverrideWindowReason().strip(), Map.of(), r.getForceReason().strip());
  }

  private static Rollouts.Request rollbackRequest(RollbackRequest r) {
    return new Rollouts.Request("rollback", r.getName(), r.getToVersion(), r.getSelector(), r.getOptionsMap());
  }

  @Override
  public void plan(PlanRequest request, StreamObserver<PlanResponse> response) {
    answer(response, () -> {
      Rollouts.Request r = request.hasRollback() ? rollbackRequest(request.getRollback())
          : deployRequest(request.getDeploy());
      Planner.Plan plan = rollouts.plan(r);
      PlanResponse.Builder out = PlanResponse.newBuilder().setAllowedFailures(plan.allowedFailures())
          .setCanary(plan.canary())
          .putAllOptions(plan.strategy().toOptions());
      for (List<Planner.Candidate> batch : plan.batches()) {
        PlannedBatch.Builder b = PlannedBatch.newBuilder();
        batch.forEach(c -> b.addHosts(planned(c, c.connected() ? "" : "offline since " + c.offlineSince())));
        out.addBatches(b);
      }
      plan.skipped().forEach(s -> out.addSkipped(planned(s.host(), s.reason())));
      plan.unfit().forEach(s -> out.addUnfit(planned(s.host(), s.reason())));
      // Which hosts will refuse the release by their own signature policy, as they last reported it.
      Optional<StoredRelease> release = request.hasRollback() ? Optional.empty()
          : store.releases().release(r.app(), r.version());
      if (release.isPresent()) {
        Map<String, StoredAgent> agents = new HashMap<>();
        store.agents().all().forEach(a -> agents.put(a.id(), a)); // one read, not one per planned host
        for (List<Planner.Candidate> batch : plan.batches()) {
          for (Planner.Candidate c : batch) {
            Optional.ofNullable(agents.get(c.agentId())).filter(a -> a.facts() != null)
                .flatMap(a -> ReleasePush.wouldRefuse(release.get(), a.facts().getReleaseTrust()))
                .ifPresent(why -> out.addWouldRefuse(planned(c, why)));
          }
        }
      }
      return out.build();
    });
  }

  private static PlannedHost planned(Planner.Candidate c, String note) {
    return PlannedHost.newBuilder().setAgentId(c.agentId()).setHostname(c.hostname()).setDomain(c.domain())
        .setNote(note).build();
  }

  @Override
  public void controlDeployment(ControlDeploymentRequest request, StreamObserver<DeploymentRecord> response) {
    answer(response, () -> {
      boolean waitingWindow = request.getAction().equals("resume") && store.deployments().deployment(request.getId())
          .map(d -> d.state().equals("waiting_window")).orElse(false);
      overriding(waitingWindow ? request.getReason() : "", "resume a deployment outside its change windows");
      environments.requireReach(request.getId(), CallerInterceptor.callerGrant());
      return record(rollouts.control(request.getId(), request.getAction(), request.getRollback(),
        request.getReason().strip(), CallerInterceptor.caller().name()), false);
    });
  }

  /** An override ({@code reason} given) is an operator's decision; refused for anyone less. */
  private static void overriding(String reason, String what) {
    if (!reason.isBlank()) {
      CallerInterceptor.require(Permissions.OVERRIDE, what);
    }
  }

  @Override
  public void applyEnvironments(ApplyEnvironmentsRequest request, StreamObserver<EnvironmentsRecord> response) {
    answer(response, () -> environments.apply(request.getYaml(), request.getFileName(), request.getDryRun(),
        CallerInterceptor.caller().name()));
  }

  @Override
  public void getEnvironments(GetEnvironmentsRequest request, StreamObserver<EnvironmentsRecord> response) {
    answer(response, environments::current);
  }

  @Override
  public void promote(PromoteRequest request, StreamObserver<DeploymentRecord> response) {
    answer(response, () -> {
      overriding(request.getOverrideWindowReason(), "go ahead outside change windows (--override-window)");
      overriding(request.getForceReason(), "promote past the lifecycle (--force)");
      return record(environments.promote(request, CallerInterceptor.caller().name()), false);
    });
  }

  @Override
  public void setSecret(SetSecretRequest request, StreamObserver<SetSecretResponse> response) {
    answer(response, () -> {
      environments.setSecret(request, CallerInterceptor.caller().name());
      return SetSecretResponse.getDefaultInstance();
    });
  }

  @Override
  public void environmentDiff(EnvironmentDiffRequest request, StreamObserver<EnvironmentDiffResponse> response) {
    answer(response, () -> environments.diff(request.getEnvironment()));
  }

  @Override
  public void reconfigure(ReconfigureRequest request, StreamObserver<DeploymentRecord> response) {
    answer(response, () -> {
      overriding(request.getOverrideWindowReason(), "go ahead outside change windows (--override-window)");
      return record(environments.reconfigure(request, CallerInterceptor.caller().name()), false);
    });
  }

  @Override
  public void setFlags(SetFlagsRequest request, StreamObserver<DeploymentRecord> response) {
    answer(response, () -> {
      overriding(request.getOverrideWindowReason(), "go ahead outside change windows (--override-window)");
      return record(environments.setFlags(request, CallerInterceptor.caller().name()), false);
    });
  }

  @Override
  public void getFlags(GetFlagsRequest request, StreamObserver<GetFlagsResponse> response) {
    answer(response, () -> {
      String only = request.getEnvironment().strip();
      java.util.function.Predicate<String> asked = env -> only.isEmpty() || env.equals(only);
      GetFlagsResponse.Builder out = GetFlagsResponse.newBuilder()
          .addAllHosts(environments.hostFlags(request.getApp(), only));
      store.deployments().flagChanges(request.getApp(), 20).stream().filter(d -> asked.test(d.environment()))
          .forEach(d -> out.addChanges(record(d, false)));
      store.environments().environmentFlags(request.getApp()).forEach((env, flags) -> {
        if (asked.test(env)) {
          out.addEnvironments(EnvironmentFlags.newBuilder().setEnvironment(env).putAllFlags(flags));
        }
      });
      return out.build();
    });
  }

  @Override
  public void releaseHistory(ReleaseHistoryRequest request, StreamObserver<ReleaseHistoryResponse> response) {
    answer(response, () -> environments.history(request.getName()));
  }

  /** Answers with {@code work}'s result; a refusal or a bad option is FAILED_PRECONDITION with its message. */
  private <T> void answer(StreamObserver<T> response, java.util.function.Supplier<T> work) {
    T result;
    try {
      result = work.get();
    } catch (Rollouts.Forbidden e) {
      // Refused for who asked, not for what: audited like a refusal for a role.
      store.audit().record(AuditEntry.of(clock.instant(), CallerInterceptor.caller().name(), "refused", e.target(),
          e.getMessage()));
      response.onError(Status.PERMISSION_DENIED.withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (Rollouts.Refused | IllegalArgumentException e) {
      response.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (StatusRuntimeException e) {
      response.onError(e); // a refusal with its own status: not found, permission denied
      return;
    }
    response.onNext(result);
    response.onCompleted();
  }

  @Override
  public void getDeployment(GetDeploymentRequest request, StreamObserver<DeploymentRecord> response) {
    var d = store.deployments().deployment(request.getId());
    if (d.isEmpty()) {
      response.onError(Status.NOT_FOUND.withDescription("no deployment " + request.getId()
          + "; list them with 'rackroll deployments'").asRuntimeException());
      return;
    }
    response.onNext(record(d.get(), request.getTransitions()));
    response.onCompleted();
  }

  @Override
  public void watchDeployment(GetDeploymentRequest request, StreamObserver<DeploymentRecord> response) {
    if (store.deployments().deployment(request.getId()).isEmpty()) {
      response.onError(Status.NOT_FOUND.withDescription("no deployment " + request.getId()
          + "; list them with 'rackroll deployments'").asRuntimeException());
      return;
    }
    new DeploymentFollower(request.getId(), store.deployments(), d -> record(d, false),
        (io.grpc.stub.ServerCallStreamObserver<DeploymentRecord>) response, followers).start(rollouts);
  }

  @Override
  public void listDeployments(ListDeploymentsRequest request, StreamObserver<ListDeploymentsResponse> response) {
    ListDeploymentsResponse.Builder out = ListDeploymentsResponse.newBuilder();
    store.deployments().recent(request.getLimit() > 0 ? request.getLimit() : 20).forEach(d -> out.addDeployments(record(d, false)));
    response.onNext(out.build());
    response.onCompleted();
  }

  @Override
  public void listAudit(ListAuditRequest request, StreamObserver<ListAuditResponse> response) {
    ListAuditResponse.Builder out = ListAuditResponse.newBuilder();
    for (AuditEntry e : store.audit().recent(request.getLimit() > 0 ? request.getLimit() : 100, request.getWho().strip())) {
      out.addEntries(AuditRecord.newBuilder().setSeq(e.seq()).setAtEpochMillis(e.at().toEpochMilli())
          .setActor(e.actor()).setAction(e.action()).setTarget(e.target()).setDetail(e.detail()));
    }
    response.onNext(out.build());
    response.onCompleted();
  }

  @Override
  public void agentHistory(AgentHistoryRequest request, StreamObserver<AgentHistoryResponse> response) {
    if (store.agents().agent(request.getAgentId()).isEmpty()) {
      response.onError(Status.NOT_FOUND.withDescription("no agent " + request.getAgentId()
          + "; list agents with 'rackroll agents'").asRuntimeException());
      return;
    }
    AgentHistoryResponse.Builder out = AgentHistoryResponse.newBuilder();
    store.deployments().history(request.getAgentId(), request.getLimit() > 0 ? request.getLimit() : 200)
        .forEach(t -> out.addTransitions(transition(t)));
    response.onNext(out.build());
    response.onCompleted();
  }

  static TransitionRecord transition(Transition t) {
    return TransitionRecord.newBuilder().setSeq(t.seq()).setDeploymentId(t.deploymentId()).setApp(t.app())
        .setAgentId(t.agentId()).setPhase(t.phase()).setVersion(t.version()).setDetail(t.detail())
        .setAtEpochMillis(t.at().toEpochMilli()).build();
  }

  private DeploymentRecord record(Deployment d, boolean transitions) {
    DeploymentRecord.Builder b = DeploymentRecord.newBuilder().setId(d.id()).setKind(d.kind()).setApp(d.app())
        .setVersion(d.version()).setSelector(d.selector()).setCreatedBy(d.createdBy())
        .setCreatedEpochMillis(d.createdAt().toEpochMilli()).setState(d.state()).putAllOptions(d.strategy())
        .setBatch(d.batch()).setBatches(d.batches()).setAllowedFailures(d.allowedFailures()).setReason(d.reason())
        .setUpdatedEpochMillis(d.updatedAt().toEpochMilli()).setEnvironment(d.environment())
        .setWindowOverride(d.windowOverride()).putAllFlags(d.flags());
    int failures = 0;
    for (Deployment.Host h : d.hosts()) {
      failures += h.phase().failure() ? 1 : 0;
      DeploymentHost.Builder host = DeploymentHost.newBuilder().setAgentId(h.agentId()).setHostname(h.hostname())
          .setPhase(h.phase().name()).setFailureKind(h.failureKind()).setFailure(h.failure()).setVersion(h.version())
          .setUpdatedEpochMillis(h.updatedAt().toEpochMilli()).setBatch(h.batch()).setDomain(h.domain())
          .setBeforeVersion(h.beforeVersion()).setRevert(h.revert());
      if (h.phase() == HostPhase.DOWNLOADING) {
        rollouts.download(d.id(), h.agentId()).ifPresent(x -> host.setDownloadedBytes(x.bytes()).setDownloadSize(x.size()));
      }
      b.addHosts(host);
    }
    b.setFailures(failures);
    if (transitions) {
      store.deployments().transitions(d.id()).forEach(t -> b.addTransitions(transition(t)));
    }
    return b.build();
  }

  @Override
  public StreamObserver<PushReleaseRequest> pushRelease(StreamObserver<PushReleaseResponse> response) {
    return new ReleasePush(artifacts, store.releases(), store.audit(), clock, artifactIo, CallerInterceptor.caller().name(), response);
  }

  @Override
  public void pushKeyStatement(PushKeyStatementRequest request, StreamObserver<KeyStatementsResponse> response) {
    String admin = CallerInterceptor.caller().name();
    answer(response, () -> {
      KeyStatement statement = KeyStatement.parse(request.getStatement());
      String text = statement.format();
      String id = java.util.HexFormat.of().formatHex(sha256(text));
      if (store.releases().addKeyStatement(new ReleaseStore.KeyStatementRecord(id, text, admin, clock.instant()))) {
        store.audit().record(AuditEntry.of(clock.instant(), admin, "key statement", statement.subject().id(),
            statement.describe()));
        log.atWarn().log("admin {} pushed a key statement: {}", admin, statement.describe());
      }
      registry.keyStatements(store.releases().keyStatements().stream().map(ReleaseStore.KeyStatementRecord::text)
          .toList());
      keyStatementsChanged.run();
      return keyStatements();
    });
  }

  @Override
  public void listKeyStatements(ListKeyStatementsRequest request, StreamObserver<KeyStatementsResponse> response) {
    answer(response, this::keyStatements);
  }

  private KeyStatementsResponse keyStatements() {
    Map<String, Integer> trusting = new HashMap<>();
    for (StoredAgent a : store.agents().all()) {
      if (a.facts() != null) {
        a.facts().getReleaseTrust().getKeyIdsList().forEach(k -> trusting.merge(k, 1, Integer::sum));
      }
    }
    KeyStatementsResponse.Builder out = KeyStatementsResponse.newBuilder();
    for (ReleaseStore.KeyStatementRecord r : store.releases().keyStatements()) {
      KeyStatement s = KeyStatement.parse(r.text());
      out.addStatements(KeyStatementRecord.newBuilder().setAction(s.action().name().toLowerCase(java.util.Locale.ROOT))
          .setSubjectKey(s.subject().id()).setSignedBy(s.signerId()).setIssuedEpochMillis(s.issued().toEpochMilli())
          .setPushedBy(r.pushedBy()).setPushedEpochMillis(r.pushedAt().toEpochMilli())
          .setHostsTrusting(trusting.getOrDefault(s.subject().id(), 0)));
    }
    return out.build();
  }

  private static byte[] sha256(String text) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void listReleases(ListReleasesRequest request, StreamObserver<ListReleasesResponse> response) {
    ListReleasesResponse.Builder out = ListReleasesResponse.newBuilder();
    store.releases().list(request.getName()).forEach(r -> out.addReleases(ReleasePush.record(r)));
    response.onNext(out.build());
    response.onCompleted();
  }

  @Override
  public void getRelease(GetReleaseRequest request, StreamObserver<ReleaseRecord> response) {
    var release = store.releases().release(request.getName(), request.getVersion());
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
    String replaces = request.getReplaces();
    Map<String, String> labels = request.getLabelsMap();
    if (!replaces.isEmpty()) {
      Optional<StoredAgent> agent = store.agents().agent(replaces);
      if (agent.isEmpty()) {
        response.onError(Status.NOT_FOUND.withDescription("--replaces: no agent " + replaces
            + " (see 'rackroll agents'); a new host needs no --replaces").asRuntimeException());
        return;
      }
      if (labels.isEmpty()) {
        labels = agent.get().labels();
      }
    }
    Tokens.Issued issued;
    try {
      issued = tokens.create(labels, ttl, uses, admin, replaces, request.getReleaseKeysList());
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    log.info("admin {} created {} for labels {}, {} use(s), expires {}{}", admin, issued.token(), labels, uses,
        issued.expiresAt(), replaces.isEmpty() ? "" : ", replacing agent " + replaces);
    store.audit().record(AuditEntry.of(clock.instant(), admin, "token create", issued.token().id(), "labels "
        + labels + ", " + uses + " use(s), expires " + issued.expiresAt()
        + (replaces.isEmpty() ? "" : ", replaces agent " + replaces)
        + (request.getReleaseKeysCount() == 0 ? "" : ", " + request.getReleaseKeysCount() + " release key(s)")));
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
    List<StoredAgent> all = store.agents().all();
    Map<String, List<String>> bySerial = new HashMap<>();
    for (StoredAgent a : all) {
      String serial = a.facts().getSystem().getSerial();
      if (AgentRegistry.isUsefulSerial(serial)) {
        bySerial.computeIfAbsent(serial, k -> new java.util.ArrayList<>()).add(a.id());
      }
    }
    Map<String, List<String>> unhealthy = new HashMap<>();
    store.agents().unhealthyApps().forEach(u -> unhealthy.computeIfAbsent(u.agentId(), k -> new java.util.ArrayList<>())
        .add(u.app()));
    ListAgentsResponse.Builder out = ListAgentsResponse.newBuilder();
    for (StoredAgent a : all) {
      if (selector.matches(AgentAttributes.of(a))) {
        out.addAgents(record(a, bySerial.getOrDefault(a.facts().getSystem().getSerial(), List.of()))
            .addAllUnhealthyApps(unhealthy.getOrDefault(a.id(), List.of())));
      }
    }
    response.onNext(out.build());
    response.onCompleted();
  }

  @Override
  public void getAgent(GetAgentRequest request, StreamObserver<AgentRecord> response) {
    var agent = store.agents().agent(request.getAgentId());
    if (agent.isEmpty()) {
      response.onError(Status.NOT_FOUND.withDescription("no agent " + request.getAgentId()
          + "; list agents with 'rackroll agents'").asRuntimeException());
      return;
    }
    String serial = agent.get().facts().getSystem().getSerial();
    List<String> sameSerial = AgentRegistry.isUsefulSerial(serial) ? store.agents().agentsWithSystemSerial(serial) : List.of();
    AgentRecord.Builder record = record(agent.get(), sameSerial);
    store.agents().unhealthyApps().stream().filter(u -> u.agentId().equals(request.getAgentId()))
        .forEach(u -> record.addUnhealthyApps(u.app()));
    Map<String, String> health = store.agents().appHealth(agent.get().id());
    for (HostJob j : store.agents().agentApps(agent.get().id())) {
      record.addApps(AppState.newBuilder().setApp(j.app()).setCurrentVersion(j.currentVersion()).setPhase(j.phase())
          .setHealth(health.getOrDefault(j.app(), ""))
          .setVersion(j.version()).setFailure(j.failure()).addAllKeptVersions(j.keptVersions())
          .setUpdatedEpochMillis(j.at().toEpochMilli()));
    }
    response.onNext(record.build());
    response.onCompleted();
  }

  @Override
  public void createWebLogin(io.rackroll.proto.v1.CreateWebLoginRequest request,
      StreamObserver<io.rackroll.proto.v1.CreateWebLoginResponse> response) {
    answer(response, () -> {
      String admin = CallerInterceptor.caller().name();
      Optional<io.rackroll.controller.web.ConsoleAccess.Link> issued;
      try {
        issued = console.link(admin);
      } catch (IllegalStateException tooMany) {
        throw Status.RESOURCE_EXHAUSTED.withDescription(tooMany.getMessage()).asRuntimeException();
      }
      var link = issued.orElseThrow(() -> Status.FAILED_PRECONDITION.withDescription(
          "the web console is off; set 'web: 127.0.0.1:8443' (or another address) in controller.yaml and restart"
              + " the controller").asRuntimeException());
      store.audit().record(AuditEntry.of(clock.instant(), admin, "web link", "web console",
          "sign-in link valid until " + link.expires()));
      return io.rackroll.proto.v1.CreateWebLoginResponse.newBuilder().setUrl(link.url())
          .setExpiresEpochMillis(link.expires().toEpochMilli()).build();
    });
  }

  @Override
  public void endWebSessions(io.rackroll.proto.v1.EndWebSessionsRequest request,
      StreamObserver<io.rackroll.proto.v1.EndWebSessionsResponse> response) {
    answer(response, () -> {
      String admin = CallerInterceptor.caller().name();
      if (request.getAll()) {
        CallerInterceptor.require(io.rackroll.controller.auth.AdminRole.OWNER, "end every admin's web sessions");
      }
      int ended = console.end(request.getAll() ? null : admin);
      store.audit().record(AuditEntry.of(clock.instant(), admin, "web logout", "web console",
          (request.getAll() ? "every admin's sessions ended: " : "own sessions ended: ") + ended));
      return io.rackroll.proto.v1.EndWebSessionsResponse.newBuilder().setEnded(ended).build();
    });
  }

  @Override
  public void getStatus(GetStatusRequest request, StreamObserver<StatusReport> response) {
    answer(response, () -> status.report(request.getFailures()));
  }

  @Override
  public void labelAgent(LabelAgentRequest request, StreamObserver<AgentRecord> response) {
    String admin = CallerInterceptor.caller().name();
    String agentId = request.getAgentId();
    Optional<StoredAgent> agent = store.agents().agent(agentId);
    if (agent.isEmpty()) {
      response.onError(Status.NOT_FOUND.withDescription("no agent " + agentId + " (see 'rackroll agents')")
          .asRuntimeException());
      return;
    }
    Map<String, String> labels = new java.util.TreeMap<>(agent.get().labels());
    List<String> changes = new java.util.ArrayList<>();
    for (String key : request.getRemoveList()) {
      if (!labels.containsKey(key)) {
        response.onError(Status.FAILED_PRECONDITION.withDescription("agent " + agentId + " has no label " + key
            + " (its labels: " + Labels.format(labels) + ")").asRuntimeException());
        return;
      }
      changes.add(key + "- (was " + labels.remove(key) + ")");
    }
    try {
      Labels.check(request.getSetMap());
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    new java.util.TreeMap<>(request.getSetMap()).forEach((k, v) -> {
      String was = labels.put(k, v);
      changes.add(k + "=" + v + (was == null ? "" : " (was " + was + ")"));
    });
    store.agents().labels(agentId, labels);
    store.audit().record(AuditEntry.of(clock.instant(), admin, "agent label", agentId, String.join(", ", changes)));
    log.atInfo().addKeyValue(ServiceLogging.AGENT, agentId).log("admin {} labelled agent {}: {}", admin, agentId,
        String.join(", ", changes));
    response.onNext(record(store.agents().agent(agentId).orElseThrow(), List.of()).build());
    response.onCompleted();
  }

  @Override
  public void revokeAgent(RevokeAgentRequest request, StreamObserver<RevokeAgentResponse> response) {
    try {
      response.onNext(revoke(request.getAgentId(), CallerInterceptor.caller().name(), request.getReason()));
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  /** Refuses the agent's certificates from now on, across restarts, and ends its stream. Audited. */
  private RevokeAgentResponse revoke(String agentId, String admin, String why) {
    // Stored first: a controller that dies right after still refuses these certificates when it restarts.
    Optional<List<String>> serials = store.enrollment().revoke(agentId, admin, clock.instant());
    if (serials.isEmpty()) {
      throw Status.NOT_FOUND.withDescription("no agent " + agentId + " (see 'rackroll agents')").asRuntimeException();
    }
    try {
      revocations.revoked(agentId, serials.get());
    } catch (java.io.IOException e) {
      throw Status.INTERNAL.withDescription("agent " + agentId + " is revoked in the store, but its"
          + " certificates could not be journaled in the data directory (" + e.getMessage() + "); fix the disk and"
          + " revoke it again").asRuntimeException();
    }
    boolean wasConnected = registry.revoked(agentId, PeerIdentity.REVOKED + ": agent " + agentId
        + " was revoked by " + admin + "; enroll the host again with a new token (rackroll-agent enroll --token TOKEN)");
    String reason = why.isBlank() ? "" : ": " + why;
    log.atWarn().addKeyValue(ServiceLogging.AGENT, agentId)
        .log("admin {} revoked agent {} (certificates {}){}", admin, agentId, serials.get(), reason);
    store.audit().record(AuditEntry.of(clock.instant(), admin, "agent revoke", agentId, "certificates " + serials.get() + reason));
    return RevokeAgentResponse.newBuilder().addAllSerials(serials.get()).setWasConnected(wasConnected).build();
  }

  @Override
  public void removeAgent(RemoveAgentRequest request, StreamObserver<RemoveAgentResponse> response) {
    String admin = CallerInterceptor.caller().name();
    String agentId = request.getAgentId();
    answer(response, () -> rollouts.outsideDeployments(agentId, () -> {
        StoredAgent agent = store.agents().agent(agentId).orElseThrow(() -> Status.NOT_FOUND
            .withDescription("no agent " + agentId + " (see 'rackroll agents')").asRuntimeException());
        // Revoked before it is forgotten: a controller that dies in between lists it revoked, and
        // a second remove finishes the job.
        RevokeAgentResponse revoked = revoke(agentId, admin, request.getReason());
        store.agents().remove(agentId);
        String hostname = agent.facts() == null ? "" : agent.facts().getHostname();
        String reason = request.getReason().isBlank() ? "" : ": " + request.getReason();
        log.atWarn().addKeyValue(ServiceLogging.AGENT, agentId)
            .log("admin {} removed agent {}{}{}", admin, agentId, hostname.isEmpty() ? "" : " (" + hostname + ")", reason);
        store.audit().record(AuditEntry.of(clock.instant(), admin, "agent remove", agentId,
            (hostname.isEmpty() ? "" : "host " + hostname + "; ") + "labels " + Labels.format(agent.labels()) + reason));
        return RemoveAgentResponse.newBuilder().setHostname(hostname).addAllSerials(revoked.getSerialsList())
            .setWasConnected(revoked.getWasConnected()).build();
      }));
  }

  // ---- people ----

  /** Asks the controller node that holds an agent to ping it; false when none does. */
  @FunctionalInterface
  public interface PingElsewhere {
    boolean ping(PingAgentRequest request, StreamObserver<PingAgentResponse> response, Duration timeout);
  }

  private volatile PingElsewhere pingElsewhere;

  public void pingElsewhereWith(PingElsewhere elsewhere) {
    this.pingElsewhere = elsewhere;
  }

  /** Answers joins of new controller nodes (several nodes on one database); null: this controller is alone. */
  private volatile io.rackroll.controller.cluster.NodeJoin joins;

  public void joinNodesWith(io.rackroll.controller.cluster.NodeJoin joins) {
    this.joins = joins;
  }

  @Override
  public void joinNode(io.rackroll.proto.v1.JoinNodeRequest request,
      StreamObserver<io.rackroll.proto.v1.JoinNodeResponse> response) {
    answer(response, () -> {
      io.rackroll.controller.cluster.NodeJoin j = joins;
      if (j == null) {
        throw new Rollouts.Refused("this controller keeps its state in its own embedded database; several nodes share"
            + " a PostgreSQL database: move to one first (database: in controller.yaml)");
      }
      io.rackroll.proto.v1.JoinNodeResponse answer = j.answer(request);
      String owner = CallerInterceptor.caller().name();
      store.audit().record(AuditEntry.of(clock.instant(), owner, "node join", request.getNode(),
          "given the CA, the secrets key and a server certificate for " + String.join(", ",
              ControllerPki.serverNames(request.getSansList()))));
      log.atWarn().log("owner {} joined controller node {} ({})", owner, request.getNode(), request.getSansList());
      return answer;
    });
  }

  @Override
  public void addAdmin(AddAdminRequest request, StreamObserver<AddAdminResponse> response) {
    String owner = CallerInterceptor.caller().name();
    answer(response, () -> {
      String name = request.getName();
      PeerIdentity identity = PeerIdentity.admin(name); // checks the name
      AdminRole role = AdminRole.parse(request.getRole());
      List<String> scope = request.getEnvironmentsList().stream().distinct().sorted().toList();
      if (!scope.isEmpty() && role != AdminRole.DEPLOYER) {
        throw new IllegalArgumentException("--env limits a deployer only: a viewer reads every environment, an"
            + " operator or owner changes them all");
      }
      environments.requireKnown(scope);
      java.security.PublicKey key;
      try {
        key = CertificateAuthority.verifiedRequestKey(io.rackroll.trust.Pem.decodeCsr(request.getCsrPem()));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("the certificate request is not a valid PKCS#10 request (" + e.getMessage()
            + "); make one with 'rackroll admin request " + name + "'");
      }
      // Issued first, recorded with the admin in one transaction, handed out only once recorded:
      // a controller killed in between leaves no admin without a certificate on record.
      X509Certificate cert = ca.issueClient(identity, key, ControllerPki.ADMIN_LIFETIME);
      if (!store.enrollment().addAdmin(name, role.label(), scope, Revocations.serial(cert), cert.getNotAfter().toInstant(),
          owner, clock.instant())) {
        throw new Rollouts.Refused("admin " + name + " exists; revoke it first ('rackroll admin revoke " + name
            + "') to give the name a new certificate or role");
      }
      admins.changed();
      store.audit().record(AuditEntry.of(clock.instant(), owner, "admin add", name, "role " + role.label()
          + (scope.isEmpty() ? "" : " in " + String.join(", ", scope)) + ", certificate " + Revocations.serial(cert) + " until " + cert.getNotAfter().toInstant()));
      log.atWarn().log("owner {} added admin {} ({})", owner, name, role.label());
      return AddAdminResponse.newBuilder().setCertificatePem(io.rackroll.trust.Pem.encode(cert))
          .setCaPem(io.rackroll.trust.Pem.encode(ca.certificate()))
          .setNotAfterEpochMillis(cert.getNotAfter().getTime()).build();
    });
  }

  @Override
  public void renewAdmin(RenewAdminRequest request, StreamObserver<RenewAdminResponse> response) {
    String name = CallerInterceptor.caller().name();
    answer(response, () -> {
      X509Certificate presented = CallerInterceptor.callerCertificate();
      // The key stays where it is: the new certificate is for the key the caller just proved it holds.
      X509Certificate cert = ca.issueClient(PeerIdentity.admin(name), presented.getPublicKey(),
          ControllerPki.ADMIN_LIFETIME);
      store.enrollment().adminIssued(name, Revocations.serial(cert), cert.getNotAfter().toInstant(), clock.instant());
      store.audit().record(AuditEntry.of(clock.instant(), name, "admin renew", name, "certificate "
          + Revocations.serial(presented) + " -> " + Revocations.serial(cert) + " until " + cert.getNotAfter().toInstant()));
      log.info("admin {} renewed its certificate: {} -> {}, valid until {}", name, Revocations.serial(presented),
          Revocations.serial(cert), cert.getNotAfter().toInstant());
      return RenewAdminResponse.newBuilder().setCertificatePem(io.rackroll.trust.Pem.encode(cert))
          .setCaPem(io.rackroll.trust.Pem.encode(ca.certificate()))
          .setNotAfterEpochMillis(cert.getNotAfter().getTime()).build();
    });
  }

  @Override
  public void listAdmins(ListAdminsRequest request, StreamObserver<ListAdminsResponse> response) {
    ListAdminsResponse.Builder out = ListAdminsResponse.newBuilder();
    for (StoredAdmin a : store.enrollment().admins(clock.instant())) {
      out.addAdmins(AdminRecord.newBuilder().setName(a.name()).setRole(a.role()).addAllEnvironments(a.environments()).setCreatedBy(a.createdBy())
          .setCreatedEpochMillis(a.createdAt().toEpochMilli())
          .setRevokedEpochMillis(a.revokedAt().map(java.time.Instant::toEpochMilli).orElse(0L))
          .setRevokedBy(a.revokedBy()).setCertificates(a.certificates()));
    }
    response.onNext(out.build());
    response.onCompleted();
  }

  @Override
  public void revokeAdmin(RevokeAdminRequest request, StreamObserver<RevokeAdminResponse> response) {
    String owner = CallerInterceptor.caller().name();
    String name = request.getName();
    answer(response, () -> {
        if (name.equals(owner)) {
          throw new Rollouts.Refused("an owner cannot revoke itself; another owner must ('rackroll admin revoke "
              + name + "')");
        }
        // Stored first, then journaled, then in force: a controller killed in between refuses them when it restarts.
        List<String> serials = store.enrollment().revokeAdmin(name, owner, clock.instant()).orElseThrow(() ->
            Status.NOT_FOUND.withDescription("no active admin " + name + " (see 'rackroll admin list')").asRuntimeException());
        try {
          revocations.retired("admin:" + name, serials);
        } catch (java.io.IOException e) {
          throw Status.INTERNAL.withDescription("admin " + name + " is revoked in the store, but its certificates could"
              + " not be journaled in the data directory (" + e.getMessage() + "); fix the disk").asRuntimeException();
        }
        admins.changed();
        String reason = request.getReason().isBlank() ? "" : ": " + request.getReason();
        store.audit().record(AuditEntry.of(clock.instant(), owner, "admin revoke", name, "certificates " + serials + reason));
        log.atWarn().log("owner {} revoked admin {} (certificates {}){}", owner, name, serials, reason);
        return RevokeAdminResponse.newBuilder().addAllSerials(serials).build();
    });
  }

  @Override
  public void pingAgent(PingAgentRequest request, StreamObserver<PingAgentResponse> response) {
    Duration timeout = Duration.ofMillis(request.getTimeoutMillis() <= 0 ? 5_000 : request.getTimeoutMillis());
    PingElsewhere elsewhere = pingElsewhere;
    if (registry.live(request.getAgentId()).isEmpty() && elsewhere != null
        && elsewhere.ping(request, response, timeout)) {
      return; // another controller node holds the agent: it answers
    }
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

  private AgentRecord.Builder record(StoredAgent a, List<String> sameSerial) {
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
        .setCertificateCa(a.certificateCa())
        .setCertificateNotAfterEpochMillis(a.certificateNotAfter().toEpochMilli());
    registry.live(a.id()).ifPresent(live -> b.setState(live.state().label())
        .setLastSeenEpochMillis(Math.max(a.lastSeen().toEpochMilli(), live.lastHeard().toEpochMilli())));
    List<String> others = sameSerial.stream().filter(id -> !id.equals(a.id())).toList();
    if (!others.isEmpty()) {
      b.addWarnings("system serial " + a.facts().getSystem().getSerial() + " is also reported by "
          + String.join(", ", others) + " (cloned image or firmware placeholder?)");
    }
    return b;
  }
}
