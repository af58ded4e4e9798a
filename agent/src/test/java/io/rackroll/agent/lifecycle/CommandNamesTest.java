package io.rackroll.agent.lifecycle;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.Rollback;
import io.rackroll.proto.v1.SetFlags;
import org.junit.jupiter.api.Test;

/** The agent checks every name it will build a path from, whatever the controller checked. */
class CommandNamesTest {
  @Test
  void namesThatWouldLeaveTheAppsDirectoryAreRefused() {
    assertThatThrownBy(() -> LifecycleService.checkNames(Command.newBuilder()
        .setRollback(Rollback.newBuilder().setApp("../../../x")).build())).hasMessageStartingWith("app name: ../../../x");
    assertThatThrownBy(() -> LifecycleService.checkNames(Command.newBuilder()
        .setDeploy(Deploy.newBuilder().setApp("web").setVersion("..")).build())).hasMessageStartingWith("version: ..");
    assertThatThrownBy(() -> LifecycleService.checkNames(Command.newBuilder()
        .setSetFlags(SetFlags.newBuilder().setApp("web").putChanges("a/b", "1")).build()))
        .hasMessageStartingWith("flag name: a/b");
    assertThatThrownBy(() -> LifecycleService.checkNames(Command.newBuilder()
        .setRollback(Rollback.newBuilder().setApp("web").setToVersion("1.0/../../etc")).build()))
        .hasMessageStartingWith("release: 1.0/../../etc");
  }

  @Test
  void ordinaryCommandsPass() {
    assertThatCode(() -> LifecycleService.checkNames(Command.newBuilder()
        .setRollback(Rollback.newBuilder().setApp("web").setToVersion("1.4.2~0a1b2c3d")).build())).doesNotThrowAnyException();
    assertThatCode(() -> LifecycleService.checkNames(Command.newBuilder()
        .setDeploy(Deploy.newBuilder().setApp("web").setVersion("1.4.2")).build())).doesNotThrowAnyException();
  }
}
