package io.rackroll.controller.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rackroll.controller.fleet.FleetListener;
import io.rackroll.controller.store.ClusterStore;
import io.rackroll.controller.store.FlagsReport;
import io.rackroll.controller.store.HostJob;
import io.rackroll.proto.v1.DownloadProgress;
import io.rackroll.proto.v1.FlagsUpdate;
import io.rackroll.proto.v1.JobUpdate;
import io.rackroll.proto.v1.NodeEvent;
import io.rackroll.proto.v1.NodeHealth;
import java.time.Instant;

/**
 * What a node hears from its agents, as rows of {@code node_events} for the leader: {@link #writer}
 * turns the registry's events into rows (on its events thread, in the transaction of the report
 * itself), {@link #replay} turns a row back into the same call on the leader's listener.
 */
final class NodeEvents {
  static final String CONNECTED = "connected";
  static final String DISCONNECTED = "disconnected";
  static final String SILENT = "silent";
  static final String HEARD = "heard";
  static final String REPORT = "report";
  private static final byte[] NONE = new byte[0];

  private NodeEvents() {}

  /** Writes every event of node {@code node}'s registry to {@code cluster}. */
  static FleetListener writer(ClusterStore cluster, String node) {
    return new FleetListener() {
      @Override
      public void connected(String agentId) {
        cluster.event(node, agentId, CONNECTED, NONE);
      }

      @Override
      public void disconnected(String agentId) {
        cluster.event(node, agentId, DISCONNECTED, NONE);
      }

      @Override
      public void silent(String agentId) {
        cluster.event(node, agentId, SILENT, NONE);
      }

      @Override
      public void heardAgain(String agentId) {
        cluster.event(node, agentId, HEARD, NONE);
      }

      @Override
      public void job(HostJob j) {
        report(j.agentId(), NodeEvent.newBuilder().setJob(JobUpdate.newBuilder().setDeploymentId(j.deploymentId())
            .setApp(j.app()).setVersion(j.version()).setPhase(j.phase()).setFailureKind(j.failureKind())
            .setFailure(j.failure()).setCurrentVersion(j.currentVersion()).setPreviousVersion(j.previousVersion())
            .addAllKeptVersions(j.keptVersions()).setAtEpochMillis(j.at().toEpochMilli())
            .setCurrentConfigDigest(j.configDigest())));
      }

      @Override
      public void flags(FlagsReport f) {
        report(f.agentId(), NodeEvent.newBuilder().setFlags(FlagsUpdate.newBuilder().setDeploymentId(f.deploymentId())
            .setApp(f.app()).setPhase(f.phase()).setFailureKind(f.failureKind()).setFailure(f.failure())
            .putAllFlags(f.flags()).setAtEpochMillis(f.at().toEpochMilli())));
      }

      @Override
      public void health(String agentId, String app, boolean healthy, String line) {
        report(agentId, NodeEvent.newBuilder().setHealth(NodeHealth.newBuilder().setApp(app).setHealthy(healthy)
            .setLine(line)));
      }

      @Override
      public void downloaded(String agentId, String deploymentId, long bytes, long size) {
        report(agentId, NodeEvent.newBuilder().setProgress(DownloadProgress.newBuilder().setDeploymentId(deploymentId)
            .setBytes(bytes).setSize(size)));
      }

      private void report(String agentId, NodeEvent.Builder event) {
        cluster.event(node, agentId, REPORT, event.build().toByteArray());
      }
    };
  }

  /** Calls on {@code to} what {@code e} records; false for a row this version cannot read (skipped). */
  static boolean replay(ClusterStore.Event e, FleetListener to) {
    String agentId = e.agentId();
    switch (e.kind()) {
      case CONNECTED -> to.connected(agentId);
      case DISCONNECTED -> to.disconnected(agentId);
      case SILENT -> to.silent(agentId);
      case HEARD -> to.heardAgain(agentId);
      case REPORT -> {
        NodeEvent event;
        try {
          event = NodeEvent.parseFrom(e.body());
        } catch (InvalidProtocolBufferException x) {
          return false;
        }
        switch (event.getBodyCase()) {
          case JOB -> {
            JobUpdate j = event.getJob();
            to.job(new HostJob(agentId, j.getDeploymentId(), j.getApp(), j.getVersion(), j.getPhase(),
                j.getFailureKind(), j.getFailure(), j.getCurrentVersion(), j.getPreviousVersion(),
                j.getKeptVersionsList(), Instant.ofEpochMilli(j.getAtEpochMillis()), j.getCurrentConfigDigest()));
          }
          case FLAGS -> {
            FlagsUpdate f = event.getFlags();
            to.flags(new FlagsReport(agentId, f.getDeploymentId(), f.getApp(), f.getPhase(), f.getFailureKind(),
                f.getFailure(), f.getFlagsMap(), Instant.ofEpochMilli(f.getAtEpochMillis())));
          }
          case HEALTH -> to.health(agentId, event.getHealth().getApp(), event.getHealth().getHealthy(),
              event.getHealth().getLine());
          case PROGRESS -> to.downloaded(agentId, event.getProgress().getDeploymentId(), event.getProgress().getBytes(),
              event.getProgress().getSize());
          default -> {
            return false;
          }
        }
      }
      default -> {
        return false;
      }
    }
    return true;
  }
}
