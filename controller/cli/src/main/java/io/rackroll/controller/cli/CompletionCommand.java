package io.rackroll.controller.cli;

import io.rackroll.wire.ShellCompletion;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code rackroll completion bash|zsh}: the shell completion script picocli generates from the
 * commands themselves, so it never lags behind them. The packages install it; by hand:
 * {@code source <(rackroll completion bash)}.
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
    description = {"Print the shell completion script for bash or zsh.",
        "The packages install it; otherwise add to ~/.bashrc or ~/.zshrc: source <(rackroll completion bash|zsh)"})
final class CompletionCommand implements Callable<Integer> {
  @Parameters(paramLabel = "SHELL", description = "bash or zsh")
  ShellCompletion.Shell shell;

  @Override
  public Integer call() {
    CommandLine all = new CommandLine(new Rackroll());
    Rackroll.COMMANDS.forEach(all::addSubcommand);
    System.out.print(ShellCompletion.script("rackroll", all, shell));
    return 0;
  }
}
