package io.rackroll.controller.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.wire.HostPort;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where a node tells agents and the other nodes to reach it, when 'advertise' does not say. */
class AdvertisedAddressTest {
  private static final ControllerConfig.NodeSettings UNSET = new ControllerConfig.NodeSettings("ctl-1", null);

  @Test
  void listeningEverywhereItIsTheFirstNameOfItsCertificateThatIsNotLoopback() {
    // As 'controller init --san ctl1.dc1.example.net,10.0.0.5' makes it (loopback names added).
    assertThat(ControllerServer.advertised(UNSET, new HostPort("0.0.0.0", 7443), 7443,
        List.of("localhost", "127.0.0.1", "ctl1.dc1.example.net", "10.0.0.5")))
        .isEqualTo(new HostPort("ctl1.dc1.example.net", 7443));
    assertThat(ControllerServer.advertised(UNSET, new HostPort("0.0.0.0", 0), 40001, List.of("*.dc1.example.net",
        "10.0.0.5"))).as("a wildcard names no host").isEqualTo(new HostPort("10.0.0.5", 40001));
  }

  @Test
  void aListenAddressThatNamesAHostOrAnAdvertiseSettingWins() {
    assertThat(ControllerServer.advertised(UNSET, new HostPort("10.0.0.7", 7443), 7443, List.of("ctl1.example.net")))
        .isEqualTo(new HostPort("10.0.0.7", 7443));
    assertThat(ControllerServer.advertised(new ControllerConfig.NodeSettings("ctl-1", new HostPort("vip.example.net",
        443)), new HostPort("0.0.0.0", 7443), 7443, List.of("ctl1.example.net")))
        .isEqualTo(new HostPort("vip.example.net", 443));
  }
}
