package io.rackroll.controller.cli;

import io.rackroll.controller.testing.TestController;
import io.rackroll.proto.v1.AdminGrpc;
import java.nio.file.Files;
import java.nio.file.Path;

/** Lets benchmarks push with the CLI's streaming upload. */
public final class BenchAccess {
  private BenchAccess() {}

  public static String push(TestController controller, Path artifact) throws Exception {
    return ReleaseCommand.Push.upload(AdminGrpc.newStub(controller.admin().getChannel()), artifact, Files.size(artifact))
        .getRelease().getDigest();
  }
}
