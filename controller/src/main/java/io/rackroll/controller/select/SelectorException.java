package io.rackroll.controller.select;

/** A selector that does not parse; the message quotes it and points at the character (1-based column). */
public final class SelectorException extends IllegalArgumentException {
  private final int column;

  SelectorException(String selector, int offset, String problem) {
    super("selector \"" + selector + "\" at column " + (offset + 1) + ": " + problem);
    this.column = offset + 1;
  }

  /** 1-based position of the offending character. */
  public int column() {
    return column;
  }
}
