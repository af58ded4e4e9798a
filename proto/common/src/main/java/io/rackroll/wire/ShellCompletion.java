package io.rackroll.wire;

import picocli.CommandLine;

/**
 * Shell completion for a program's commands, from picocli's generator, so it never lags behind
 * them: the bash script, and for zsh the same run through zsh's bash completion layer, which works
 * both as a file on zsh's fpath ({@code _NAME}, with its {@code #compdef} line) and sourced.
 */
public final class ShellCompletion {
  public enum Shell { bash, zsh }

  private ShellCompletion() {
  }

  public static String script(String name, CommandLine command, Shell shell) {
    String bash = picocli.AutoComplete.bash(name, command);
    if (shell == Shell.bash) {
      return bash;
    }
    return "#compdef " + name + "\n"
        + "# zsh completion for " + name + ", through zsh's bash completion layer.\n"
        + "autoload -U +X compinit && { (( $+functions[compdef] )) || compinit; }\n"
        + "autoload -U +X bashcompinit && bashcompinit\n"
        + bash + "\n"
        + "# Loaded from fpath by the first completion: complete that one too.\n"
        + "if [[ -n ${funcstack[1]:-} && ${funcstack[1]} == _" + name + " ]]; then\n"
        + "  _bash_complete -F _complete_" + name + "\n"
        + "fi\n";
  }
}
