package io.rackroll.controller.testing;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.rackroll.wire.HostPort;

/** Where a test client dials: opens channels to one controller address. */
public interface Wire {
  /** A channel presenting {@code tls}'s client certificate (or none). */
  ManagedChannel channel(SslContext tls);

  /** A controller at a plain address, for load generators in another process. */
  static Wire to(HostPort address) {
    return tls -> NettyChannelBuilder.forAddress(address.host(), address.port()).sslContext(tls).build();
  }
}
