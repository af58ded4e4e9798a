package io.rackroll.wire;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The controller nodes an agent may talk to, and the one it talks to now (the agent's link, and
 * each of the simulator's hosts). With several nodes on
 * one database, every agent keeps the same list (sorted), starts at a place its id picks, so that
 * a fleet spreads evenly over the nodes, and after its node goes away moves to another one its
 * id and the attempt pick, so that a dead node's agents spread over the others instead of all
 * landing on the next. With one address it is just that address.
 *
 * <p>{@link #channel()} is a channel whose every call goes to the node of the moment: downloads and
 * certificate renewal follow the stream's node without being told. Thread-safe.
 */
public final class ControllerChannels implements AutoCloseable {
  private final String agentId;
  private final HostPort configured;
  private final Function<HostPort, ManagedChannel> open;
  private final Consumer<List<String>> save;
  /** Guarded by {@code this}. */
  private List<HostPort> addresses;
  private int current;
  private int moves;
  private final Map<HostPort, ManagedChannel> channels = new HashMap<>();

  /**
   * @param configured the address the agent was configured with: always on the list, whatever the
   *     nodes say, so that an operator can point a host whose every known node is gone at a new one
   *     by its configuration alone
   * @param saved the list the controllers gave last (possibly none)
   * @param open opens a channel to one node (mTLS with this agent's certificate)
   * @param save records a new list the controllers gave, so a restart starts from it
   */
  public ControllerChannels(HostPort configured, List<HostPort> saved, String agentId,
      Function<HostPort, ManagedChannel> open, Consumer<List<String>> save) {
    this.agentId = agentId;
    this.configured = configured;
    this.open = open;
    this.save = save;
    this.addresses = sorted(with(saved));
    this.current = Math.floorMod(spread(agentId), addresses.size());
  }

  /** The node this agent talks to now. */
  public synchronized HostPort current() {
    return addresses.get(current);
  }

  /** The channel to {@link #current()}, opened on first use. */
  public synchronized ManagedChannel currentChannel() {
    return channels.computeIfAbsent(current(), open);
  }

  /** Every address known, in the order all agents share. */
  public synchronized List<HostPort> addresses() {
    return addresses;
  }

  /**
   * The node of the moment did not answer or went away: the next attempt goes to another one,
   * picked by this agent's id and how many times it moved (none with one address).
   */
  public synchronized HostPort moveOn() {
    int n = addresses.size();
    if (n > 1) {
      moves++;
      current = Math.floorMod(current + 1 + Math.floorMod(spread(agentId + "/" + moves), n - 1), n);
    }
    return current();
  }

  /**
   * The list a controller gave (in a welcome, at enrollment, or when the nodes changed): kept with
   * the configured address, and saved when it changed. The agent stays on its node if the list
   * still has it; an empty list changes nothing (a single controller sends none).
   */
  public void update(List<String> given) {
    if (given.isEmpty()) {
      return;
    }
    List<HostPort> parsed = new ArrayList<>();
    for (String a : given) {
      try {
        parsed.add(HostPort.parse("controller address", a));
      } catch (IllegalArgumentException e) {
        // one address this version cannot read: the others still serve
      }
    }
    if (parsed.isEmpty()) {
      return;
    }
    List<HostPort> next = sorted(with(parsed));
    List<ManagedChannel> dropped = new ArrayList<>();
    synchronized (this) {
      if (next.equals(addresses)) {
        return;
      }
      HostPort now = current();
      addresses = next;
      int at = next.indexOf(now);
      current = at >= 0 ? at : Math.floorMod(spread(agentId), next.size());
      channels.entrySet().removeIf(e -> {
        if (!next.contains(e.getKey())) {
          dropped.add(e.getValue());
          return true;
        }
        return false;
      });
    }
    dropped.forEach(ManagedChannel::shutdown); // calls in flight on them finish
    save.accept(sorted(parsed).stream().map(HostPort::toString).toList());
  }

  /** A channel whose calls go to the node of the moment. */
  public Channel channel() {
    return new Channel() {
      @Override
      public <Q, A> ClientCall<Q, A> newCall(MethodDescriptor<Q, A> method, CallOptions options) {
        return currentChannel().newCall(method, options);
      }

      @Override
      public String authority() {
        return currentChannel().authority();
      }
    };
  }

  private List<HostPort> with(List<HostPort> given) {
    List<HostPort> all = new ArrayList<>(given);
    all.add(configured);
    return all;
  }

  private static List<HostPort> sorted(List<HostPort> list) {
    return list.stream().distinct().sorted(java.util.Comparator.comparing(HostPort::toString)).toList();
  }

  /**
   * Whether a stream that ended with {@code status} (welcomed first or not) means the node is gone
   * or not answering, so that the next attempt should go to another node.
   */
  public static boolean nodeAway(boolean welcomed, io.grpc.Status status) {
    return !welcomed || status.getCode() == io.grpc.Status.Code.UNAVAILABLE;
  }

  /** Spreads ids that differ in one character (see AgentRegistry.comeBackIn on the controller). */
  private static int spread(String s) {
    return s.hashCode() * 0x9E3779B9;
  }

  @Override
  public synchronized void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}
