package io.rackroll.controller.cli;

import io.rackroll.proto.v1.CreateWebLoginRequest;
import io.rackroll.proto.v1.CreateWebLoginResponse;
import io.rackroll.proto.v1.EndWebSessionsRequest;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "web", mixinStandardHelpOptions = true, description = "The web console: sign in, sign everyone out.",
    subcommands = {WebCommand.Login.class, WebCommand.Logout.class})
final class WebCommand {

  @Command(name = "login", mixinStandardHelpOptions = true, description = "Print a one-time link that opens a web"
      + " console session as the admin whose certificate this command uses, with its role. The link works once,"
      + " for 5 minutes; the session ends after an hour unused, or 12 hours in any case.")
  static final class Login implements Callable<Integer> {
    @Mixin AdminClient client;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        CreateWebLoginResponse r = client.stub(channel).createWebLogin(CreateWebLoginRequest.getDefaultInstance());
        System.out.println(r.getUrl());
        System.err.println("open it in a browser that trusts this controller's CA (ca.crt); it works once, until "
            + Instant.ofEpochMilli(r.getExpiresEpochMillis()));
        return 0;
      });
    }
  }

  @Command(name = "logout", mixinStandardHelpOptions = true, description = "End your web console sessions, or with"
      + " --all every admin's (an owner's decision); their open pages close at once.")
  static final class Logout implements Callable<Integer> {
    @Mixin AdminClient client;

    @Option(names = "--all", description = "End every admin's sessions, not only yours (owners only).")
    boolean all;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        int ended = client.stub(channel).endWebSessions(EndWebSessionsRequest.newBuilder().setAll(all).build()).getEnded();
        System.out.println(ended + (ended == 1 ? " session" : " sessions") + " ended");
        return 0;
      });
    }
  }
}
