package io.rackroll.e2e;

import io.rackroll.controller.server.ControllerConfig;
import io.rackroll.controller.server.ControllerServer;
import io.rackroll.logging.ServiceLogging;
import java.nio.file.Path;

/**
 * A controller process for end-to-end tests of change windows: what {@code rackroll controller run
 * --data DIR --config FILE} runs, on an {@link OffsetFileClock} the test moves. Started by
 * {@link Fleet#startWithTestClock} from the controller's jar and these test classes.
 *
 * <p>Arguments: {@code DATA CONFIG OFFSET_FILE}.
 */
public final class ClockedController {
  private ClockedController() {}

  public static void main(String[] args) throws Exception {
    ServiceLogging.install(ServiceLogging.Format.parse("--log-format", "text"), java.util.Map.of());
    Path data = Path.of(args[0]);
    ControllerConfig config = ControllerConfig.load(Path.of(args[1]));
    ControllerServer.runUntilStopped(data, config, new OffsetFileClock(Path.of(args[2])));
  }
}
