package io.rackroll.wire;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * A program's manual pages, from picocli's generator, so they never lag behind the commands:
 * one AsciiDoc page per command and subcommand ({@code rackroll.adoc}, {@code rackroll-deploy.adoc},
 * …), which the package build turns into troff (section 1) with Asciidoctor.
 */
public final class ManPages {
  private ManPages() {
  }

  /** Writes the pages of {@code command} and of every subcommand it shows in its help into {@code dir}. */
  public static void write(CommandLine command, Path dir) throws IOException {
    Files.createDirectories(dir);
    int exit = ManPageGenerator.generateManPage(dir.toFile(), null, new boolean[0], true, command.getCommandSpec());
    if (exit != 0) {
      throw new IOException("cannot write the manual pages to " + dir + " (exit " + exit + ")");
    }
  }
}
