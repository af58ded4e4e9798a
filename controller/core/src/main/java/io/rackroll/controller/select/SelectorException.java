package io.rackroll.controller.select;

import io.rackroll.wire.Names;

/** A selector that does not parse; the message quotes it and points at the character (1-based column). */
public final class SelectorException extends IllegalArgumentException {
  private final int column;

  SelectorException(String selector, int offset, String problem) {
    // Quoted printable, so that a selector with a line break in it is still refused on one line.
    super("selector \"" + Names.printable(selector) + "\" at column " + (offset + 1) + ": " + Names.printable(problem));
    this.column = offset + 1;
  }

  /** 1-based position of the offending character. */
  public int column() {
    return column;
  }
}
