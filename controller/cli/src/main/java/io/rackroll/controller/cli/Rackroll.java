package io.rackroll.controller.cli;

import io.grpc.StatusRuntimeException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rackroll}: the one operator CLI. Errors are one line on stderr with a non-zero exit
 * code; {@code --debug} adds the stack trace.
 */
@Command(name = "rackroll", mixinStandardHelpOptions = true, versionProvider = Rackroll.Version.class,
    description = "Deploy releases to fleets of servers. Run 'rackroll COMMAND --help' for each command.")
public final class Rackroll {
  /** In the order help lists them. */
  static final List<Class<?>> COMMANDS = List.of(ControllerCommand.class, AdminCommand.class, TokenCommand.class,
      AgentsCommand.class, ReleaseCommand.class, ReleasesCommand.class, DeployCommand.PlanCommand.class,
      DeployCommand.class, DeployCommand.RollbackCommand.class, DeploymentCommand.class,
      DeploymentCommand.ListCommand.class, DeploymentCommand.AuditCommand.class, DeploymentCommand.HistoryCommand.class,
      EnvCommand.class, EnvCommand.ListCommand.class, PromoteCommand.class, FlagCommand.class, FlagCommand.Show.class,
      StatusCommand.class, WebCommand.class, DemoCommand.class, SimulateCommand.class, CompletionCommand.class, WarmUpCommand.class, ManCommand.class,
      CommandLine.HelpCommand.class);

  static final int EXIT_FAILURE = 1;
  /** EX_CONFIG: nothing will change until an operator acts; the systemd units do not restart on it. */
  static final int EXIT_NEEDS_OPERATOR = 78;
  static final int EXIT_USAGE = 2;

  @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
      description = "Show stack traces and debug logs on errors.")
  boolean debug;

  public static void main(String[] args) {
    int exit = run(args);
    AdminClient.release();
    System.exit(exit);
  }

  static int run(String... args) {
    CommandLine cli = new CommandLine(new Rackroll());
    // picocli builds each command's model by reflection, which showed in profiles of every call:
    // only the command asked for is built, unless help or a mistake needs the whole list.
    Optional<Class<?>> asked = Arrays.stream(args).filter(a -> !a.startsWith("-")).findFirst()
        .flatMap(name -> COMMANDS.stream().filter(c -> names(c).contains(name)).findFirst())
        .filter(c -> c != CommandLine.HelpCommand.class);
    (asked.isPresent() ? List.of(asked.get()) : COMMANDS).forEach(c -> cli.addSubcommand(c));
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      boolean debug = parsed.matchedOption("--debug") != null
          || parsed.subcommands().stream().anyMatch(p -> p.matchedOption("--debug") != null);
      if (debug) {
        e.printStackTrace();
      }
      if (e instanceof UsageError) {
        cmd.getErr().println("rackroll: " + e.getMessage() + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
        return EXIT_USAGE;
      }
      cmd.getErr().println("rackroll: " + describe(e));
      return EXIT_FAILURE;
    });
    cli.setParameterExceptionHandler((e, a) -> {
      List<String> like = e instanceof CommandLine.UnmatchedArgumentException u ? u.getSuggestions() : List.of();
      e.getCommandLine().getErr().println("rackroll: " + e.getMessage()
          + (like.isEmpty() ? "" : "; did you mean " + String.join(" or ", like.subList(0, Math.min(3, like.size())))
              + "?")
          + " (see '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
      return EXIT_USAGE;
    });
    return cli.execute(args);
  }

  private static List<String> names(Class<?> command) {
    Command c = command.getAnnotation(Command.class);
    List<String> names = new java.util.ArrayList<>(Arrays.asList(c.aliases()));
    names.add(c.name());
    return names;
  }

  /** The one line an operator reads: the message, never a class name unless there is nothing else. */
  static String describe(Throwable e) {
    if (e instanceof io.rackroll.release.ManifestException) {
      return e.getMessage() + " (fix the manifest and try again)";
    }
    if (e instanceof StatusRuntimeException s) {
      return AdminClient.describe(s);
    }
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"rackroll " + io.rackroll.controller.server.ControllerServer.version()};
    }
  }
}
