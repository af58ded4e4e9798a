package io.rackroll.controller.cli;

import io.rackroll.wire.ManPages;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code rackroll man DIR} (hidden): writes the manual pages, as AsciiDoc, for the package build
 * to turn into troff. Operators read them with {@code man rackroll}, {@code man rackroll-deploy}.
 */
@Command(name = "man", hidden = true, description = "Write the manual pages (AsciiDoc) into DIR.")
final class ManCommand implements Callable<Integer> {
  @Parameters(paramLabel = "DIR")
  Path dir;

  @Override
  public Integer call() throws Exception {
    CommandLine all = new CommandLine(new Rackroll());
    Rackroll.COMMANDS.stream().filter(c -> c != CommandLine.HelpCommand.class).forEach(all::addSubcommand);
    ManPages.write(all, dir);
    return 0;
  }
}
