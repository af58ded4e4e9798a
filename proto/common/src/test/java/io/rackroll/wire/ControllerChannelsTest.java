package io.rackroll.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** How agents pick a controller node, and move on from one that went away. */
class ControllerChannelsTest {
  private static final List<HostPort> THREE = List.of(new HostPort("ctl-c", 7443), new HostPort("ctl-a", 7443),
      new HostPort("ctl-b", 7443));

  private static ControllerChannels of(List<HostPort> known, String agentId, List<List<String>> saved) {
    return new ControllerChannels(known.get(0), known, agentId,
        at -> ManagedChannelBuilder.forAddress(at.host(), at.port()).usePlaintext().build(), saved::add);
  }

  @Test
  void aFleetSpreadsOverTheNodesAndADeadNodesAgentsSpreadOverTheOthers() {
    Map<String, Integer> first = new HashMap<>();
    Map<String, Integer> afterA = new HashMap<>();
    for (int i = 0; i < 3_000; i++) {
      ControllerChannels c = of(THREE, "ag-" + i, new ArrayList<>());
      String node = c.current().host();
      first.merge(node, 1, Integer::sum);
      if (node.equals("ctl-a")) {
        HostPort next = c.moveOn();
        assertThat(next.host()).isNotEqualTo("ctl-a");
        afterA.merge(next.host(), 1, Integer::sum);
      }
    }
    assertThat(first).containsOnlyKeys("ctl-a", "ctl-b", "ctl-c");
    first.values().forEach(n -> assertThat(n).as("each node's share of 3,000").isBetween(850, 1150));
    int dead = first.get("ctl-a");
    assertThat(afterA).containsOnlyKeys("ctl-b", "ctl-c");
    afterA.values().forEach(n -> assertThat(n).as("each survivor's share of " + dead).isBetween(dead / 2 - dead / 8,
        dead / 2 + dead / 8));
  }

  @Test
  void movingOnVisitsEveryOtherNodeAndWithOneAddressStaysOnIt() {
    ControllerChannels c = of(THREE, "ag-1", new ArrayList<>());
    List<String> visited = new ArrayList<>(List.of(c.current().host()));
    IntStream.range(0, 30).forEach(i -> visited.add(c.moveOn().host()));
    for (int i = 1; i < visited.size(); i++) {
      assertThat(visited.get(i)).as("a move goes elsewhere").isNotEqualTo(visited.get(i - 1));
    }
    assertThat(visited).contains("ctl-a", "ctl-b", "ctl-c");

    ControllerChannels alone = of(List.of(new HostPort("ctl", 7443)), "ag-1", new ArrayList<>());
    assertThat(alone.moveOn()).isEqualTo(new HostPort("ctl", 7443));
  }

  @Test
  void aNewListIsSavedOnceAndTheAgentStaysOnItsNodeWhileTheListHasIt() {
    List<List<String>> saved = new ArrayList<>();
    ControllerChannels c = of(List.of(new HostPort("ctl-b", 7443)), "ag-1", saved);
    c.update(List.of("ctl-b:7443", "ctl-a:7443", "ctl-c:7443"));
    assertThat(c.current().host()).isEqualTo("ctl-b");
    assertThat(saved).containsExactly(List.of("ctl-a:7443", "ctl-b:7443", "ctl-c:7443"));

    c.update(List.of("ctl-c:7443", "ctl-a:7443", "ctl-b:7443")); // the same nodes, another node first
    c.update(List.of()); // a single controller gives none: nothing changes
    c.update(List.of("not an address", "")); // nothing readable: nothing changes
    assertThat(saved).hasSize(1);

    while (!c.current().host().equals("ctl-c")) {
      c.moveOn();
    }
    ManagedChannel before = c.currentChannel();
    c.update(List.of("ctl-a:7443", "ctl-b:7443")); // c left the list
    assertThat(c.current().host()).isIn("ctl-a", "ctl-b");
    assertThat(before.isShutdown()).as("the channel to a node no longer listed").isTrue();
    assertThat(saved).hasSize(2);
    c.close();
  }

  /**
   * The configured address stays on the list whatever the nodes say: a host whose every known
   * node was replaced is pointed at a new one by its configuration alone.
   */
  @Test
  void theConfiguredAddressStaysOnTheListTheNodesGive() {
    List<List<String>> saved = new ArrayList<>();
    HostPort configured = new HostPort("controllers.example", 7443);
    ControllerChannels c = new ControllerChannels(configured, List.of(new HostPort("old-a", 7443)), "ag-1",
        at -> ManagedChannelBuilder.forAddress(at.host(), at.port()).usePlaintext().build(), saved::add);
    assertThat(c.addresses()).containsExactly(configured, new HostPort("old-a", 7443));
    c.update(List.of("ctl-a:7443", "ctl-b:7443"));
    assertThat(c.addresses()).containsExactlyInAnyOrder(configured, new HostPort("ctl-a", 7443),
        new HostPort("ctl-b", 7443));
    assertThat(saved).as("what the nodes gave, without the configured address").containsExactly(
        List.of("ctl-a:7443", "ctl-b:7443"));
    c.close();
  }
}
